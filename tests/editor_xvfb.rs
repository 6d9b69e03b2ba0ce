//! The editor in a real window: the standalone under Xvfb on a dummy JACK server, a tone fed to
//! its inputs, and screenshots that show the meters and the spectrum move with the signal and
//! fall back when it stops; then the in-plugin loop probe, clicked with xdotool, measures a JACK
//! loop from its output to its input. Where the spectrum and the button are comes from the
//! editor's layout record (`LIVECHAIN_EDITOR_LAYOUT`). Needs Xvfb, xwd, jackd and the bundled binary (`cargo xtask test`).

mod common;
use common::jack::{ports, start_server, wait_for, wait_or, Stop};
use common::xwd::{screenshot, Image};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// The meters' solid colours (src/editor/meters.rs): peak green and yellow, RMS blue.
const METER_COLOURS: [[u8; 3]; 3] = [[70, 200, 110], [230, 200, 60], [30, 110, 170]];

fn meter_pixels(img: &Image) -> usize {
    METER_COLOURS.iter().map(|&c| img.count(c, 6, 0, img.width)).sum()
}

/// Blue-tinted pixels in the EQ's picture (the spectrum's trace and the area under it), whose
/// rectangle `r` the editor's layout record gives.
fn spectrum_pixels(img: &Image, r: [f32; 4]) -> usize {
    let mut n = 0;
    for y in r[1] as usize..img.height.min(r[3] as usize) {
        for x in r[0] as usize..img.width.min(r[2] as usize) {
            let [red, _, b] = img.rgb[y * img.width + x];
            if b as i32 - red as i32 > 25 {
                n += 1;
            }
        }
    }
    n
}

/// What to know when the meters stay dark: whether the editor is still drawing and the audio still
/// running (the frames drawn and blocks processed over a second: both come from the editor's
/// record, so a window that stopped drawing stops both), what its meters read (the audio path),
/// where they are and what colours that part of the screen holds (the drawing), the JACK graph and
/// the standalone's log.
fn why_no_meters(server: &str, display: &str, layout: &std::path::Path, log: &Mutex<String>) -> String {
    let before = common::editor::read_record(layout);
    std::thread::sleep(Duration::from_secs(1));
    let record = common::editor::read_record(layout);
    let field = |r: &Option<serde_json::Value>, f: &str| r.as_ref().map(|v| v[f].clone()).unwrap_or_default();
    let mut out = format!(
        "editor frames: {} then, a second later, {}; audio blocks processed: {} then {}\n",
        field(&before, "frames"),
        field(&record, "frames"),
        field(&before, "audio_blocks"),
        field(&record, "audio_blocks")
    );
    if let Some(v) = &record {
        out += &format!("the editor's meter readings (dBFS): {}; window {}, zoom {}\n", v["levels"], v["window"], v["zoom"]);
        let img = screenshot(display);
        match common::editor::find_rect(v, "meters:levels") {
            Some(r) => {
                let mut census = std::collections::HashMap::<[u8; 3], usize>::new();
                for y in r[1].max(0.0) as usize..img.height.min(r[3] as usize) {
                    for x in r[0].max(0.0) as usize..img.width.min(r[2] as usize) {
                        *census.entry(img.rgb[y * img.width + x]).or_default() += 1;
                    }
                }
                let mut top: Vec<_> = census.into_iter().collect();
                top.sort_by_key(|c| std::cmp::Reverse(c.1));
                out += &format!("the meters at {r:?} (points; the zoom above); their commonest colours: {:?}\n", &top[..top.len().min(6)]);
            }
            None => out += "no meters in the layout record\n",
        }
    } else {
        out += "no layout record\n";
    }
    let graph = common::jack::lsp(server, &["-c"]).unwrap_or_else(|| "(jack_lsp failed, or had no answer in 5 s)".into());
    out += &format!("JACK ports and connections:\n{graph}\nthe standalone's log:\n{}", log.lock().unwrap());
    out
}

fn jack(server: &str, args: &[&str]) -> bool {
    Command::new(args[0]).args(&args[1..]).env("JACK_DEFAULT_SERVER", server).status().map(|s| s.success()).unwrap_or(false)
}

