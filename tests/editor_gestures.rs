//! The editor's edits as a CLAP host sees them: the bundled `.clap`'s editor embedded in an
//! Xvfb screen while an audio thread processes, clicked and dragged with xdotool. A stage switched
//! on from its tile and a knob dragged must each reach the host from `process()` as one gesture:
//! begin, the new values, end, in that order, for that parameter, ending at the value the plugin
//! holds; and a value the host automates must show in the editor. Where the widgets are comes
//! from the editor's layout record (`LIVECHAIN_EDITOR_LAYOUT`). Needs Xvfb, xdotool and the test
//! bundle (`cargo xtask test`).

mod common;
use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
use common::clap::*;
use common::editor::{dial, read_record as record, Editor};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

fn xdotool(display: &str, args: &[String]) {
    assert!(Command::new("xdotool").args(args).env("DISPLAY", display).status().expect("xdotool").success());
    std::thread::sleep(Duration::from_millis(120));
}

/// The events for parameter `id`, from the plugin's output so far.
fn events_for(id: u32) -> Vec<(OutKind, f64)> {
    OUT_EVENTS.lock().unwrap().iter().filter(|e| e.1 == id).map(|e| (e.0, e.2)).collect()
}

/// One complete gesture: begin, at least one value, end, and nothing else around them.
fn one_gesture(events: &[(OutKind, f64)], what: &str) -> Vec<f64> {
    assert!(events.len() >= 3, "{what}: {events:?}");
    assert_eq!(events.first().unwrap().0, OutKind::Begin, "{what} starts with a gesture begin: {events:?}");
    assert_eq!(events.last().unwrap().0, OutKind::End, "{what} ends with a gesture end: {events:?}");
    let inner = &events[1..events.len() - 1];
    assert!(inner.iter().all(|e| e.0 == OutKind::Value), "{what}: only values inside the gesture: {events:?}");
    inner.iter().map(|e| e.1).collect()
}

