//! The standalone and the latency tools on PipeWire, in a private daemon with a null sink (no
//! hardware): through PipeWire's JACK API (`pw-jack`) and through its ALSA plugin. The measured
//! round trip is checked against what PipeWire itself says the loop holds (its quantum, which a
//! JACK client reads as the buffer size, and the ports' reported latencies), run after run and at
//! several quanta. Needs pipewire, pipewire-jack, pipewire-alsa, wireplumber (`cargo xtask test`
//! installs them) and the bundled standalone.
#![cfg(target_os = "linux")]

mod common;
use common::pipewire::{PipeWire, SINK};

/// One daemon at a time: the loops are timed, and two graphs running at once on two cores make
/// dropouts.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn livechain() -> std::path::PathBuf {
    common::bundled("Livechain")
}

fn output(cmd: &mut std::process::Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\n{text}", out.status);
    text
}

use common::latency_runs as runs;

/// `latency`'s runs over JACK, in samples, and what it says the buffers explain.
fn jack_runs(text: &str) -> (Vec<f64>, f64) {
    let runs = runs(text);
    let explained = text
        .split("the buffers explain ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no explanation in:\n{text}"));
    (runs, explained)
}

#[test]
#[ignore = "system: a private PipeWire daemon and the bundled standalone (cargo xtask test)"]
fn jack_api_loops_measure_one_quantum_run_after_run() {
    let _serial = one_at_a_time();
    let pw = PipeWire::start("jack", false);
    let bin = livechain();
    let devices = output(pw.jack(&bin).arg("devices"), "livechain devices on PipeWire");
    for want in ["JACK (PipeWire's JACK API):", "PipeWire running: 48000 Hz", "Test null sink:playback_FL", "Test null sink:monitor_FL"] {
        assert!(devices.contains(want), "`devices` does not say {want:?}:\n{devices}");
    }
    assert!(devices.contains("capture (sink monitor)"), "the sink's monitor is not listed as a capture port:\n{devices}");
    let mut table = Vec::new();
    for quantum in [128u32, 256, 1024] {
        pw.force_quantum(quantum);
        // The software loop (through a second client: PipeWire does not carry a client's output
        // to its own input) and the loop through the null sink, as a cable loop would be wired.
        let soft = output(pw.jack(&bin).args(["latency", "--connect", "-n", "5"]), "latency --connect on PipeWire");
        assert!(soft.contains("through a second client"), "{soft}");
        let sink = output(
            pw.jack(&bin).args([
                "latency",
                "--playback",
                &format!("{SINK}:playback_FL"),
                "--capture",
                &format!("{SINK}:monitor_FL"),
                "-n",
                "5",
            ]),
            "latency through the null sink",
        );
        for (what, text) in [("software loop", &soft), ("null sink", &sink)] {
            let (runs, explained) = jack_runs(text);
            assert_eq!(runs.len(), 5, "{what}: five runs wanted:\n{text}");
            // PipeWire reports no latency on these ports: the loop holds one quantum.
            assert_eq!(explained, quantum as f64, "{what} at quantum {quantum}: the buffers explain {explained}:\n{text}");
            for r in &runs {
                assert!(
                    (r - explained).abs() < 0.01,
                    "{what} at quantum {quantum}: a run measured {r}, PipeWire's figures say {explained}:\n{text}"
                );
            }
            table.push(format!("quantum {quantum:5}: {what:13} runs {runs:?}"));
        }
    }
    eprintln!("{}", table.join("\n"));
}

