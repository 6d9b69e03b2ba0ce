//! The standalone program. `livechain devices|latency|sweep|render|demo` runs a tool (see
//! `cli/`); anything else starts the nice-plug standalone (JACK, ALSA or dummy backend) with the
//! editor, with input buffering cut to two periods instead of nice-plug's 150 ms.

use clap::Parser;
use livechain::analysis::probe::ProbeStatus;
mod cli;

use cli::{Cli, SUBCOMMANDS};
use livechain::Livechain;
use nice_plug::prelude::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The standalone's default period on ALSA: small enough to play through, large enough for most
/// machines. `livechain sweep` finds the smallest that runs clean on this one.
const DEFAULT_PERIOD: u32 = 256;

fn has_flag(args: &[String], long: &str, short: Option<&str>) -> Option<usize> {
    args.iter().position(|a| a == long || a.starts_with(&format!("{long}=")) || Some(a.as_str()) == short)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__xrun-monitor") {
        cli::jack_io::run_xrun_monitor();
    }
    if let Some(first) = args.get(1) {
        if SUBCOMMANDS.contains(&first.as_str()) {
            let cli = Cli::parse_from(&args);
            if let Err(e) = cli::run(cli) {
                eprintln!("livechain: {e:#}");
                std::process::exit(2);
            }
            return;
        }
    }

    let has_display =
        std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty()) || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    if !has_display {
        livechain::HEADLESS.store(true, Ordering::Relaxed);
    }
    livechain::devlog::STANDALONE.store(true, Ordering::Relaxed);
    let user_args = args.clone();
    let started = Instant::now();
    // nice-plug's backends never reopen a stream the driver has ended: Livechain does, with the
    // same arguments and the settings carried over.
    {
        let user_args = user_args.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(50));
            if livechain::devlog::DEVICE.output_stopped() {
                reopen(&user_args, started, "the audio device ended the output stream");
                return;
            }
        });
    }
    // nice-plug's own Ctrl-C/SIGTERM handler only raises a flag; with the editor open its window
    // loop never reads it, and without one the orderly JACK shutdown it starts can deadlock
    // against the xrun monitor's client (two clients in one process). Taking the handler first
    // makes SIGINT/SIGTERM end the program at once: the JACK server or the ALSA driver closes
    // the streams of a process that is gone.
    if let Err(e) = ctrlc::set_handler(|| std::process::exit(0)) {
        eprintln!("livechain: could not install the signal handler: {e}");
    }
    let mut args = args;
    if has_flag(&args, "--help", Some("-h")).is_some() {
        println!("Tools: livechain devices | latency | sweep | render | demo   (each with --help)");
        println!(
            "Livechain's own flag: --measure-loop   once audio runs, play the loop probe on the outputs, find it\n\
             \x20                                      in the first input, print the round trip and exit (2 if\n\
             \x20                                      nothing came back; a dropout mid-measurement is\n\
             \x20                                      measured again, up to 3 attempts)\n\
             \x20                  --connect-jack-outputs <PORTS>   JACK ports for Livechain's outputs, comma-separated;\n\
             \x20                                      without it, system:playback_N, or where there is none\n\
             \x20                                      (PipeWire) the physical playback ports in order\n"
        );
    }
    // Livechain's own flags, taken out before nice-plug parses the rest.
    let connect_outputs = has_flag(&args, "--connect-jack-outputs", None).map(|i| {
        let inline = args[i].split_once('=').map(|(_, v)| v.to_string());
        let value = match inline {
            Some(v) => v,
            None if i + 1 < args.len() => args.remove(i + 1),
            None => String::new(),
        };
        args.remove(i);
        value.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect::<Vec<_>>()
    });
    if let Some(i) = has_flag(&args, "--measure-loop", None) {
        args.remove(i);
        std::thread::spawn(measure_loop);
    }
    // Windows: the system's own audio (WASAPI) unless the user asks for JACK or the dummy backend;
    // nice-plug's "auto" would try JACK, which few Windows machines run, and then fall silent.
    if cfg!(windows) && has_flag(&args, "--backend", Some("-b")).is_none() {
        args.extend(["--backend".into(), "wasapi".into()]);
    }
    // Input buffering: two periods, not 150 ms, unless the user says otherwise.
    let period = match has_flag(&args, "--period-size", Some("-p")) {
        Some(i) => args.get(i + 1).and_then(|v| v.parse::<u32>().ok()).unwrap_or(DEFAULT_PERIOD),
        None => {
            args.extend(["--period-size".into(), DEFAULT_PERIOD.to_string()]);
            DEFAULT_PERIOD
        }
    };
    if has_flag(&args, "--input-latency", None).is_none() {
        let rate = has_flag(&args, "--sample-rate", Some("-r"))
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<f32>().ok())
            .unwrap_or(48_000.0);
        args.extend(["--input-latency".into(), format!("{:.5}", 2.0 * period as f32 / rate)]);
    }
    // JACK reports xruns to every client; nice-plug's JACK backend does not listen, so a small
    // reporter process does (on ALSA, nice-plug's cpal backend logs them itself). It holds no
    // ports and ends with us: its stdin is ours.
    let wants_jack = match has_flag(&args, "--backend", Some("-b")) {
        Some(i) => args.get(i + 1).is_some_and(|b| b == "jack" || b == "auto"),
        None => true,
    };
    // It also connects our outputs (`--connect-jack-outputs`, or the physical ones where there
    // is no "system" client): from its own process, never with a second client in this one.
    let _monitor = if wants_jack { cli::jack_io::spawn_xrun_monitor(connect_outputs) } else { None };
    let ok = nice_export_standalone_with_args::<Livechain, _>(args);
    // nice-plug returns false when the audio backend could not start (its log says why). In a
    // reopened run the device may still be coming back: try again, a bounded number of times.
    if !ok && std::env::var_os(REOPENS_ENV).is_some() {
        reopen(&user_args, started, "the audio device could not be opened again");
    }
    std::process::exit(if ok { 0 } else { 2 });
}

