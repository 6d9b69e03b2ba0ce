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
            &[
                Event { time: 0, id: "in_gain".into(), value: in_db },
                Event { time: 0, id: "out_gain".into(), value: out_db },
            ],
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
    host.run(
        &mut buf,
        100,
        &[Event { time: 0, id: "mix".into(), value: 0.0 }, Event { time: 0, id: "in_gain".into(), value: 6.0 }],
    )
    .unwrap();
    let g = 10f32.powf(6.0 / 20.0);
    for ch in 0..2 {
        for i in 2_000..8_000 {
            assert!((buf[ch][i] - input[ch][i] * g).abs() < 1e-5);
        }
    }
}

fn automation(len: usize, seed: u64) -> Vec<Event> {
    let mut rng = Lcg(seed);
    let mut t = 0;
    let mut events = Vec::new();
    while t < len {
        let (id, v) = match rng.range(0, 3) {
            0 => ("in_gain", -24.0 + 48.0 * rng.unit()),
            1 => ("out_gain", -24.0 + 30.0 * rng.unit()),
            2 => ("mix", 100.0 * rng.unit()),
            _ => ("bypass", if rng.unit() > 0.5 { 1.0 } else { 0.0 }),
        };
        events.push(Event { time: t, id: id.into(), value: v });
        t += rng.range(1, 3_000);
    }
    events
}

#[test]
fn block_size_does_not_change_the_output() {
    let len = 30_000;
    let input = stereo(noise(len, 0.5, 21), noise(len, 0.5, 22));
    let events = automation(len, 99);
    let render = |block: usize| {
        let mut host = OfflineHost::new(48_000.0, 2);
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
    let mut host = OfflineHost::new(48_000.0, 2);
    let mut buf = input.clone();
    let mut pos = 0;
    let mut next = 0;
    while pos < len {
        let end = (pos + rng.range(1, 700)).min(len);
        let evs: Vec<Event> = events[next..]
            .iter()
            .take_while(|e| e.time < end)
            .map(|e| Event { time: e.time - pos, ..e.clone() })
            .collect();
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

#[test]
fn bad_input_never_gives_bad_output_and_the_chain_recovers() {
    let sr = 48_000.0;
    let mut host = OfflineHost::new(sr, 2);
    host.set("in_gain", 12.0).unwrap();
    let tiny = f32::MIN_POSITIVE / 8.0;
    let bad = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, tiny, -tiny];
    let mut buf: Vec<Vec<f32>> = (0..2).map(|ch| (0..4_800).map(|i| bad[(i + ch) % bad.len()]).collect()).collect();
    host.run(&mut buf, 256, &[]).unwrap();
    for x in buf.iter().flatten() {
        assert!(x.is_finite() && !x.is_subnormal(), "bad output {x}");
    }
    // Subnormal input alone must come out as exact zeros, not as subnormals.
    let mut sub = vec![vec![tiny; 512], vec![-tiny; 512]];
    host.run(&mut sub, 64, &[]).unwrap();
    assert!(sub.iter().flatten().all(|&x| x == 0.0));
    // Within one second of normal input, the output is the normal gained input again.
    let input = stereo(sine(48_000, 440.0, sr, 0.1), sine(48_000, 220.0, sr, 0.1));
    let mut buf = input.clone();
    host.run(&mut buf, 256, &[]).unwrap();
    let g = 10f64.powf(12.0 / 20.0);
    for ch in 0..2 {
        let got = rms(&buf[ch][24_000..]) / rms(&input[ch][24_000..]);
        assert!((db(got / g)).abs() < 0.01, "not recovered: {} dB off", db(got / g));
    }
}

#[cfg(feature = "assert_process_allocs")]
#[test]
fn process_never_allocates() {
    let mut host = OfflineHost::new(48_000.0, 2);
    let mut l = noise(4096, 0.3, 1);
    let mut r = noise(4096, 0.3, 2);
    for (i, v) in [(0, 12.0), (1, -6.0)] {
        host.set(["in_gain", "out_gain"][i], v).unwrap();
    }
    host.set("mix", 50.0).unwrap();
    host.set("bypass", 1.0).unwrap();
    nice_assert_no_alloc::assert_no_alloc(|| {
        for _ in 0..20 {
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