#[test]
#[ignore = "system: runs the bundled standalone under Xvfb (cargo xtask test)"]
fn meters_and_spectrum_follow_the_signal_in_a_real_window() {
    let bin = common::bundled("Livechain");
    assert!(bin.exists(), "{} is missing: run `cargo xtask test`", bin.display());
    let (_xvfb, display) = common::xvfb::start();

    let server = format!("livechain-editor-{}", std::process::id());
    let _jackd = start_server(&server, 256);
    let layout = std::env::temp_dir().join(format!("livechain-editor-xvfb-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&layout);
    let mut app = Command::new(&bin)
        .args(["--backend", "jack"])
        .env("LIVECHAIN_EDITOR_LAYOUT", &layout)
        .env("DISPLAY", &display)
        .env("JACK_DEFAULT_SERVER", &server)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the standalone");
    let log = Arc::new(Mutex::new(String::new()));
    {
        let (stderr, log) = (app.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&(line + "\n"));
            }
        });
    }
    let _app = Stop(app);
    wait_for("Livechain's JACK ports", Duration::from_secs(30), || ports(&server).unwrap_or_default().contains("livechain:input_2"));
    // The window is up once egui has painted its dark panels over the black root window.
    wait_for("the editor window", Duration::from_secs(30), || screenshot(&display).count([27, 27, 27], 4, 0, 1280) > 100_000);
    std::thread::sleep(Duration::from_secs(1));
    // Where the EQ's picture (over the live spectrum) and the loop probe's button are.
    let rect_of = |id: &str| common::editor::read_record(&layout).and_then(|v| common::editor::find_rect(&v, id));
    wait_for("the layout record", Duration::from_secs(20), || rect_of("graph:response").is_some_and(|r| r[2] < 1300.0));
    let graph = rect_of("graph:response").unwrap();
    let silent = screenshot(&display);
    assert!(meter_pixels(&silent) < 50, "meters lit with no signal: {} pixels", meter_pixels(&silent));

    // A tone into both inputs.
    let _tone = Stop(
        Command::new("jack_simple_client")
            .env("JACK_DEFAULT_SERVER", &server)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("jack_simple_client (jackd2)"),
    );
    wait_for("the tone's ports", Duration::from_secs(20), || ports(&server).unwrap_or_default().contains("jack_simple_client:output2"));
    assert!(jack(&server, &["jack_connect", "jack_simple_client:output1", "livechain:input_1"]));
    assert!(jack(&server, &["jack_connect", "jack_simple_client:output2", "livechain:input_2"]));
    // The meters rise within a frame or two; a loaded machine rendering with llvmpipe may take
    // longer, so wait for it rather than for a fixed time.
    // (A screenshot every quarter second: each is a full-screen xwd, which competes with the
    // software rendering being waited for.)
    wait_or(
        "the meters to rise with the signal",
        Duration::from_secs(30),
        || {
            std::thread::sleep(Duration::from_millis(200));
            meter_pixels(&screenshot(&display)) >= 2_000
        },
        || why_no_meters(&server, &display, &layout, &log),
    );
    std::thread::sleep(Duration::from_millis(500));
    let playing = screenshot(&display);
    if let Ok(path) = std::env::var("LIVECHAIN_SCREENSHOT") {
        let out = Command::new("xwd").args(["-root", "-silent", "-display", &display, "-out", &path]).status().unwrap();
        assert!(out.success());
    }
    // Still lit half a second on, with the tone still playing.
    let lit = meter_pixels(&playing);
    assert!(
        lit >= 2_000,
        "the meters went dark with the signal still on: {lit} pixels\n{}",
        why_no_meters(&server, &display, &layout, &log)
    );
    let trace = spectrum_pixels(&playing, graph);
    assert!(
        trace > 2 * spectrum_pixels(&silent, graph) + 3_000,
        "no spectrum with the signal: {trace} vs {} pixels",
        spectrum_pixels(&silent, graph)
    );

    // Signal off: the peak bars fall at 20 dB/s and the RMS empties within 300 ms.
    assert!(jack(&server, &["jack_disconnect", "jack_simple_client:output1", "livechain:input_1"]));
    assert!(jack(&server, &["jack_disconnect", "jack_simple_client:output2", "livechain:input_2"]));
    // 2.5 s: 50 dB of fall (the tone is at −14 dBFS), and the RMS long empty.
    std::thread::sleep(Duration::from_millis(2500));
    let after = meter_pixels(&screenshot(&display));
    assert!(after < lit / 2, "meters did not fall after the signal stopped: {after} vs {lit} pixels");
    eprintln!(
        "meter pixels: silent {}, playing {lit}, 2.5 s after {after}; spectrum {} then {trace}",
        meter_pixels(&silent),
        spectrum_pixels(&silent, graph)
    );

    // The in-plugin loop probe, through its button: a JACK loop from Livechain's first output
    // to its first input delays by one period (256 frames), which is what it must measure.
    assert!(jack(&server, &["jack_connect", "livechain:output_1", "livechain:input_1"]));
    let b = rect_of("header:probe").expect("the Measure loop button in the header");
    let (x, y) = (((b[0] + b[2]) / 2.0) as usize, ((b[1] + b[3]) / 2.0) as usize);
    eprintln!("Measure loop button at ({x}, {y})");
    let clicked = Command::new("xdotool")
        .args(["mousemove", &x.to_string(), &y.to_string(), "click", "1"])
        .env("DISPLAY", &display)
        .status()
        .expect("xdotool (Debian xdotool) must be installed");
    assert!(clicked.success());
    wait_for("the probe's result", Duration::from_secs(20), || log.lock().unwrap().contains("loop probe:"));
    let text = log.lock().unwrap().clone();
    let line = text.lines().find(|l| l.contains("loop probe:")).unwrap();
    let samples: f64 = line
        .split("round trip ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no measurement in: {line}"));
    eprintln!("{line}");
    assert!((samples - 256.0).abs() <= 1.0, "the probe measured {samples} samples for a 256-frame JACK loop");
}
