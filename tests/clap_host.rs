//! A real CLAP host (clack-host) loads the bundled `Livechain.clap` and checks what a DAW relies
//! on: the descriptor, activation at common rates, sample-accurate parameter events, the gain
//! after smoothing, state save/load, and a bit-exact bypass.
//!
//! Needs the bundled `Livechain.clap`: `cargo xtask test` bundles it first.

mod common;
use common::clap::*;
use common::rms;

#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn descriptor_names_the_plugin_and_its_features() {
    let entry = load_entry();
    let factory = entry.get_plugin_factory().expect("plugin factory");
    let descs: Vec<_> = factory.plugin_descriptors().collect();
    assert_eq!(descs.len(), 1);
    let d = &descs[0];
    assert_eq!(d.id().unwrap().to_str().unwrap(), PLUGIN_ID);
    assert_eq!(d.name().unwrap().to_str().unwrap(), "Livechain");
    let features: Vec<String> = d.features().map(|f| f.to_string_lossy().into_owned()).collect();
    for want in ["audio-effect", "stereo", "mono"] {
        assert!(features.iter().any(|f| f == want), "feature {want} missing from {features:?}");
    }
}

#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn gain_events_are_sample_accurate_and_settle_exactly_at_every_rate() {
    let entry = load_entry();
    for sr in [44_100.0, 48_000.0, 96_000.0] {
        let mut inst = new_instance(entry);
        let table = param_table(&mut inst);
        let in_gain = param_id(&table, "Input Gain");
        let out_gain = param_id(&table, "Output Gain");
        let plus6 = text_value(&mut inst, in_gain, "6");
        let minus3 = text_value(&mut inst, out_gain, "-3.5");
        let frames = (sr as usize) / 2;
        let input = stereo_noise(frames, 0.25, 7);
        // The event lands in the middle of the first 256-frame block.
        let at = 100;
        let out = process(&mut inst, sr, 256, &input, &[(at, in_gain, plus6), (at, out_gain, minus3)]);
        for ch in 0..2 {
            for i in 0..at {
                assert_eq!(out[ch][i], input[ch][i], "sample {i} before the event is untouched");
            }
            assert_ne!(out[ch][at + 1], input[ch][at + 1], "the change starts at the event's sample");
            // After the 20 ms ramp: +6 − 3.5 = +2.5 dB, to 0.01 dB.
            let settle = at + (0.025 * sr) as usize;
            let db = 20.0 * (rms(&out[ch][settle..]) / rms(&input[ch][settle..])).log10();
            assert!((db - 2.5).abs() < 0.01, "{sr} Hz ch{ch}: gain {db:.4} dB, want 2.5");
        }
        assert!((get_value(&mut inst, in_gain) - plus6).abs() < 1e-9);
    }
}

#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn state_saved_from_one_instance_restores_into_another() {
    let entry = load_entry();
    let mut a = new_instance(entry);
    let table = param_table(&mut a);
    let changes = [("Input Gain", "-7.25"), ("Output Gain", "4.5"), ("Dry/Wet", "37.5")];
    let events: Vec<(usize, ClapId, f64)> = changes
        .iter()
        .map(|(name, text)| {
            let id = param_id(&table, name);
            (0, id, text_value(&mut a, id, text))
        })
        .collect();
    process(&mut a, 48_000.0, 128, &stereo_noise(4096, 0.1, 3), &events);
    let saved = save(&mut a);
    let mut b = new_instance(entry);
    assert!(load(&mut b, &saved), "the saved state loads");
    for (name, id, _, _, default) in &table {
        let va = get_value(&mut a, *id);
        let vb = get_value(&mut b, *id);
        assert!((va - vb).abs() < 1e-9, "{name}: saved {va}, restored {vb}");
        if changes.iter().any(|c| c.0 == name) {
            assert!((vb - default).abs() > 1e-6, "{name} was changed from its default");
        }
    }
}

#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn bypass_passes_the_input_bit_for_bit_after_its_fade() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let bypass = param_id(&table, "Bypass");
    let in_gain = param_id(&table, "Input Gain");
    let loud = text_value(&mut inst, in_gain, "12");
    let input = stereo_noise(48_000, 0.3, 11);
    let out = process(&mut inst, 48_000.0, 512, &input, &[(0, in_gain, loud), (10_000, bypass, 1.0)]);
    // The 10 ms equal-power fade is over 480 samples after the event.
    for ch in 0..2 {
        assert!(rms(&out[ch][5_000..9_000]) > 3.0 * rms(&input[ch][5_000..9_000]), "gain active before");
        assert_eq!(&out[ch][10_600..], &input[ch][10_600..], "bypassed output equals input");
        // No click: the fade never jumps more than the signals themselves do.
        let max_in_step = input[ch].windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max) * 4.0;
        for i in 9_990..10_600 {
            assert!((out[ch][i + 1] - out[ch][i]).abs() <= max_in_step * 1.01, "jump at {i}");
        }
    }
}

