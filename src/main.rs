//! The standalone program. `livechain devices|latency|sweep|render|demo` runs a tool (see
//! `cli/`); anything else starts the nice-plug standalone (JACK, ALSA or dummy backend) with the
//! editor, with input buffering cut to two periods instead of nice-plug's 150 ms.

use clap::Parser;
use livechain::cli::{self, Cli, SUBCOMMANDS};
use livechain::Livechain;
use nice_plug::prelude::*;
use std::sync::atomic::Ordering;

/// The standalone's default period on ALSA: small enough to play through, large enough for most
/// machines. `livechain sweep` finds the smallest that runs clean on this one.
const DEFAULT_PERIOD: u32 = 256;

fn has_flag(args: &[String], long: &str, short: Option<&str>) -> Option<usize> {
    args.iter().position(|a| a == long || a.starts_with(&format!("{long}=")) || Some(a.as_str()) == short)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__xrun-monitor") {
        livechain::cli::jack_io::run_xrun_monitor();
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

    let has_display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    if !has_display {
        livechain::HEADLESS.store(true, Ordering::Relaxed);
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
        println!("Tools: livechain devices | latency | sweep | render | demo   (each with --help)\n");
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
    let _monitor = if wants_jack { livechain::cli::jack_io::spawn_xrun_monitor() } else { None };
    let ok = nice_export_standalone_with_args::<Livechain, _>(args);
    // nice-plug returns false when the audio backend could not start (its log says why).
    std::process::exit(if ok { 0 } else { 2 });
}
