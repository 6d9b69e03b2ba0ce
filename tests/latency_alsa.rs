//! `livechain latency` and `sweep` over ALSA (cpal), with no sound card: a private PulseAudio
//! server with a null sink, reached through ALSA's `pulse` device; the sink's monitor is the
//! input, so what is played comes back. Needs pulseaudio, pactl and libasound2-plugins
//! (`cargo xtask test` installs them).

mod common;
use common::jack::{wait_for, wait_or, Stop};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

struct Pulse {
    server: Option<Stop>,
    runtime: PathBuf,
}

impl Pulse {
    /// A private server; `tag` keeps the servers of tests that run at once apart.
    fn start(tag: &str) -> Self {
        let runtime = std::env::temp_dir().join(format!("livechain-pulse-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&runtime).unwrap();
        let mut pulse = Pulse { server: None, runtime };
        pulse.start_server();
        pulse
    }

    fn start_server(&mut self) {
        // A server killed outright leaves its PID file behind.
        let _ = std::fs::remove_file(self.runtime.join("pulse/pid"));
        let server = Command::new("pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--load=module-native-protocol-unix auth-anonymous=1",
                "--load=module-null-sink sink_name=loop rate=48000",
            ])
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pulseaudio (Debian pulseaudio) must be installed");
        self.server = Some(Stop(server));
        wait_for("the PulseAudio server", Duration::from_secs(20), || self.pactl(&["info"]));
        assert!(self.pactl(&["set-default-sink", "loop"]));
        assert!(self.pactl(&["set-default-source", "loop.monitor"]));
    }

    /// The server dies the way a device goes away: at once, nothing closed in order.
    fn kill_server(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.0.kill();
            let _ = server.0.wait();
        }
    }

    /// Whether some client's stream is playing into the sink.
    fn playing(&self) -> bool {
        Command::new("pactl")
            .args(["list", "short", "sink-inputs"])
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
    }

    fn pactl(&self, args: &[&str]) -> bool {
        Command::new("pactl").args(args).env("XDG_RUNTIME_DIR", &self.runtime).output().map(|o| o.status.success()).unwrap_or(false)
    }

    fn livechain(&self, args: &[&str]) -> Output {
        Command::new(standalone()).args(args).env("XDG_RUNTIME_DIR", &self.runtime).output().unwrap()
    }
}

/// The tests here measure timing on a 2-core machine: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// How often the standalone's round trip is measured at one buffer size before a larger one.
const ATTEMPTS: usize = 3;

/// The buffer sizes tried, smallest first, when a smaller one could not be measured cleanly.
fn ladder(from: u32) -> impl Iterator<Item = u32> {
    [256, 512, 1024, 2048].into_iter().filter(move |&p| p >= from)
}

/// `livechain latency -p <period> -n 4` from `from` frames up the ladder, twice per size, until
/// its runs agree within 24 samples: the size and the runs. Panics, listing every spoilt attempt,
/// if no size gives agreeing runs.
fn agreeing(pulse: &Pulse, from: u32) -> (u32, Vec<f64>) {
    let n = 4;
    let mut spoilt = Vec::new();
    for period in ladder(from) {
        for attempt in 1..=2 {
            let out =
                pulse.livechain(&["latency", "--backend", "alsa", "--device", "pulse", "-p", &period.to_string(), "-n", &n.to_string()]);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "latency -p {period} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
            let r = runs(&text);
            assert_eq!(r.len(), n, "{text}");
            // A failing device's errors (the pulse plugin's, hundreds a second in a dropout) are
            // each said once, with a count.
            let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("device error")).collect();
            assert!(errors.iter().enumerate().all(|(i, e)| !errors[..i].contains(e)), "{text}");
            let spread = summarize(&r).1;
            if spread < 24.0 {
                assert!(!text.contains("disagree"), "runs {r:?} agree, yet:\n{text}");
                for l in &spoilt {
                    eprintln!("spoilt: {l}");
                }
                eprintln!("-p {period}:\n{text}");
                return (period, r);
            }
            // The tool says so itself, rather than give a median of two loops as the loop's delay.
            assert!(text.contains("warning: the runs disagree by"), "runs {r:?} spread, unsaid:\n{text}");
            let xruns = text.lines().find(|l| l.contains("xrun")).unwrap_or("no xrun reported");
            spoilt.push(format!("-p {period}, attempt {attempt}: runs spread {spread:.1} samples ({xruns}): {r:?}"));
        }
    }
    panic!("no buffer size from {from} frames up gave agreeing runs: {spoilt:#?}");
}

