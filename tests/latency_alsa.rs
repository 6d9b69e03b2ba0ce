//! `livechain latency` and `sweep` over ALSA (cpal), with no sound card: a private PulseAudio
//! server with a null sink, reached through ALSA's `pulse` device; the sink's monitor is the
//! input, so what is played comes back. Needs pulseaudio, pactl and libasound2-plugins
//! (`cargo xtask test` installs them).

mod common;
use common::jack::{wait_for, Stop};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

struct Pulse {
    _server: Stop,
    runtime: PathBuf,
}

impl Pulse {
    fn start() -> Self {
        let runtime = std::env::temp_dir().join(format!("livechain-pulse-{}", std::process::id()));
        std::fs::create_dir_all(&runtime).unwrap();
        let server = Command::new("pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--load=module-native-protocol-unix auth-anonymous=1",
                "--load=module-null-sink sink_name=loop rate=48000",
            ])
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pulseaudio (Debian pulseaudio) must be installed");
        let pulse = Pulse { _server: Stop(server), runtime };
        wait_for("the PulseAudio server", Duration::from_secs(20), || pulse.pactl(&["info"]));
        assert!(pulse.pactl(&["set-default-sink", "loop"]));
        assert!(pulse.pactl(&["set-default-source", "loop.monitor"]));
        pulse
    }

    fn pactl(&self, args: &[&str]) -> bool {
        Command::new("pactl").args(args).env("XDG_RUNTIME_DIR", &self.runtime).output().map(|o| o.status.success()).unwrap_or(false)
    }

    fn livechain(&self, args: &[&str]) -> Output {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Livechain");
        Command::new(bin).args(args).env("XDG_RUNTIME_DIR", &self.runtime).output().unwrap()
    }
}

fn runs(stdout: &str) -> Vec<f64> {
    stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("run "))
        .filter_map(|l| l.split(':').nth(1)?.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn alsa_loop_is_measured_consistently_and_bad_input_is_refused() {
    let pulse = Pulse::start();
    for period in ["256", "1024"] {
        let out = pulse.livechain(&["latency", "--backend", "alsa", "--device", "pulse", "-p", period, "-n", "4"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "latency -p {period} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
        let r = runs(&text);
        assert_eq!(r.len(), 4, "{text}");
        // Within one measurement the loop does not change: the runs agree to a fraction of a
        // millisecond (the streams are lined up by callback times, not a shared sample clock).
        let (lo, hi) = r.iter().fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
        assert!(hi - lo < 24.0, "runs spread {:.1} samples at -p {period}:\n{text}", hi - lo);
        assert!(lo > 0.0, "{text}");
        eprintln!("-p {period}:\n{text}");
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
    let out = pulse.livechain(&["sweep", "--backend", "alsa", "--device", "pulse", "-t", "0.6"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sweep failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("recommended") || text.contains("no buffer size ran cleanly"), "{text}");
    assert!(text.lines().filter(|l| l.contains("smp (")).count() >= 3, "{text}");
    eprintln!("{text}");
}
