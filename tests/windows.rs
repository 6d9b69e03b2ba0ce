//! The Windows build (cross-built by `cargo xtask test` into target/test-bundle-windows) run
//! under Wine against the Linux build of the same commit: `render` of a file with every stage on
//! and the built-in `demo` give the same samples, and the Windows standalone opens its editor in
//! a real window (Wine on Xvfb), whose screenshot goes to target/screenshots/windows-editor.png.
//! The CLAP host tests themselves also run as Windows programs under Wine (xtask/src/windows.rs).
#![cfg(target_os = "linux")]

mod common;
use common::jack::{wait_for, wait_or, Stop};
use common::wine;
use common::xwd::screenshot;
use livechain::render;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// One Wine program at a time: the tests share a prefix and its wineserver, and on two cores the
/// render (every stage on, the canceller learning) starved the editor's start, whose window then
/// took longer than its wait (a CI run).
static WINE: Mutex<()> = Mutex::new(());

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("livechain-windows-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn ok(out: Output, what: &str) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{what} failed ({}):\n{text}{}", out.status, String::from_utf8_lossy(&out.stderr));
    text
}

/// The two WAV files hold the same samples, bit for bit; otherwise the largest difference and
/// where it is.
fn assert_same_samples(linux: &Path, windows: &Path, what: &str) -> usize {
    let (a, ra) = render::read_wav(linux).unwrap();
    let (b, rb) = render::read_wav(windows).unwrap();
    assert_eq!(ra, rb, "{what}: sample rates differ");
    assert_eq!(a.len(), b.len(), "{what}: channel counts differ");
    for (ch, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x.len(), y.len(), "{what}: channel {ch} lengths differ");
        let differ = x.iter().zip(y).filter(|(p, q)| p.to_bits() != q.to_bits()).count();
        if differ > 0 {
            let (i, d) =
                x.iter().zip(y).map(|(p, q)| (p - q).abs()).enumerate().fold((0, 0.0f32), |m, (i, d)| if d > m.1 { (i, d) } else { m });
            panic!("{what}: channel {ch}: {differ} samples differ, the largest by {d:e} ({:.1} dBFS) at sample {i}", 20.0 * d.log10());
        }
    }
    a[0].len()
}

/// The report lines both builds print, without the DSP load (a timing).
fn figures(report: &str) -> Vec<&str> {
    report.lines().filter(|l| !l.contains("DSP load") && !l.starts_with("wrote")).collect()
}

#[test]
#[ignore = "system: runs the Windows build under Wine (cargo xtask test)"]
fn render_and_demo_under_wine_give_the_linux_builds_samples() {
    let _one = WINE.lock().unwrap_or_else(|e| e.into_inner());
    let linux = common::bundled("Livechain");
    let windows = wine::bundled("Livechain.exe");
    // Every stage on (the IDs from the chain's own list), on noise with full-scale clicks, a
    // rising tone and a tone growing 60 dB/s (a howl: the suppressor notches it and its canceller,
    // urged, learns): filters, dynamics, the suppressor's detector and canceller, the vocoder,
    // delay and reverb all do work, in 4 s at 44.1 kHz.
    let stages = ok(Command::new(&linux).arg("stages").output().unwrap(), "livechain stages");
    let mut sets: Vec<String> = stages.lines().filter_map(|l| l.split('\t').next()).map(|id| format!("--set={id}=1")).collect();
    sets.push("--set=fb_mode=3".into());
    let sr = 44_100u32;
    let n = 4 * sr as usize;
    let input: Vec<Vec<f32>> = (0..2)
        .map(|ch| {
            let mut x = common::noise(n, 0.1, 11 + ch);
            for (i, s) in x.iter_mut().enumerate() {
                let t = i as f64 / sr as f64;
                *s += (0.3 * (2.0 * std::f64::consts::PI * (200.0 * t + 400.0 * t * t)).sin()) as f32;
                *s += ((0.001 * 10f64.powf(3.0 * t)).min(0.2) * (2.0 * std::f64::consts::PI * 3_100.0 * t).sin()) as f32;
                if i % 20_000 == 100 {
                    *s = 1.0;
                }
            }
            x
        })
        .collect();
    let input_path = tmp("in.wav");
    render::write_wav(&input_path, &input, sr).unwrap();

    let (out_l, out_w) = (tmp("linux.wav"), tmp("windows.wav"));
    let report_l = ok(Command::new(&linux).arg("render").arg(&input_path).arg(&out_l).args(&sets).output().unwrap(), "the Linux render");
    let report_w = ok(
        wine::command(&windows).arg("render").arg(wine::path(&input_path)).arg(wine::path(&out_w)).args(&sets).output().unwrap(),
        "Livechain.exe render under Wine",
    );
    let frames = assert_same_samples(&out_l, &out_w, "render with every stage on");
    assert!(frames >= n, "the render is shorter than its input: {frames} frames");
    assert_eq!(figures(&report_l), figures(&report_w), "the two renders report different meters");
    // The growing tone was found (so the canceller learnt, in both builds alike).
    assert!(report_l.contains("howls found"), "no howl found in the render:\n{report_l}");

    let (demo_l, demo_w) = (tmp("demo-linux.wav"), tmp("demo-windows.wav"));
    ok(Command::new(&linux).arg("demo").arg(&demo_l).output().unwrap(), "the Linux demo");
    ok(wine::command(&windows).arg("demo").arg(wine::path(&demo_w)).output().unwrap(), "Livechain.exe demo under Wine");
    let frames = assert_same_samples(&demo_l, &demo_w, "demo");
    eprintln!("render ({n} frames in, {} stages on) and demo ({frames} frames): bit-identical on Linux and under Wine", sets.len() - 1);
    let _ = std::fs::remove_dir_all(input_path.parent().unwrap());
}

