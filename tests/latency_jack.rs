//! `livechain latency` against `jack_iodelay` on the same JACK software loop, at two buffer
//! sizes: each of our measurements must equal jack_iodelay's to ±1 sample.
//! Needs jackd2 and the bundled standalone (`cargo xtask test`).

mod common;
use common::jack::{start_server, Stop};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One test of this file at a time: each runs a JACK server of its own, and two dummy servers
/// with clients at 32 to 64 frames on a two-core machine (the debug chain taking several periods)
/// lost both servers at once in CI ("no JACK server is running" in both tests).
static ONE_SERVER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What jack_iodelay reports for its own output wired to its own input ("N frames").
fn iodelay(server: &str) -> f64 {
    let out = std::env::temp_dir().join(format!("iodelay-{server}.txt"));
    let file = std::fs::File::create(&out).unwrap();
    let child = Command::new("stdbuf")
        .args(["-o0", "jack_iodelay"])
        .env("JACK_DEFAULT_SERVER", server)
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .expect("jack_iodelay (jackd2)");
    let _stop = Stop(child);
    let t = Instant::now();
    loop {
        let ok = Command::new("jack_connect")
            .args(["jack_delay:out", "jack_delay:in"])
            .env("JACK_DEFAULT_SERVER", server)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "could not wire jack_iodelay's loop");
        std::thread::sleep(Duration::from_millis(100));
    }
    let t = Instant::now();
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let values: Vec<f64> = text
            .lines()
            .filter(|l| l.contains("total roundtrip latency"))
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        if values.len() >= 3 {
            let _ = std::fs::remove_file(&out);
            return values[values.len() - 1];
        }
        assert!(t.elapsed() < Duration::from_secs(20), "jack_iodelay printed no measurement:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "system: runs the bundled standalone on a JACK server (cargo xtask test)"]
fn livechain_latency_agrees_with_jack_iodelay_at_64_and_256_frames() {
    let _one = ONE_SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let bin = common::bundled("Livechain");
    assert!(bin.exists(), "{} is missing: run `cargo xtask test`", bin.display());
    for period in [64u32, 256] {
        let server = format!("livechain-lat-{}-{period}", std::process::id());
        let _jackd = start_server(&server, period);
        let reference = iodelay(&server);
        assert!((reference - period as f64).abs() < 1.5, "jack_iodelay itself reads {reference} at -p {period}");
        let out = Command::new(&bin).args(["latency", "--connect", "-n", "5"]).env("JACK_DEFAULT_SERVER", &server).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "livechain latency failed: {}\n{}", text, String::from_utf8_lossy(&out.stderr));
        let runs: Vec<f64> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("run "))
            .filter_map(|l| l.split(':').nth(1)?.split_whitespace().next()?.parse().ok())
            .collect();
        assert_eq!(runs.len(), 5, "{text}");
        for r in runs {
            assert!((r - reference).abs() <= 1.0, "-p {period}: livechain {r} vs jack_iodelay {reference}\n{text}");
        }
        assert!(text.contains("the buffers explain"), "{text}");
    }
}

#[test]
#[ignore = "system: runs the bundled standalone on a JACK server (cargo xtask test)"]
fn latency_without_a_server_fails_with_a_clear_message() {
    let _one = ONE_SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let bin = common::bundled("Livechain");
    let out = Command::new(&bin)
        .args(["latency", "--connect"])
        .env("JACK_DEFAULT_SERVER", "livechain-no-such-server")
        .env("JACK_NO_START_SERVER", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no JACK server is running"), "{err}");
}

#[test]
#[ignore = "system: runs the bundled standalone on a JACK server (cargo xtask test)"]
fn sweep_tries_every_buffer_size_and_recommends_a_clean_one() {
    let _one = ONE_SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let bin = common::bundled("Livechain");
    let server = format!("livechain-sweep-{}", std::process::id());
    let _jackd = start_server(&server, 256);
    let out = Command::new(&bin).args(["sweep", "-t", "0.5", "--soak", "2"]).env("JACK_DEFAULT_SERVER", &server).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    // One row per size: frames, xruns, mean load, peak load, and the measured round trip, which
    // on a software loop is exactly one cycle.
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    let sizes: Vec<u32> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(sizes, [32, 64, 128, 256, 512, 1024, 2048], "{text}");
    for r in &rows {
        let frames: f64 = r[0].parse().unwrap();
        let trip: f64 = r[4].parse().unwrap();
        assert!((trip - frames).abs() <= 1.0, "round trip {trip} at {frames} frames\n{text}");
        assert!(r[2].ends_with('%') && r[3].ends_with('%'));
    }
    // The recommendation: a size that was clean in the quick pass or in a retest, confirmed by
    // a soak of its own ("N frames: 0 xruns in 2 s"), with no size above it that dropped out
    // (each such size would be named as retested clean); or a clear word that there is none.
    match text.lines().find(|l| l.starts_with("recommended: ")) {
        Some(line) => {
            let size: u32 = line["recommended: ".len()..].split_whitespace().next().unwrap().parse().unwrap();
            assert!(line.contains(&format!("{size} frames: 0 xruns in 2 s")), "{text}");
            assert!(text.contains(&format!("  soak: {size} frames for 2 s, 0 xruns")), "the soak's own line\n{text}");
            for r in rows.iter().filter(|r| r[0].parse::<u32>().unwrap() > size && r.iter().any(|c| c == "✗")) {
                assert!(
                    line.contains(&format!("{} had", r[0])) && line.contains("retested clean"),
                    "{} dropped out above the advice\n{text}",
                    r[0]
                );
            }
        }
        None => assert!(text.contains("no buffer size ran cleanly"), "{text}"),
    }
    // The server is left at the buffer size it had.
    let c = Command::new("jack_bufsize").env("JACK_DEFAULT_SERVER", &server).output().unwrap();
    assert!(String::from_utf8_lossy(&c.stdout).contains("256"), "{}", String::from_utf8_lossy(&c.stdout));
}