#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn a_hand_made_older_state_loads_through_the_migration() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    // Layout v0: no schema field, input gain under `gain`, dry/wet as a 0–1 fraction `drywet`.
    let v0 = br#"{"version":"0.0.9","params":{"gain":{"f32":-4.5},"drywet":{"f32":0.25},"out_gain":{"f32":2.0}},"fields":{}}"#;
    assert!(load(&mut inst, &framed(v0)), "the v0 state loads");
    let value_of = |inst: &mut PluginInstance<TestHost>, name: &str, text: &str| {
        let id = param_id(&table, name);
        (get_value(inst, id), text_value(inst, id, text))
    };
    for (name, text) in [("Input Gain", "-4.5"), ("Dry/Wet", "25"), ("Output Gain", "2")] {
        let (got, want) = value_of(&mut inst, name, text);
        assert!((got - want).abs() < 1e-6, "{name}: {got} after migration, want {want}");
    }
}

/// The latency reported through the CLAP latency extension is the delay the audio really has:
/// with 2 ms of compressor lookahead at 48 kHz and 5 ms at 96 kHz the plugin reports 96 and 480
/// samples, and an impulse comes out exactly that many samples late. CLAP allows
/// `latency.changed()` only inside `activate` (the test host fails any other, see
/// `common::clap::MainThread`), in both orders a host can take:
/// - the lookahead changes while processing, and the host deactivates the plugin before its event
///   loop runs the plugin's main-thread callback: the notice waits for the next activation;
/// - the lookahead changes on an inactive instance, then the host activates, processes,
///   deactivates and runs the main-thread callback: the same.
#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn reported_latency_is_the_measured_delay_and_changes_only_inside_activate() {
    let entry = load_entry();
    let late_by = |out: &[Vec<f32>], at: usize| {
        out[0].iter().enumerate().fold((0, 0.0f32), |m, (i, &x)| if x.abs() > m.1 { (i, x.abs()) } else { m }).0 - at
    };
    let frames = 4_000;
    let at = 1_000;
    let mut input = [vec![0.0f32; frames], vec![0.0f32; frames]];
    input[0][at] = 0.5;
    input[1][at] = 0.5;
    let notices = |inst: &mut PluginInstance<TestHost>| {
        inst.access_shared_handler(|s| s.restarts.load(std::sync::atomic::Ordering::Relaxed)) as u32
            + inst.access_handler(|m| m.latency_changed.get())
    };

    // The change arrives while processing; the host deactivates, then pumps its event loop.
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let (look, comp, thresh) = (param_id(&table, "Lookahead"), param_id(&table, "Compressor"), param_id(&table, "Threshold"));
    for (rate, ms, want) in [(48_000.0, "2", 96u32), (96_000.0, "5", 480)] {
        let events = vec![(0, comp, 1.0), (0, thresh, text_value(&mut inst, thresh, "0")), (0, look, text_value(&mut inst, look, ms))];
        let before = notices(&mut inst);
        process(&mut inst, rate, 256, &input, &events);
        pump_main_thread(&mut inst);
        let outside = inst.access_handler(|m| m.latency_changed_outside_activate.get());
        assert_eq!(outside, 0, "{rate} Hz: latency.changed was called outside activate (deactivated, then the main-thread callback)");
        // The host restarts: the notice comes inside the new activation, which reports the new
        // latency, and the audio is late by exactly that much.
        let out = process(&mut inst, rate, 256, &input, &[]);
        pump_main_thread(&mut inst);
        assert!(notices(&mut inst) > before, "{rate} Hz: the host was not told that the latency changed");
        let reported = reported_latency(&mut inst);
        assert_eq!(reported, want, "{rate} Hz, {ms} ms lookahead: reported {reported}");
        assert_eq!(late_by(&out, at), want as usize, "{rate} Hz: the impulse came out late by another amount than {want}");
    }

    // The change is made while inactive (a flush); then activate, process, deactivate, pump.
    let mut inst = new_instance(entry);
    let look_3ms = text_value(&mut inst, look, "3");
    flush(&mut inst, &[(comp, 1.0), (look, look_3ms)]);
    let out = process(&mut inst, 48_000.0, 256, &input, &[]);
    pump_main_thread(&mut inst);
    assert_eq!(reported_latency(&mut inst), 144);
    assert_eq!(late_by(&out, at), 144);
    let out = process(&mut inst, 48_000.0, 256, &input, &[]);
    pump_main_thread(&mut inst);
    assert_eq!(late_by(&out, at), 144);
    assert_eq!(inst.access_handler(|m| m.latency_changed_outside_activate.get()), 0);
}

