//! Whole-chain behaviour through the in-process host: gains against their dB values, block-size
//! invariance under automation, real-time safety, bad input, and state migration.

mod common;
use common::*;
use livechain::host::{Event, OfflineHost};

fn stereo(x: Vec<f32>, y: Vec<f32>) -> Vec<Vec<f32>> {
    vec![x, y]
}

#[test]
fn gains_match_their_db_values_after_the_ramp() {
    for (in_db, out_db) in [(6.0f32, 0.0f32), (-12.0, 3.0), (24.0, -30.0), (-36.0, 24.0)] {
        let mut host = OfflineHost::new(48_000.0, 2);
        let input = stereo(noise(48_000, 0.1, 1), noise(48_000, 0.1, 2));
        let mut buf = input.clone();
        host.run(
            &mut buf,
            64,
            &[Event { time: 0, id: "in_gain".into(), value: in_db }, Event { time: 0, id: "out_gain".into(), value: out_db }],
        )
        .unwrap();
        let skip = 1_200; // 25 ms: past the 20 ms ramp
        for ch in 0..2 {
            let got = db(rms(&buf[ch][skip..]) / rms(&input[ch][skip..]));
            assert!((got - (in_db + out_db) as f64).abs() < 0.01, "{in_db}+{out_db} dB: got {got}");
        }
    }
}

#[test]
fn smoothing_is_a_20_ms_linear_ramp_in_db() {
    let sr = 48_000.0;
    let mut host = OfflineHost::new(sr, 1);
    let mut buf = vec![vec![1.0f32; 4_800]];
    host.run(&mut buf, 4_800, &[Event { time: 1_000, id: "in_gain".into(), value: -20.0 }]).unwrap();
    let ramp = (0.020 * sr) as usize;
    // Halfway through the ramp the gain is −10 dB; at its end −20 dB, and it stays there.
    let mid = 20.0 * buf[0][1_000 + ramp / 2].log10();
    assert!((mid + 10.0).abs() < 0.1, "mid-ramp {mid} dB");
    let end = 20.0 * buf[0][1_000 + ramp + 5].log10();
    assert!((end + 20.0).abs() < 1e-3, "end {end} dB");
    assert_eq!(buf[0][999], 1.0, "nothing changes before the event");
}

#[test]
fn dry_wet_at_zero_percent_returns_the_gained_input() {
    let mut host = OfflineHost::new(44_100.0, 2);
    let input = stereo(noise(8_000, 0.2, 9), noise(8_000, 0.2, 10));
    let mut buf = input.clone();
    host.run(&mut buf, 100, &[Event { time: 0, id: "mix".into(), value: 0.0 }, Event { time: 0, id: "in_gain".into(), value: 6.0 }])
        .unwrap();
    let g = 10f32.powf(6.0 / 20.0);
    for ch in 0..2 {
        for i in 2_000..8_000 {
            assert!((buf[ch][i] - input[ch][i] * g).abs() < 1e-5);
        }
    }
}

/// Every stage on, at musical settings.
const ALL_ON: &[(&str, f32)] = &[
    ("hp_on", 1.0),
    ("hp_freq", 90.0),
    ("hp_slope", 1.0),
    ("lp_on", 1.0),
    ("lp_freq", 12_000.0),
    ("fb_on", 1.0),
    ("fb_sens", 80.0),
    // The canceller too: it cuts the chain's chunks at its blocks and adapts on the output.
    ("fb_mode", 3.0),
    ("gate_on", 1.0),
    ("gate_thresh", -45.0),
    ("gate_lookahead", 1.0),
    ("eq_on", 1.0),
    ("eq1_gain", 4.0),
    ("eq3_gain", -6.0),
    ("eq3_q", 3.0),
    ("eq5_gain", 3.0),
    ("agc_on", 1.0),
    ("comp_on", 1.0),
    ("comp_thresh", -24.0),
    ("comp_ratio", 4.0),
    ("comp_lookahead", 3.0),
    ("comp_automakeup", 1.0),
    ("deess_on", 1.0),
    ("voc_on", 1.0),
    ("voc_mix", 60.0),
    ("dly_on", 1.0),
    ("dly_time", 180.0),
    ("dly_feedback", 60.0),
    ("dly_pingpong", 1.0),
    ("rev_on", 1.0),
    ("rev_decay", 2.5),
    ("rev_mix", 30.0),
    ("ceiling_on", 1.0),
];

