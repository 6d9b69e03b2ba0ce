//! The editor in a real window: the standalone under Xvfb on a dummy JACK server, a tone fed to
//! its inputs, and screenshots that show the meters and the spectrum move with the signal and
//! fall back when it stops. Needs Xvfb, xwd, jackd and the bundled binary (`cargo xtask test`).

mod common;
use common::jack::{ports, start_server, wait_for, Stop};
use common::xwd::{screenshot, Image};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

// The meters' solid colours (src/editor/meters.rs): peak green and yellow, RMS blue.
const METER_COLOURS: [[u8; 3]; 3] = [[70, 200, 110], [230, 200, 60], [30, 110, 170]];
// The spectrum's trace.
const SPECTRUM_TRACE: [u8; 3] = [110, 190, 245];

fn meter_pixels(img: &Image) -> usize {
    METER_COLOURS.iter().map(|&c| img.count(c, 6, 0, img.width)).sum()
}

fn jack(server: &str, args: &[&str]) -> bool {
    Command::new(args[0]).args(&args[1..]).env("JACK_DEFAULT_SERVER", server).status().map(|s| s.success()).unwrap_or(false)
}

#[test]
fn meters_and_spectrum_follow_the_signal_in_a_real_window() {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Livechain");
    assert!(bin.exists(), "{} is missing: run `cargo xtask test`", bin.display());
    let n = 50 + std::process::id() % 200;
    let display = format!(":{n}");
    let _xvfb = Stop(
        Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (Debian xvfb) must be installed"),
    );
    wait_for("Xvfb", Duration::from_secs(20), || PathBuf::from(format!("/tmp/.X11-unix/X{n}")).exists());

    let server = format!("livechain-editor-{}", std::process::id());
    let _jackd = start_server(&server, 256);
    let _app = Stop(
        Command::new(&bin)
            .args(["--backend", "jack"])
            .env("DISPLAY", &display)
            .env("JACK_DEFAULT_SERVER", &server)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the standalone"),
    );
    wait_for("Livechain's JACK ports", Duration::from_secs(30), || ports(&server).unwrap_or_default().contains("livechain:input_2"));
    // The window is up once egui has painted its dark panels over the black root window.
    wait_for("the editor window", Duration::from_secs(30), || screenshot(&display).count([27, 27, 27], 4, 0, 1280) > 100_000);
    std::thread::sleep(Duration::from_secs(1));
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
    std::thread::sleep(Duration::from_millis(1500));
    let playing = screenshot(&display);
    let lit = meter_pixels(&playing);
    assert!(lit > 2_000, "meters did not rise with the signal: {lit} pixels");
    let trace = playing.count(SPECTRUM_TRACE, 8, 0, playing.width);
    assert!(trace > 100, "no spectrum trace with the signal: {trace} pixels");
    if let Ok(path) = std::env::var("LIVECHAIN_SCREENSHOT") {
        let out = Command::new("xwd").args(["-root", "-silent", "-display", &display, "-out", &path]).status().unwrap();
        assert!(out.success());
    }

    // Signal off: the peak bars fall at 20 dB/s and the RMS empties within 300 ms.
    assert!(jack(&server, &["jack_disconnect", "jack_simple_client:output1", "livechain:input_1"]));
    assert!(jack(&server, &["jack_disconnect", "jack_simple_client:output2", "livechain:input_2"]));
    std::thread::sleep(Duration::from_millis(2500));
    let after = meter_pixels(&screenshot(&display));
    assert!(after < lit / 2, "meters did not fall after the signal stopped: {after} vs {lit} pixels");
    eprintln!("meter pixels: silent {}, playing {lit}, 2.5 s after {after}; spectrum trace {trace}", meter_pixels(&silent));
}
