//! The editor opened and closed again and again through the CLAP gui extension, embedded into
//! an Xvfb screen, while an audio thread keeps processing: every time the window paints and
//! goes away again, audio never stops (the processing thread keeps counting blocks through
//! each open and close), nothing allocates in `process()` (the test bundle aborts if it does),
//! and when the instance is destroyed no plugin or bridge is left alive (the editor released
//! what it shared with the audio thread). Needs Xvfb, xwd, xwininfo and the bundled `.clap`
//! (`cargo xtask test`).

mod common;
use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
use common::clap::*;
use common::xwd::screenshot;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// The editor's dark panel colour (egui's dark theme) covers most of its window.
fn panel_pixels(display: &str) -> usize {
    screenshot(display).count([27, 27, 27], 4, 0, 1280)
}

#[test]
#[ignore = "system: opens the bundled CLAP's editor under Xvfb (cargo xtask test)"]
fn the_editor_opens_and_closes_repeatedly_while_audio_runs() {
    let (_xvfb, display) = common::xvfb::start();
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("DISPLAY", &display);
        std::env::set_var("LIBGL_ALWAYS_SOFTWARE", "1");
    }
    let root = common::xvfb::root_window(&display);
    let entry = load_entry();
    // SAFETY: the library clack-host loaded; the symbol is `extern "C" fn() -> usize`.
    let lib = unsafe { libloading::Library::new(bundle_path()) }.unwrap();
    let live: libloading::Symbol<unsafe extern "C" fn() -> usize> = unsafe { lib.get(b"livechain_live_objects") }.unwrap();

    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    select_channels(&mut inst, 2);
    let config = PluginAudioConfiguration { sample_rate: 48_000.0, min_frames_count: 1, max_frames_count: 256 };
    let stopped = activate(&mut inst, config);
    let done = AtomicBool::new(false);
    let blocks = AtomicUsize::new(0);
    let cycles = 6;
    let stopped = std::thread::scope(|s| {
        let audio = s.spawn(|| {
            let mut proc = stopped.start_processing().unwrap();
            let on: Vec<(usize, ClapId, f64)> =
                ["High-Pass", "Compressor", "Delay", "Reverb"].iter().map(|n| (0, param_id(&table, n), 1.0)).collect();
            let input = stereo_noise(2560, 0.3, 8);
            let mut first = true;
            while !done.load(Ordering::Relaxed) {
                let events: &[(usize, ClapId, f64)] = if first { &on } else { &[] };
                first = false;
                let blocks_ = [256usize];
                let out = run_started(
                    &mut proc,
                    &Spec { sample_rate: 48_000.0, blocks: &blocks_, in_place: false, events, side: None, notes: &[] },
                    &input,
                );
                assert!(out.iter().flatten().all(|x| x.is_finite()));
                blocks.fetch_add(10, Ordering::Relaxed);
                // About real time, as a sound card would pace it.
                std::thread::sleep(Duration::from_millis(50));
            }
            proc.stop_processing()
        });
        // (A panic below still ends the audio loop: the test fails instead of hanging.)
        let _stop = common::StopOnDrop(&done);

        let gui: PluginGui = inst.plugin_handle().get_extension().expect("gui extension");
        let x11 = GuiConfiguration { api_type: GuiApiType::X11, is_floating: false };
        assert!(gui.is_api_supported(&inst.plugin_handle(), x11), "X11 embedding is supported");
        let mut painted = Vec::new();
        for cycle in 0..cycles {
            gui.create(&inst.plugin_handle(), x11).expect("gui create");
            let size = gui.get_size(&inst.plugin_handle()).expect("gui size");
            // SAFETY: the root window outlives the editor.
            unsafe { gui.set_parent(&inst.plugin_handle(), Window::from_x11_handle(root as _)) }.expect("set_parent");
            gui.show(&inst.plugin_handle()).expect("show");
            let before = blocks.load(Ordering::Relaxed);
            let mut pixels = 0;
            pump_until(&mut inst, &format!("the editor to paint (cycle {cycle})"), Duration::from_secs(40), || {
                pixels = panel_pixels(&display);
                pixels > 100_000
            });
            painted.push(pixels);
            // Audio ran while the window opened and painted.
            pump_until(&mut inst, "audio while the editor is open", Duration::from_secs(10), || {
                blocks.load(Ordering::Relaxed) > before + 20
            });
            let _ = gui.hide(&inst.plugin_handle());
            gui.destroy(&inst.plugin_handle());
            pump_until(
                &mut inst,
                &format!("the editor to close (cycle {cycle}, {}x{})", size.width, size.height),
                Duration::from_secs(20),
                || panel_pixels(&display) < 1_000,
            );
            let before = blocks.load(Ordering::Relaxed);
            pump_until(&mut inst, "audio after the editor closed", Duration::from_secs(10), || {
                blocks.load(Ordering::Relaxed) > before + 20
            });
        }
        done.store(true, Ordering::Relaxed);
        println!(
            "editor opened and closed {cycles} times ({painted:?} panel pixels when open); {} blocks processed meanwhile",
            blocks.load(Ordering::Relaxed)
        );
        audio.join().expect("the audio thread")
    });
    inst.deactivate(stopped);
    drop(inst);
    // SAFETY: see above.
    assert_eq!(unsafe { live() }, 0, "a plugin or bridge outlived the instance after the editor was used");
}