fn all_on(sr: f32, channels: usize) -> OfflineHost {
    let mut host = OfflineHost::new(sr, channels);
    for (id, v) in ALL_ON {
        host.set(id, *v).unwrap();
    }
    host.settle();
    host
}

/// Random automation of gains, mixes, switches and every stage's main controls.
fn automation(len: usize, seed: u64) -> Vec<Event> {
    let ids: &[(&str, f32, f32)] = &[
        ("in_gain", -24.0, 24.0),
        ("out_gain", -24.0, 6.0),
        ("mix", 0.0, 100.0),
        ("bypass", 0.0, 1.0),
        ("hp_freq", 10.0, 2_000.0),
        ("lp_freq", 500.0, 20_000.0),
        ("hp_on", 0.0, 1.0),
        ("fb_on", 0.0, 1.0),
        ("fb_sens", 0.0, 100.0),
        ("fb_depth", 3.0, 24.0),
        ("fb_width", 0.0125, 0.1),
        ("fb_release", 1.0, 60.0),
        ("fb_count", 1.0, 16.0),
        ("fb_learn", 0.0, 1.0),
        ("fb_clear", 0.0, 1.0),
        ("fb_mode", 0.0, 3.0),
        ("gate_thresh", -70.0, -20.0),
        ("gate_release", 5.0, 500.0),
        ("gate_on", 0.0, 1.0),
        ("eq3_freq", 100.0, 12_000.0),
        ("eq3_gain", -24.0, 24.0),
        ("eq5_q", 0.3, 20.0),
        ("eq2_on", 0.0, 1.0),
        ("eq_on", 0.0, 1.0),
        ("deess_thresh", -30.0, 0.0),
        ("deess_freq", 2_000.0, 12_000.0),
        ("deess_on", 0.0, 1.0),
        ("voc_on", 0.0, 1.0),
        ("voc_bands", 4.0, 64.0),
        ("voc_shift", -12.0, 12.0),
        ("voc_lo", 50.0, 1_000.0),
        ("voc_attack", 0.5, 100.0),
        ("voc_carrier", 0.0, 2.0),
        ("voc_mix", 0.0, 100.0),
        ("comp_thresh", -40.0, 0.0),
        ("comp_ratio", 1.0, 20.0),
        ("comp_attack", 0.1, 100.0),
        ("agc_target", -30.0, -10.0),
        ("dly_time", 5.0, 800.0),
        ("dly_feedback", 0.0, 95.0),
        ("dly_on", 0.0, 1.0),
        ("rev_decay", 0.2, 8.0),
        ("rev_size", 0.0, 100.0),
        ("rev_on", 0.0, 1.0),
        ("ceiling", -12.0, 0.0),
    ];
    let mut rng = Lcg(seed);
    let mut t = 0;
    let mut events = Vec::new();
    while t < len {
        let (id, lo, hi) = ids[rng.range(0, ids.len() - 1)];
        let mut v = lo + (hi - lo) * rng.unit();
        if hi == 1.0 && lo == 0.0 {
            v = v.round();
        }
        events.push(Event { time: t, id: id.into(), value: v });
        t += rng.range(1, 2_000);
    }
    events
}

#[test]
fn block_size_does_not_change_the_output() {
    let len = 30_000;
    let input = stereo(noise(len, 0.5, 21), noise(len, 0.5, 22));
    let events = automation(len, 99);
    let render = |block: usize| {
        let mut host = all_on(48_000.0, 2);
        let mut buf = input.clone();
        host.run(&mut buf, block, &events).unwrap();
        buf
    };
    let reference = render(4096);
    for block in [1usize, 32, 64, 4096] {
        let out = render(block);
        for ch in 0..2 {
            let worst = out[ch].iter().zip(&reference[ch]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-5, "block {block}: differs by {worst}");
        }
    }
    // Random block sizes.
    let mut rng = Lcg(5);
    let mut host = all_on(48_000.0, 2);
    let mut buf = input.clone();
    let mut pos = 0;
    let mut next = 0;
    while pos < len {
        let end = (pos + rng.range(1, 700)).min(len);
        let evs: Vec<Event> =
            events[next..].iter().take_while(|e| e.time < end).map(|e| Event { time: e.time - pos, ..e.clone() }).collect();
        next += evs.len();
        let mut part: Vec<Vec<f32>> = buf.iter().map(|c| c[pos..end].to_vec()).collect();
        host.run(&mut part, 4096, &evs).unwrap();
        for ch in 0..2 {
            buf[ch][pos..end].copy_from_slice(&part[ch]);
        }
        pos = end;
    }
    for ch in 0..2 {
        let worst = buf[ch].iter().zip(&reference[ch]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-5, "random blocks: differs by {worst}");
    }
}