/// `--measure-loop`: the standalone's own round trip, through the in-plugin probe (the same
/// measurement as the editor's "Measure loop" button), printed in the terminal. Exits the
/// program: 0 with the figure, 2 when no audio ran or nothing came back in three attempts.
fn measure_loop() {
    let fail = |why: &str| -> ! {
        eprintln!("livechain: --measure-loop: {why}");
        std::process::exit(2)
    };
    let started = Instant::now();
    let bridge = loop {
        if let Some(b) = livechain::devlog::standalone_bridge().filter(|b| b.block.load(Ordering::Relaxed) > 0) {
            break b;
        }
        if started.elapsed() > Duration::from_secs(20) {
            fail("no audio ran within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let the streams settle (buffers filling, a first dropout at start-up) before measuring.
    std::thread::sleep(Duration::from_secs(1));
    // A dropout during the measurement shifts the loop between the two recorded periods, and the
    // probe refuses that figure; a live stream can drop out once at start-up, so measure again
    // (each attempt takes about a second) before giving up.
    const ATTEMPTS: u32 = 3;
    for attempt in 1..=ATTEMPTS {
        bridge.probe.request();
        let asked = Instant::now();
        let why = loop {
            match bridge.probe.take_result() {
                Some(ProbeStatus::Measured { samples, spread }) => {
                    let sr = bridge.sample_rate.load(Ordering::Relaxed) as f64;
                    let block = bridge.max_block.load(Ordering::Relaxed);
                    println!(
                        "loop round trip: {samples:.2} samples = {:.2} ms at {sr} Hz (the two probe periods agree to {spread:.2} samples; blocks of up to {block} frames; attempt {attempt} of {ATTEMPTS})",
                        samples * 1000.0 / sr
                    );
                    std::process::exit(0);
                }
                Some(ProbeStatus::Failed(why)) => break why,
                _ => {}
            }
            if asked.elapsed() > Duration::from_secs(20) {
                fail("the probe did not finish within 20 s (is audio still running?)");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if attempt == ATTEMPTS {
            fail(&format!("{why} ({ATTEMPTS} attempts)"));
        }
        eprintln!("livechain: --measure-loop: attempt {attempt} of {ATTEMPTS}: {why}; measuring again");
    }
}

/// Runs `command` in this process's place: on Unix the same process (`exec`), keeping its ID;
/// elsewhere (Windows has no `exec`) a new process that inherits the console, and this one ends at
/// once so that its window closes and only the new one stays. Returns only the error when it could
/// not be started.
#[cfg(unix)]
fn replace_process(mut command: std::process::Command) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    command.exec()
}

#[cfg(not(unix))]
fn replace_process(mut command: std::process::Command) -> std::io::Error {
    match command.spawn() {
        Ok(_) => std::process::exit(0),
        Err(e) => e,
    }
}

/// How many times in a row the standalone reopens the device before it gives up.
const MAX_REOPENS: u32 = 5;
/// Counts the reopens in a row; a run that played for a minute starts the count again.
const REOPENS_ENV: &str = "LIVECHAIN_REOPENS";

/// Runs the standalone again in this process (same arguments, same process ID, the window
/// reopened) with the current settings. Returns only when it gives up, after saying why: then a
/// window stays open with the error shown, and a headless run exits with status 2.
fn reopen(user_args: &[String], started: Instant, why: &str) {
    let previous = std::env::var(REOPENS_ENV).ok().and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
    let attempt = if started.elapsed() > Duration::from_secs(60) { 1 } else { previous + 1 };
    if attempt > MAX_REOPENS {
        eprintln!("livechain: {why}, and {MAX_REOPENS} reopens in a row failed: giving up");
    } else {
        std::thread::sleep(Duration::from_millis(500 << (attempt - 1)));
        let mut command = std::process::Command::new(std::env::current_exe().unwrap_or_else(|_| user_args[0].clone().into()));
        command.args(&user_args[1..]).env(REOPENS_ENV, attempt.to_string());
        match livechain::devlog::save_settings() {
            Ok(path) => {
                command.env(livechain::devlog::RESTORE_ENV, path);
            }
            // A run whose device never opened made no instance: the file it was handed goes on.
            Err(_) if std::env::var_os(livechain::devlog::RESTORE_ENV).is_some() => {}
            Err(e) => eprintln!("livechain: the settings cannot go across ({e})"),
        }
        eprintln!("livechain: {why}: reopening it (attempt {attempt} of {MAX_REOPENS})");
        let e = replace_process(command);
        eprintln!("livechain: could not run Livechain again: {e}");
    }
    if livechain::HEADLESS.load(Ordering::Relaxed) {
        std::process::exit(2);
    }
}