fn standalone() -> PathBuf {
    common::bundled("Livechain")
}

use common::latency_runs as runs;
use livechain::analysis::latency::summarize;

#[test]
#[ignore = "system: runs the bundled standalone on a PulseAudio null sink (cargo xtask test)"]
fn alsa_loop_is_measured_consistently_and_bad_input_is_refused() {
    let _serial = one_at_a_time();
    let pulse = Pulse::start("loop");
    // Within one measurement the loop does not change: the runs agree to a fraction of a
    // millisecond (the streams are lined up by callback times, not a shared sample clock).
    // PulseAudio steps its own buffering after a dropout, reported or not (seen: 342.6, 342.6,
    // then 476.6, 476.6 samples; 685.5 then 809.5 three times with no xrun reported), and a
    // machine whose scheduling hiccups outlast a small buffer drops out in every attempt (CI on
    // 2026-12-03: four attempts at 256 frames spread 282 to 829 samples with 3 xruns each; this
    // machine the same day, idle: 256 frames spread in every run, 1024 never). So the loop is
    // measured the way a user picks a buffer size: from the asked size upwards (`ladder`), each
    // size tried twice, and the runs at one of them must agree; every spoilt attempt is said.
    for asked in [256, 1024] {
        let (period, r) = agreeing(&pulse, asked);
        assert!(r.iter().all(|&x| x > 0.0), "-p {period}: {r:?}");
    }

    // No signal back: the sink muted.
    assert!(pulse.pactl(&["set-sink-mute", "loop", "1"]));
    let out = pulse.livechain(&["latency", "--backend", "alsa", "--device", "pulse", "-n", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no signal came back"), "{err}");
    assert!(pulse.pactl(&["set-sink-mute", "loop", "0"]));

    // An unknown device names the valid ones; a bad buffer size says what is valid.
    let out = pulse.livechain(&["latency", "--backend", "alsa", "--device", "no-such-card"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-card") && err.contains("valid:") && err.contains("pulse"), "{err}");
    let out = pulse.livechain(&["latency", "--backend", "alsa", "--device", "pulse", "-p", "7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("16 to 8192"));

    // The sweep over ALSA: a row per size and a recommendation.
    let out = pulse.livechain(&["sweep", "--backend", "alsa", "--device", "pulse", "-t", "0.6", "--soak", "1.5"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sweep failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("recommended") || text.contains("no buffer size ran cleanly"), "{text}");
    assert!(text.lines().filter(|l| l.contains("smp (")).count() >= 3, "{text}");
    eprintln!("{text}");
}

/// Item 6, "keep running": the standalone on ALSA outlives its device. The PulseAudio server is
/// killed under it (the driver ends the stream, which nice-plug's backend never reopens) and
/// started again: the standalone says what happened, reopens the device with its settings, and
/// plays into the new server, without a window (a windowed run reopens the same way).
#[test]
#[ignore = "system: runs the bundled standalone on a PulseAudio null sink (cargo xtask test)"]
fn standalone_reopens_the_device_after_the_driver_ends_the_stream() {
    let _serial = one_at_a_time();
    let mut pulse = Pulse::start("reopen");
    let log_path = pulse.runtime.join("standalone.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut standalone = Stop(
        Command::new(standalone())
            .args(["--backend", "alsa", "--output-device", "PulseAudio Sound Server", "--input-device", "PulseAudio Sound Server"])
            .env("XDG_RUNTIME_DIR", &pulse.runtime)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    wait_for("the standalone's stream", Duration::from_secs(20), || pulse.playing());
    pulse.kill_server();
    // (30 s: a loaded machine is slow to run the driver's error through; failing, what the
    // standalone said, and whether it still runs, is the first thing to know.)
    wait_or(
        "the standalone to see its stream end",
        Duration::from_secs(30),
        || read().contains("the audio device ended the output stream"),
        || format!("still running: {}; its log:\n{}", standalone.0.try_wait().ok().flatten().is_none(), read()),
    );
    pulse.start_server();
    wait_for("the reopened stream", Duration::from_secs(30), || pulse.playing());
    let text = read();
    assert!(text.contains("reopening it (attempt 1 of 5)"), "{text}");
    assert!(text.contains("livechain: reopened with the previous settings"), "{text}");
    assert!(standalone.0.try_wait().unwrap().is_none(), "the standalone ended: {text}");
}

/// Item 6, the standalone's own duplex path on ALSA, measured: the standalone's `--measure-loop`
/// plays the in-plugin probe through the same PulseAudio loop that `livechain latency` measures.
/// With the default input buffering (two periods, not nice-plug's 150 ms) the standalone's round
/// trip is the device loop plus a few periods (at most eight), far from 150 ms.
#[test]
#[ignore = "system: runs the bundled standalone on a PulseAudio null sink (cargo xtask test)"]
fn standalone_round_trip_on_alsa_is_the_device_loop_plus_its_buffering() {
    let _serial = one_at_a_time();
    let mut pulse = Pulse::start("standalone");
    // A dropout on a loaded machine can end PulseAudio's ALSA stream: the standalone says so and
    // reopens the device (running itself again), and fails only if the reopens give up or the
    // measurement after them does; such an attempt, after the stream ended, is taken again.
    // PulseAudio also sets its own buffering per stream and steps it after a dropout (seen in CI:
    // a device loop of 5873 samples against the usual 343-397, the standalone's trip 1024 right
    // after it), so the device loop is taken as the standalone's neighbour: runs that agree with
    // each other, measured just before. A pair spoilt either way is measured again on a fresh
    // server, up to `ATTEMPTS` times, and every spoilt pair is said. A machine that cannot run
    // 256 frames without dropouts (CI on 2026-12-03: all four attempts spoilt) is measured at 512,
    // where eight periods (4096 samples) still tell two periods of buffering from 150 ms.
    let mut spoilt = Vec::new();
    let sizes = [256u32, 512];
    for (period, attempt) in sizes.iter().flat_map(|&p| (1..=ATTEMPTS).map(move |a| (p, a))) {
        let p = period.to_string();
        if !spoilt.is_empty() {
            // A fresh server: its buffering starts where it started the first time.
            pulse.kill_server();
            pulse.start_server();
        }
        let out = pulse.livechain(&["latency", "--backend", "alsa", "--device", "pulse", "-p", &p, "-n", "3"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        let r = runs(&text);
        assert_eq!(r.len(), 3, "{text}");
        let spread = summarize(&r).1;
        if spread >= 24.0 {
            assert!(text.contains("warning: the runs disagree by"), "runs {r:?} spread, unsaid:\n{text}");
            spoilt.push(format!("-p {p}, attempt {attempt}: device loop runs spread {spread:.1} samples: {r:?}"));
            continue;
        }
        let device_loop = r.iter().sum::<f64>() / r.len() as f64;
        let out = Command::new(standalone())
            .args([
                "--backend",
                "alsa",
                "-p",
                &p,
                "--output-device",
                "PulseAudio Sound Server",
                "--input-device",
                "PulseAudio Sound Server",
                "--measure-loop",
            ])
            .env("XDG_RUNTIME_DIR", &pulse.runtime)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        if !out.status.success() && err.contains("the audio device ended the output stream") {
            let line = err.lines().find(|l| l.contains("ended the output stream")).unwrap_or_default();
            spoilt.push(format!("-p {p}, attempt {attempt}: {line}"));
            continue;
        }
        assert!(out.status.success(), "{text}{err}\n(spoilt before: {spoilt:#?})");
        let trip: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("loop round trip: ")?.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no round trip in: {text}"));
        // Attempts that a dropout spoilt inside the standalone, said on stderr.
        for l in err.lines().filter(|l| l.contains("--measure-loop")) {
            println!("{l}");
        }
        println!("-p {p}: device loop {device_loop:.2} samples, standalone round trip {trip:.2} samples");
        // How the two streams start against each other varies from run to run: 861 to 1560
        // samples over a 343-397 sample device loop in five runs on 2026-12-01 (518 to 847 in
        // earlier sessions); 728 to 1806 over 687 at 512 frames (2026-12-03). Eight periods
        // still tell two periods of buffering from nice-plug's 150 ms (7200 samples).
        assert!(8 * period < 7200);
        if trip >= device_loop - 1.0 && trip <= device_loop + 8.0 * period as f64 {
            for l in &spoilt {
                println!("spoilt: {l}");
            }
            return;
        }
        spoilt.push(format!("-p {p}, attempt {attempt}: standalone {trip} vs device loop {device_loop:.1}"));
    }
    panic!("no attempt ({ATTEMPTS} at each of {sizes:?} frames) put the standalone's round trip within 8 periods over the device loop: {spoilt:#?}");
}