/// The canceller learns only after a howl is found, and what it learns does not depend on the
/// host's blocks: noise with a tone growing 100 dB/s (a howl, found by the detector, which urges
/// the canceller) through the suppressor in mode canceller, at block sizes 1 to 4096 and at
/// random ones, gives the same output; and that output is not mode "notch + fixed + shift"'s
/// (the same without the canceller), so the canceller did learn and cancel.
#[test]
fn the_cancellers_learning_is_block_size_invariant() {
    let sr = 48_000.0;
    let len = 48_000;
    let tone = |i: usize| {
        let t = i as f32 / sr;
        (0.001 * 10f32.powf(5.0 * t)).min(0.3) * (std::f32::consts::TAU * 2_000.0 * t).sin()
    };
    let input: Vec<Vec<f32>> =
        (0..2).map(|ch| noise(len, 0.05, 31 + ch as u32).iter().enumerate().map(|(i, x)| x + tone(i)).collect()).collect();
    let render = |mode: f32, blocks: &mut dyn FnMut() -> usize| {
        let mut host = OfflineHost::new(sr, 2);
        for (id, v) in [("fb_on", 1.0), ("fb_mode", mode)] {
            host.set(id, v).unwrap();
        }
        host.settle();
        let mut buf = input.clone();
        let mut pos = 0;
        while pos < len {
            let end = (pos + blocks()).min(len);
            let mut part: Vec<Vec<f32>> = buf.iter().map(|c| c[pos..end].to_vec()).collect();
            host.run(&mut part, end - pos, &[]).unwrap();
            for ch in 0..2 {
                buf[ch][pos..end].copy_from_slice(&part[ch]);
            }
            pos = end;
        }
        (buf, host.bridge.fb_found.load(std::sync::atomic::Ordering::Relaxed))
    };
    let (reference, found) = render(3.0, &mut || 4096);
    assert!(found > 0, "the growing tone was not found as a howl");
    let mut rng = Lcg(17);
    for (name, mut blocks) in [
        ("1", Box::new(|| 1usize) as Box<dyn FnMut() -> usize>),
        ("37", Box::new(|| 37)),
        ("64", Box::new(|| 64)),
        ("random", Box::new(move || rng.range(1, 900))),
    ] {
        let (out, _) = render(3.0, &mut *blocks);
        for ch in 0..2 {
            let worst = out[ch].iter().zip(&reference[ch]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-5, "blocks of {name}: differs by {worst}");
        }
    }
    let (without, _) = render(2.0, &mut || 4096);
    let differ = reference[0].iter().zip(&without[0]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    println!("the canceller's output against mode notch + fixed + shift's: up to {differ:e} apart");
    assert!(differ > 1e-4, "the canceller changed nothing ({differ:e}): it did not learn");
}

#[test]
fn bad_input_never_gives_bad_output_and_the_chain_recovers() {
    let sr = 48_000.0;
    let mut host = all_on(sr, 2);
    // Compare against a clean instance with the same settings after recovery.
    let mut clean = all_on(sr, 2);
    let tiny = f32::MIN_POSITIVE / 8.0;
    let bad = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, tiny, -tiny];
    let mut buf: Vec<Vec<f32>> = (0..2).map(|ch| (0..4_800).map(|i| bad[(i + ch) % bad.len()]).collect()).collect();
    host.run(&mut buf, 256, &[]).unwrap();
    for x in buf.iter().flatten() {
        assert!(x.is_finite() && !x.is_subnormal(), "bad output {x}");
    }
    // Subnormal input alone must come out as exact zeros, not as subnormals.
    let mut fresh = OfflineHost::new(sr, 2);
    let mut sub = vec![vec![tiny; 512], vec![-tiny; 512]];
    fresh.run(&mut sub, 64, &[]).unwrap();
    assert!(sub.iter().flatten().all(|&x| x == 0.0));
    // Within one second of normal input, the output is what a never-poisoned instance gives:
    // the delay and reverb tails of the garbage (zeros after sanitising) are gone or tiny.
    let input = stereo(sine(96_000, 440.0, sr, 0.1), sine(96_000, 220.0, sr, 0.1));
    let mut a = input.clone();
    let mut b = input.clone();
    host.run(&mut a, 256, &[]).unwrap();
    clean.run(&mut b, 256, &[]).unwrap();
    for ch in 0..2 {
        assert!(a[ch].iter().all(|x| x.is_finite()));
        let level = rms(&b[ch][48_000..]);
        let diff: Vec<f32> = a[ch][48_000..].iter().zip(&b[ch][48_000..]).map(|(x, y)| x - y).collect();
        assert!(level > 0.01, "the chain passes signal");
        assert!(rms(&diff) < 0.1 * level, "not recovered after 1 s: residue {} vs level {level}", rms(&diff));
    }
}