/// The window's position and size, from xwininfo.
fn geometry(display: &str, id: &str) -> (usize, usize, usize, usize) {
    let out = Command::new("xwininfo").args(["-display", display, "-id", id]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> usize {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in xwininfo's output:\n{text}"))
    };
    (field("Absolute upper-left X:"), field("Absolute upper-left Y:"), field("Width:"), field("Height:"))
}

#[test]
#[ignore = "system: runs the Windows build under Wine and Xvfb (cargo xtask test)"]
fn the_windows_standalone_opens_its_editor_under_wine() {
    let _one = WINE.lock().unwrap_or_else(|e| e.into_inner());
    let windows = wine::bundled("Livechain.exe");
    let (_xvfb, display) = common::xvfb::start();
    let log = tmp("editor.log");
    let app = wine::command(&windows)
        .args(["--backend", "dummy"])
        .env("DISPLAY", &display)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start Livechain.exe under Wine");
    let mut app = Stop(app);
    let mut id = String::new();
    wait_or(
        "the Livechain window",
        Duration::from_secs(120),
        || {
            let out = Command::new("xdotool").args(["search", "--name", "^Livechain$"]).env("DISPLAY", &display).output().unwrap();
            id = String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").trim().to_string();
            !id.is_empty()
        },
        || {
            let state = match app.0.try_wait() {
                Ok(Some(status)) => format!("Livechain.exe ended: {status}"),
                _ => "Livechain.exe still runs".to_string(),
            };
            format!("{state}; its log:\n{}", std::fs::read_to_string(&log).unwrap_or_default())
        },
    );
    let (x, y, w, h) = geometry(&display, &id);
    assert_eq!((w, h), (1180, 860), "the editor's window size");
    // egui's dark panels fill most of the window once it has painted (Wine's OpenGL on Mesa).
    let painted = || {
        let img = screenshot(&display).crop(x, y, x + w, y + h);
        (img.count([27, 27, 27], 4, 0, img.width) + img.count([32, 32, 32], 4, 0, img.width), img)
    };
    wait_for("the editor to paint", Duration::from_secs(60), || painted().0 > w * h / 3);
    std::thread::sleep(Duration::from_secs(2));
    let (dark, img) = painted();
    // Its text and widgets: light pixels (labels, values), the knobs' blue arcs and the EQ's
    // green response curve (src/editor/controls.rs, graph.rs).
    let light = img.rgb.iter().filter(|p| p.iter().all(|&c| c > 150)).count();
    let blue = img.count([110, 190, 245], 30, 0, img.width);
    let curve = img.count([120, 210, 140], 30, 0, img.width);
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots/windows-editor.png");
    img.save_png(&out).unwrap();
    eprintln!(
        "Livechain.exe's editor under Wine: {w}x{h} at ({x}, {y}); {dark} panel, {light} text, {blue} knob and {curve} curve pixels; {}",
        out.display()
    );
    assert!(light > 5_000, "hardly any text drawn ({light} light pixels): see {}", out.display());
    assert!(blue > 700, "no knobs drawn ({blue} blue pixels): see {}", out.display());
    assert!(curve > 900, "no EQ curve drawn ({curve} green pixels): see {}", out.display());
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "the Windows standalone logged errors:\n{}", errors.join("\n"));
}
