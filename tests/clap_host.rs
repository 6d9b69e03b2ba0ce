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
/// samples, and an impulse comes out exactly that many samples late. A lookahead changed while
/// processing makes the plugin tell the host (on the main thread: a restart request while
/// active, `latency.changed()` once deactivated), and the next activation reports the new value.
#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn reported_latency_is_the_measured_delay_and_changes_through_a_restart() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let look = param_id(&table, "Lookahead");
    let comp = param_id(&table, "Compressor");
    let thresh = param_id(&table, "Threshold");
    for (rate, ms, want) in [(48_000.0, "2", 96u32), (96_000.0, "5", 480)] {
        let events = vec![(0, comp, 1.0), (0, thresh, text_value(&mut inst, thresh, "0")), (0, look, text_value(&mut inst, look, ms))];
        // First activation: the change arrives in the first block.
        let notices = |inst: &mut PluginInstance<TestHost>| {
            inst.access_shared_handler(|s| s.restarts.load(std::sync::atomic::Ordering::Relaxed)) as u32
                + inst.access_handler(|m| m.latency_changed.get())
        };
        let before = notices(&mut inst);
        let frames = 4_000;
        let mut input = [vec![0.0f32; frames], vec![0.0f32; frames]];
        let at = 1_000;
        input[0][at] = 0.5;
        input[1][at] = 0.5;
        process(&mut inst, rate, 256, &input, &events);
        // The host's event loop runs the main-thread callback the plugin asked for.
        pump_main_thread(&mut inst);
        assert!(notices(&mut inst) > before, "{rate} Hz: the host was not told that the latency changed");
        // The host restarts: the new activation reports the new latency, and the audio is late
        // by exactly that much.
        let out = process(&mut inst, rate, 256, &input, &[]);
        let reported = reported_latency(&mut inst);
        assert_eq!(reported, want, "{rate} Hz, {ms} ms lookahead: reported {reported}");
        let peak = out[0].iter().enumerate().fold((0, 0.0f32), |m, (i, &x)| if x.abs() > m.1 { (i, x.abs()) } else { m }).0;
        assert_eq!(peak - at, want as usize, "{rate} Hz: the impulse came out {} samples late, reported {want}", peak - at);
    }
}