/// After the host's reset the smoothers start at their targets: a gain changed just before a
/// CLAP `reset`, or before a deactivate and activate, applies in full from the first sample after
/// it, instead of gliding from the old value over the next 20 ms.
#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn a_reset_starts_from_the_current_settings() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let out_gain = param_id(&table, "Output Gain");
    let minus12 = text_value(&mut inst, out_gain, "-12");
    let minus3 = text_value(&mut inst, out_gain, "-3");
    let silence = vec![vec![0.0f32; 256]; 2];
    let mut impulse = silence.clone();
    impulse[0][100] = 1.0;
    impulse[1][100] = 1.0;
    let gain = |db: f32| 10f32.powf(db / 20.0);

    // CLAP reset on a running processor, right after the change.
    select_channels(&mut inst, 2);
    let config = PluginAudioConfiguration { sample_rate: 48_000.0, min_frames_count: 1, max_frames_count: 256 };
    let stopped = activate(&mut inst, config);
    let (silence_ref, impulse_ref) = (&silence, &impulse);
    let stopped = std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let mut proc = stopped.start_processing().expect("starts processing");
                let change = [(10, out_gain, minus12)];
                run_started(
                    &mut proc,
                    &Spec { sample_rate: 48_000.0, blocks: &[256], in_place: false, events: &change, side: None, notes: &[] },
                    silence_ref,
                );
                proc.reset();
                let out = run_started(
                    &mut proc,
                    &Spec { sample_rate: 48_000.0, blocks: &[256], in_place: false, events: &[], side: None, notes: &[] },
                    impulse_ref,
                );
                for ch in 0..2 {
                    assert!((out[ch][100] - gain(-12.0)).abs() < 1e-5, "after reset: {} (want {})", out[ch][100], gain(-12.0));
                }
                proc.stop_processing()
            })
            .join()
            .expect("the audio thread")
    });
    inst.deactivate(stopped);

    // A change, then a deactivate and activate.
    let change = [(10, out_gain, minus3)];
    run(&mut inst, &Spec { sample_rate: 48_000.0, blocks: &[256], in_place: false, events: &change, side: None, notes: &[] }, &silence);
    let out =
        run(&mut inst, &Spec { sample_rate: 48_000.0, blocks: &[256], in_place: false, events: &[], side: None, notes: &[] }, &impulse);
    for ch in 0..2 {
        assert!((out[ch][100] - gain(-3.0)).abs() < 1e-5, "after reactivation: {} (want {})", out[ch][100], gain(-3.0));
    }
}

/// The tail is reported (CLAP tail extension) from the settings, and once the input is silent
/// and that tail has rung out the plugin lets the host sleep (`CONTINUE_IF_NOT_QUIET` instead of
/// `CONTINUE`) and puts out exact zeros. With the delay at 350 ms and 35 % feedback the echoes
/// fall 20·log10(1/0.35) = 9.12 dB a repeat: 150 dB take 0.35 · (1 + 150 / 9.12) = 6.11 s, longer
/// than the reverb's 1.2 s RT60 to 150 dB (3.0 s) after its 10 ms pre-delay.
#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn the_tail_is_reported_and_the_host_may_sleep_once_it_has_rung_out() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let events = [(0, param_id(&table, "Delay"), 1.0), (0, param_id(&table, "Reverb"), 1.0)];
    let want = (0.35 * (1.0 + 150.0 / (-20.0 * 0.35f64.log10())) * 48_000.0) as i64;
    let tail: clack_extensions::tail::PluginTail = inst.plugin_handle().get_extension().expect("tail extension");
    select_channels(&mut inst, 2);
    let config = PluginAudioConfiguration { sample_rate: 48_000.0, min_frames_count: 1, max_frames_count: 512 };
    let stopped = activate(&mut inst, config);
    let noise: Vec<Vec<f32>> = stereo_noise(48_000, 0.25, 3).into();
    let stopped = std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let mut proc = stopped.start_processing().expect("starts processing");
                let blocks = [512usize];
                let spec = Spec { sample_rate: 48_000.0, blocks: &blocks, in_place: false, events: &events, side: None, notes: &[] };
                let (_, statuses) = run_started_with_status(&mut proc, &spec, &noise);
                assert!(statuses.iter().all(|s| *s == ProcessStatus::Continue), "{statuses:?}");
                let reported = match tail.get(&proc.plugin_handle()) {
                    clack_extensions::tail::TailLength::Finite(n) => n as i64,
                    other => panic!("tail {other:?}"),
                };
                assert!((reported - want).abs() <= 2, "tail {reported} samples, want {want}");
                let silence = vec![vec![0.0f32; want as usize + 48_000]; 2];
                let spec = Spec { events: &[], ..spec };
                let (out, statuses) = run_started_with_status(&mut proc, &spec, &silence);
                let first_quiet =
                    statuses.iter().position(|s| *s == ProcessStatus::ContinueIfNotQuiet).expect("never let the host sleep") * 512;
                assert!(
                    (want as usize..want as usize + 1024).contains(&first_quiet),
                    "let the host sleep after {first_quiet} samples, the tail is {want}"
                );
                assert!(statuses[first_quiet / 512..].iter().all(|s| *s == ProcessStatus::ContinueIfNotQuiet));
                assert!(out.iter().all(|c| c[first_quiet..].iter().all(|&x| x == 0.0)), "not silent once idle");
                proc.stop_processing()
            })
            .join()
            .expect("the audio thread")
    });
    inst.deactivate(stopped);
}