#[cfg(feature = "assert_process_allocs")]
#[test]
fn process_never_allocates() {
    let mut host = all_on(48_000.0, 2);
    let mut l = noise(4096, 0.3, 1);
    let mut r = noise(4096, 0.3, 2);
    host.set("mix", 50.0).unwrap();
    host.set("dly_sync", 1.0).unwrap();
    host.set_tempo(Some(128.0));
    nice_assert_no_alloc::assert_no_alloc(|| {
        for i in 0..40 {
            if i == 20 {
                // A latency change and a bypass fade inside the checked region.
                host.set("comp_lookahead", 7.0).unwrap();
                host.set("bypass", 1.0).unwrap();
            }
            let mut slices: [&mut [f32]; 2] = [&mut l[..], &mut r[..]];
            host.process(&mut slices);
        }
    });
}

#[test]
fn an_older_saved_state_is_migrated() {
    use livechain::state::{migrate, Migration, STATE_SCHEMA};
    use nice_plug::plugin::{ParamValue, PluginState};
    // A v0 state exactly as the prototype wrote it: no schema, `gain` and a 0–1 `drywet`.
    let json = r#"{"version":"0.0.9","params":{"gain":{"f32":-4.5},"drywet":{"f32":0.25},"out_gain":{"f32":2.0}},"fields":{}}"#;
    let mut state: PluginState = serde_json::from_str(json).unwrap();
    assert_eq!(migrate(&mut state), Migration::Upgraded { from: 0 });
    let f = |k: &str| match state.params.get(k) {
        Some(ParamValue::F32(v)) => *v,
        other => panic!("{k}: {other:?}"),
    };
    assert_eq!(f("in_gain"), -4.5);
    assert_eq!(f("mix"), 25.0);
    assert_eq!(f("out_gain"), 2.0);
    assert!(!state.params.contains_key("gain") && !state.params.contains_key("drywet"));
    assert_eq!(state.fields["schema"], STATE_SCHEMA.to_string());
    let mut current = state.clone();
    assert_eq!(migrate(&mut current), Migration::Current);
    current.fields.insert("schema".into(), "99".into());
    assert_eq!(migrate(&mut current), Migration::FromFuture { version: 99 });
}