#[test]
#[ignore = "system: opens the bundled CLAP's editor under Xvfb (cargo xtask test)"]
fn editor_edits_reach_the_host_as_gestures() {
    let (_xvfb, display) = common::xvfb::start();
    let layout = std::env::temp_dir().join(format!("livechain-gestures-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&layout);
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("DISPLAY", &display);
        std::env::set_var("LIBGL_ALWAYS_SOFTWARE", "1");
        std::env::set_var("LIVECHAIN_EDITOR_LAYOUT", &layout);
    }
    let root = common::xvfb::root_window(&display);
    let mut inst = new_instance(load_entry());
    let table = param_table(&mut inst);
    let (reverb, gain, freq) = (param_id(&table, "Reverb"), param_id(&table, "Bell 2 Gain"), param_id(&table, "Bell 2 Freq"));
    // CLAP values are normalized: the host's value for 2.5 kHz, as the plugin parses it.
    let freq_2500 = text_value(&mut inst, freq, "2500");
    select_channels(&mut inst, 2);
    let stopped = activate(&mut inst, PluginAudioConfiguration { sample_rate: 48_000.0, min_frames_count: 1, max_frames_count: 256 });
    let done = AtomicBool::new(false);
    // Values the host automates, delivered in the next block.
    let automation: Mutex<Vec<(usize, ClapId, f64)>> = Mutex::new(Vec::new());
    let stopped = std::thread::scope(|s| {
        let audio = s.spawn(|| {
            let mut proc = stopped.start_processing().unwrap();
            let input = stereo_noise(256, 0.1, 3);
            while !done.load(Ordering::Relaxed) {
                let events: Vec<(usize, ClapId, f64)> = std::mem::take(&mut *automation.lock().unwrap());
                let out = run_started(
                    &mut proc,
                    &Spec { sample_rate: 48_000.0, blocks: &[256], in_place: false, events: &events, side: None, notes: &[] },
                    &input,
                );
                assert!(out.iter().flatten().all(|x| x.is_finite()));
                std::thread::sleep(Duration::from_millis(5));
            }
            proc.stop_processing()
        });

        // Whatever fails below, the audio thread stops, so the scope can end and report it.
        let _stop = common::StopOnDrop(&done);
        let gui: PluginGui = inst.plugin_handle().get_extension().expect("gui extension");
        let x11 = GuiConfiguration { api_type: GuiApiType::X11, is_floating: false };
        gui.create(&inst.plugin_handle(), x11).expect("gui create");
        // SAFETY: the root window outlives the editor.
        unsafe { gui.set_parent(&inst.plugin_handle(), Window::from_x11_handle(root as _)) }.expect("set_parent");
        gui.show(&inst.plugin_handle()).expect("show");
        pump_until(&mut inst, "the editor's layout record", Duration::from_secs(60), || {
            record(&layout).is_some_and(|v| v["window"][0].as_f64().is_some_and(|w| w < 2000.0))
        });
        let v = record(&layout).unwrap();
        let px = |x: f32, y: f32| [x.round().to_string(), y.round().to_string()];

        // The reverb's switch on its tile: one gesture ending at 1.
        let (x, y) = Editor::centre(Editor::rect(&v, "switch:reverb"));
        let [sx, sy] = px(x, y);
        xdotool(&display, &["mousemove".into(), sx, sy, "click".into(), "1".into()]);
        pump_until(&mut inst, "the reverb switch's gesture", Duration::from_secs(15), || {
            events_for(reverb.get()).last().is_some_and(|e| e.0 == OutKind::End)
        });
        let values = one_gesture(&events_for(reverb.get()), "the reverb switch");
        assert_eq!(values, vec![1.0], "the switch sends 1 once");
        assert_eq!(get_value(&mut inst, reverb), 1.0);
        eprintln!("reverb switch: {:?}", events_for(reverb.get()));

        // Bell 2's gain knob dragged up 40 points: one gesture, rising to +9.6 dB.
        let r = Editor::rect(&v, "knob:eq3_gain");
        let (x, y) = dial(r);
        let [sx, sy] = px(x, y);
        xdotool(&display, &["mousemove".into(), sx, sy, "mousedown".into(), "1".into()]);
        for k in 1..=20 {
            let [mx, my] = px(x, y - 2.0 * k as f32);
            xdotool(&display, &["mousemove".into(), mx, my]);
            pump_main_thread(&mut inst);
        }
        xdotool(&display, &["mouseup".into(), "1".into()]);
        pump_until(&mut inst, "the knob's gesture", Duration::from_secs(15), || {
            events_for(gain.get()).last().is_some_and(|e| e.0 == OutKind::End)
        });
        let values = one_gesture(&events_for(gain.get()), "the gain knob drag");
        assert!(values.windows(2).all(|w| w[1] >= w[0]), "an upward drag only raises the value: {values:?}");
        let last = *values.last().unwrap();
        eprintln!("gain knob: {} values in one gesture, ending at {last:.3} (normalized; +{:.2} dB)", values.len(), (last - 0.5) * 48.0);
        // CLAP values are normalized: 0 dB is 0.5 of the ±24 dB range, +9.6 dB is 0.7.
        assert!((last - 0.7).abs() < 0.01, "a 40-point drag ends at {last} (normalized), not 0.7 (+9.6 dB)");
        assert!((get_value(&mut inst, gain) - last).abs() < 1e-6, "the host's value is the last one sent");

        // The host automates Bell 2's frequency: the editor shows it.
        automation.lock().unwrap().push((0, freq, freq_2500));
        pump_until(&mut inst, "the automated frequency in the editor", Duration::from_secs(15), || {
            record(&layout).is_some_and(|v| (v["params"]["eq3_freq"].as_f64().unwrap_or(0.0) - 2500.0).abs() < 0.5)
        });
        eprintln!("host automation to 2500 Hz shows in the editor");
        let _ = gui.hide(&inst.plugin_handle());
        gui.destroy(&inst.plugin_handle());
        // The window's thread must be gone before Xvfb is: Xlib ends the whole process (exit
        // status 1) when its server vanishes under an open connection.
        pump_until(&mut inst, "the editor window to close", Duration::from_secs(20), || {
            common::xwd::screenshot(&display).count([27, 27, 27], 4, 0, 1280) < 1_000
        });
        done.store(true, Ordering::Relaxed);
        audio.join().expect("the audio thread")
    });
    inst.deactivate(stopped);
}