#[test]
#[ignore = "system: a private PipeWire daemon and the bundled standalone (cargo xtask test)"]
fn the_standalone_plays_through_pipewires_jack_api_and_measures_its_loop() {
    let _serial = one_at_a_time();
    let pw = PipeWire::start("standalone", false);
    let bin = livechain();
    for quantum in [128u32, 1024] {
        pw.force_quantum(quantum);
        // Headless: the standalone's outputs go to the sink (its physical playback ports), and
        // its inputs are wired to the sink's monitor, so its own probe goes round the loop.
        let text = output(
            pw.jack(&bin)
                .args(["--backend", "jack", "--connect-jack-inputs", &format!("{SINK}:monitor_FL,{SINK}:monitor_FR"), "--measure-loop"])
                .env_remove("DISPLAY")
                .env_remove("WAYLAND_DISPLAY"),
            "the standalone on PipeWire with --measure-loop",
        );
        let line = text.lines().find(|l| l.contains("loop round trip:")).unwrap_or_else(|| panic!("no measurement in:\n{text}"));
        let samples: f64 = line.split("loop round trip: ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().parse().unwrap();
        eprintln!("quantum {quantum}: {line}");
        assert!((samples - quantum as f64).abs() < 0.5, "quantum {quantum}: the standalone measured {samples} samples");
    }
}

#[test]
#[ignore = "system: a private PipeWire daemon with WirePlumber and the bundled standalone (cargo xtask test)"]
fn alsa_clients_reach_pipewire_through_its_plugin() {
    let _serial = one_at_a_time();
    let pw = PipeWire::start("alsa", true);
    let bin = livechain();
    // PipeWire's ALSA plugin, unpacked by `cargo xtask test` (Debian's pipewire-alsa package
    // would remove pulseaudio, which the ALSA tests use), after ALSA's own configuration.
    let conf = std::env::var("LIVECHAIN_PIPEWIRE_ALSA_CONF").expect("LIVECHAIN_PIPEWIRE_ALSA_CONF: run through `cargo xtask test`");
    let alsa = |args: &[&str]| {
        let mut cmd = pw.command(&bin);
        cmd.args(args).env("ALSA_CONFIG_PATH", format!("/usr/share/alsa/alsa.conf:{conf}"));
        cmd
    };
    let devices = output(&mut alsa(&["devices"]), "livechain devices");
    assert!(devices.contains("pipewire"), "PipeWire's ALSA device is not listed:\n{devices}");
    // ALSA's PipeWire plugin adds its own buffering on both sides: the loop holds more than the
    // period, the same in every run of one stream, not the same from one launch to the next.
    let text = output(&mut alsa(&["latency", "--backend", "alsa", "--device", "pipewire", "-p", "1024", "-n", "3"]), "latency over ALSA");
    let runs = runs(&text);
    eprintln!("ALSA through PipeWire, 1024-frame periods: runs {runs:?}");
    assert_eq!(runs.len(), 3, "{text}");
    assert!(runs.iter().all(|&r| (1024.0..=8.0 * 1024.0).contains(&r)), "ALSA round trips outside 1 to 8 periods: {runs:?}\n{text}");
    // A dropout on a loaded machine moves the loop by whole periods (3076 → 2052 seen); within
    // that, the runs of one stream agree to the sample.
    for r in &runs {
        let off = (r - runs[0]).rem_euclid(1024.0);
        assert!(off.min(1024.0 - off) < 1.0, "the runs of one stream disagree by other than whole periods: {runs:?}\n{text}");
    }
    // The standalone on the same device (cpal names it by its description), measuring its own
    // round trip: the device loop plus its input buffering (two periods by default), give or take
    // how the two streams start against each other. The plugin's loop is not the same from one
    // launch to the next by a few samples either (3070.74 to 3076 seen for three periods), and the
    // standalone runs in a launch of its own: it measured 3072 over a 3074.18 sample loop of the
    // latency tool's launch. So it may come in up to `LAUNCHES` under that loop, never more.
    let text = output(
        alsa(&[
            "--backend",
            "alsa",
            "-p",
            "1024",
            "--output-device",
            "PipeWire Sound Server",
            "--input-device",
            "PipeWire Sound Server",
            "--measure-loop",
        ])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY"),
        "the standalone on ALSA's PipeWire plugin with --measure-loop",
    );
    let trip: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("loop round trip: ")?.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no round trip in:\n{text}"));
    eprintln!("the standalone over ALSA through PipeWire, 1024-frame periods: {trip} samples (device loop {:?})", runs);
    let device = runs.iter().cloned().fold(f64::MAX, f64::min);
    const LAUNCHES: f64 = 16.0;
    assert!(
        (device - LAUNCHES..=device + 8.0 * 1024.0).contains(&trip),
        "the standalone measured {trip} samples over a {device} sample device loop"
    );
}