#[test]
fn a_state_saved_before_the_gate_eq_de_esser_feedback_suppressor_and_vocoder_loads_with_them_off() {
    use livechain::state::{migrate, Migration};
    use nice_plug::plugin::{ParamValue, PluginState};
    let json = r#"{"version":"0.1.0","params":{"comp_on":{"bool":true},"in_gain":{"f32":3.0}},"fields":{"schema":"1"}}"#;
    let mut state: PluginState = serde_json::from_str(json).unwrap();
    assert_eq!(migrate(&mut state), Migration::Upgraded { from: 1 });
    for id in ["gate_on", "eq_on", "deess_on", "fb_on", "voc_on"] {
        assert!(matches!(state.params.get(id), Some(ParamValue::Bool(false))), "{id}: {:?}", state.params.get(id));
    }
    assert!(matches!(state.params.get("comp_on"), Some(ParamValue::Bool(true))));
    // A v3 state (the suppressor, no vocoder) gets the vocoder off and keeps the suppressor on.
    let json = r#"{"version":"0.1.0","params":{"fb_on":{"bool":true}},"fields":{"schema":"3"}}"#;
    let mut v3: PluginState = serde_json::from_str(json).unwrap();
    assert_eq!(migrate(&mut v3), Migration::Upgraded { from: 3 });
    assert!(matches!(v3.params.get("voc_on"), Some(ParamValue::Bool(false))));
    assert!(matches!(v3.params.get("fb_on"), Some(ParamValue::Bool(true))));
    // A v4 state (before the notch count) gets the eight dynamic notches every earlier build
    // had, whatever the instance it loads into is set to.
    assert!(matches!(v3.params.get("fb_count"), Some(ParamValue::I32(8))));
    let json = r#"{"version":"0.1.0","params":{"fb_on":{"bool":true},"voc_on":{"bool":true}},"fields":{"schema":"4"}}"#;
    let mut v4: PluginState = serde_json::from_str(json).unwrap();
    assert_eq!(migrate(&mut v4), Migration::Upgraded { from: 4 });
    assert!(matches!(v4.params.get("fb_count"), Some(ParamValue::I32(8))), "{:?}", v4.params.get("fb_count"));
    assert!(matches!(v4.params.get("voc_on"), Some(ParamValue::Bool(true))));
    // A current state keeps what it says.
    let mut current = state.clone();
    current.params.insert("eq_on".into(), ParamValue::Bool(true));
    assert_eq!(migrate(&mut current), Migration::Current);
    assert!(matches!(current.params.get("eq_on"), Some(ParamValue::Bool(true))));
}

#[test]
fn parameter_ids_are_permanent() {
    // Saved projects refer to these IDs: this list may grow, never change.
    let frozen = [
        "in_gain",
        "hp_on",
        "hp_freq",
        "hp_slope",
        "lp_on",
        "lp_freq",
        "lp_slope",
        "agc_on",
        "agc_target",
        "agc_range",
        "agc_speed",
        "agc_gate",
        "comp_on",
        "comp_thresh",
        "comp_ratio",
        "comp_knee",
        "comp_attack",
        "comp_release",
        "comp_makeup",
        "comp_automakeup",
        "comp_lookahead",
        "dly_on",
        "dly_time",
        "dly_sync",
        "dly_note",
        "dly_feel",
        "dly_feedback",
        "dly_tone",
        "dly_pingpong",
        "dly_mix",
        "rev_on",
        "rev_predelay",
        "rev_size",
        "rev_decay",
        "rev_damping",
        "rev_mod",
        "rev_width",
        "rev_early",
        "rev_mix",
        "out_gain",
        "mix",
        "bypass",
        "ceiling_on",
        "ceiling",
        "gate_on",
        "gate_thresh",
        "gate_hyst",
        "gate_attack",
        "gate_hold",
        "gate_release",
        "gate_range",
        "gate_lookahead",
        "gate_sc_hp",
        "gate_sc_lp",
        "eq_on",
        "eq1_on",
        "eq1_freq",
        "eq1_gain",
        "eq1_q",
        "eq2_on",
        "eq2_freq",
        "eq2_gain",
        "eq2_q",
        "eq3_on",
        "eq3_freq",
        "eq3_gain",
        "eq3_q",
        "eq4_on",
        "eq4_freq",
        "eq4_gain",
        "eq4_q",
        "eq5_on",
        "eq5_freq",
        "eq5_gain",
        "eq5_q",
        "deess_on",
        "deess_freq",
        "deess_width",
        "deess_thresh",
        "deess_range",
        "deess_mode",
        "deess_listen",
        "fb_on",
        "fb_mode",
        "fb_sens",
        "fb_depth",
        "fb_width",
        "fb_release",
        "fb_count",
        "fb_learn",
        "fb_clear",
        "voc_on",
        "voc_carrier",
        "voc_wave",
        "voc_hold",
        "voc_root",
        "voc_chord",
        "voc_bands",
        "voc_lo",
        "voc_hi",
        "voc_width",
        "voc_attack",
        "voc_release",
        "voc_shift",
        "voc_unvoiced",
        "voc_noise",
        "voc_level",
        "voc_mix",
    ];
    let host = OfflineHost::new(48_000.0, 2);
    let ids: Vec<&str> = host.param_ids().collect();
    for id in frozen {
        assert!(ids.contains(&id), "parameter {id} disappeared");
    }
    assert_eq!(ids.len(), frozen.len(), "new parameters must be added to the frozen list: {ids:?}");
}

#[test]
fn every_parameter_shows_its_unit_and_parses_what_it_shows() {
    use nice_plug::params::Params;
    let params = livechain::params::LivechainParams::default();
    for (id, ptr, _) in params.param_map() {
        // SAFETY: the pointers belong to `params`, alive for the whole loop.
        unsafe {
            let norm = ptr.default_normalized_value();
            let text = ptr.normalized_value_to_string(norm, true);
            assert!(!text.trim().is_empty(), "{id} has no text");
            let unit = ptr.unit();
            if !unit.is_empty() {
                assert!(text.ends_with(unit.trim()), "{id}: {text:?} lacks its unit {unit:?}");
            }
            let shown = ptr.normalized_value_to_string(norm, false);
            let back = ptr.string_to_normalized_value(&shown).unwrap_or_else(|| panic!("{id}: cannot parse {shown:?}"));
            assert!((back - norm).abs() < 0.01, "{id}: {shown:?} parses to {back}, shown from {norm}");
        }
    }
}

#[test]
fn the_safety_ceiling_holds_whatever_comes_in() {
    let sr = 48_000.0;
    let mut host = all_on(sr, 2);
    host.set("in_gain", 36.0).unwrap();
    host.set("out_gain", 24.0).unwrap();
    host.set("ceiling", -1.0).unwrap();
    host.settle();
    let mut buf = stereo(noise(48_000, 1.0, 3), noise(48_000, 1.0, 4));
    host.run(&mut buf, 333, &[]).unwrap();
    let limit = 10f32.powf(-1.0 / 20.0);
    let peak = buf.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak <= limit, "peak {peak} above the ceiling {limit}");
    assert!(peak > 0.9 * limit, "and the ceiling is what limits: {peak}");
}

#[test]
fn the_reported_latency_is_the_impulse_peak_through_the_whole_chain() {
    // The compressor's and the gate's lookaheads add up; the filters, the EQ (whose IIR bands and
    // half-bands smear an impulse over a few samples) and the AGC are off so the peak is sharp.
    for (lookahead, gate) in [(0.0f32, 0.0f32), (4.0, 1.0), (10.0, 5.0)] {
        let sr = 48_000.0;
        let mut host = all_on(sr, 2);
        host.set("comp_lookahead", lookahead).unwrap();
        host.set("gate_lookahead", gate).unwrap();
        host.set("hp_on", 0.0).unwrap();
        host.set("lp_on", 0.0).unwrap();
        host.set("eq_on", 0.0).unwrap();
        host.set("agc_on", 0.0).unwrap();
        host.settle();
        let latency = host.latency();
        let mut buf = stereo(vec![0.0; 8_192], vec![0.0; 8_192]);
        buf[0][100] = 0.5;
        buf[1][100] = 0.5;
        host.run(&mut buf, 64, &[]).unwrap();
        let peak = (0..8_192).max_by(|&a, &b| buf[0][a].abs().total_cmp(&buf[0][b].abs())).unwrap();
        assert_eq!(peak - 100, latency, "lookahead {lookahead} ms, gate {gate} ms");
        assert_eq!(latency, (lookahead * 0.001 * sr).round() as usize + (gate * 0.001 * sr).round() as usize);
    }
}

#[test]
fn silence_after_signal_leaves_no_subnormal_state() {
    let sr = 48_000.0;
    let mut host = all_on(sr, 2);
    host.set("rev_decay", 0.5).unwrap();
    host.set("dly_feedback", 30.0).unwrap();
    let mut buf = stereo(noise(48_000, 0.5, 1), noise(48_000, 0.5, 2));
    host.run(&mut buf, 256, &[]).unwrap();
    let mut silence = stereo(vec![0.0; 48_000 * 20], vec![0.0; 48_000 * 20]);
    host.run(&mut silence, 256, &[]).unwrap();
    assert!(!host.chain.has_subnormal_state());
    assert!(silence.iter().flatten().all(|x| !x.is_subnormal()));
}
