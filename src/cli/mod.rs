//! The standalone's subcommands: `devices`, `latency`, `sweep`, `render` and `demo`, compiled into
//! the binary only (the plugin library never carries JACK, ALSA or device code of ours). Without a
//! subcommand, `livechain` is the nice-plug standalone (see `main.rs`).

pub mod advice;
pub mod alsa_io;
pub mod jack_io;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand, ValueEnum};
use livechain::analysis::latency::{disagreement, mls, summarize, Correlator, MIN_CONFIDENCE};
use livechain::render;
use std::path::PathBuf;

pub const SUBCOMMANDS: &[&str] = &["devices", "latency", "sweep", "render", "demo", "stages"];

#[derive(Parser, Debug)]
#[command(name = "livechain", about = "Livechain's latency and offline tools", disable_help_subcommand = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Jack,
    Alsa,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Every audio backend and device, with channels, sample rates and buffer sizes.
    Devices,
    /// Measures the round-trip latency of a loop by cross-correlating a probe (an MLS).
    Latency {
        #[arg(short = 'b', long, value_enum, default_value = "jack")]
        backend: Backend,
        /// Wire our output to our input: a software loop, no cable needed.
        #[arg(long)]
        connect: bool,
        /// For a cable loop: the playback port the probe goes out on (e.g. system:playback_1).
        #[arg(long)]
        playback: Option<String>,
        /// For a cable loop: the capture port it comes back on (e.g. system:capture_1).
        #[arg(long)]
        capture: Option<String>,
        /// How many measurements.
        #[arg(short = 'n', long, default_value_t = 5)]
        repeats: usize,
        /// ALSA: the device (name or part of it, see `livechain devices`); default: the default device.
        #[arg(long)]
        device: Option<String>,
        /// ALSA: the capture device, if not the same as --device.
        #[arg(long)]
        input_device: Option<String>,
        /// ALSA: sample rate.
        #[arg(short = 'r', long, default_value_t = 48_000)]
        rate: u32,
        /// ALSA: buffer (period) size in frames.
        #[arg(short = 'p', long, default_value_t = 256)]
        period: u32,
    },
    /// Runs the chain at each buffer size from 32 to 2048 frames and recommends the smallest
    /// that runs without xruns and under the load margin.
    Sweep {
        #[arg(short = 'b', long, value_enum, default_value = "jack")]
        backend: Backend,
        /// Seconds of processing at each size.
        #[arg(short = 't', long, default_value_t = 3.0)]
        seconds: f64,
        /// The largest acceptable peak DSP load, percent of the deadline.
        #[arg(long, default_value_t = 70.0)]
        margin: f64,
        /// Seconds of the longer runs that confirm the recommendation (and retest a size that
        /// dropped out above a clean one).
        #[arg(long, default_value_t = 60.0)]
        soak: f64,
        /// ALSA: the device (a loopback: what it plays must come back on its input).
        #[arg(long)]
        device: Option<String>,
        /// ALSA: the capture device, if not the same as --device.
        #[arg(long)]
        input_device: Option<String>,
        /// ALSA: sample rate.
        #[arg(short = 'r', long, default_value_t = 48_000)]
        rate: u32,
    },
    /// Processes a WAV file through the chain, exactly as in real time.
    Render {
        input: PathBuf,
        output: PathBuf,
        /// A factory preset's name or a preset file.
        #[arg(long)]
        preset: Option<String>,
        /// Set a parameter by ID, in its unit: --set rev_on=1 --set rev_decay=2.5
        #[arg(long = "set", value_name = "ID=VALUE")]
        set: Vec<String>,
        /// Automation: lines of `SECONDS PARAM_ID VALUE`.
        #[arg(long)]
        automation: Option<PathBuf>,
        /// Processing block size in frames (the result does not depend on it).
        #[arg(long, default_value_t = 512)]
        block: usize,
        /// Seconds of tail after the input ends (default: what the delay and reverb need).
        #[arg(long)]
        tail: Option<f32>,
        /// Keep the plugin's latency at the start instead of trimming it.
        #[arg(long)]
        no_compensate: bool,
    },
    /// Renders the built-in demo signal and prints the meters and the DSP load.
    Demo {
        /// Where to write the result.
        #[arg(default_value = "target/livechain-demo.wav")]
        output: PathBuf,
        #[arg(long, default_value = "Guitar Ambience")]
        preset: String,
    },
    /// Lists the chain's stages in signal order: each one's switch ID and name (tab-separated),
    /// for `render --set ID=1` and for scripts.
    Stages,
}

/// Runs a subcommand; errors are for the user (the caller prints them and exits with 2).
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Devices => devices(),
        Command::Latency { backend: Backend::Alsa, .. } | Command::Sweep { backend: Backend::Alsa, .. } if !cfg!(target_os = "linux") => {
            bail!(
                "--backend alsa: ALSA exists only on Linux, and this is {}. Use --backend jack with a JACK server running, \
                 or measure the loop from the standalone's window (the \"Measure loop\" button) on the system's own audio",
                std::env::consts::OS
            )
        }
        Command::Latency { backend: Backend::Jack, connect, playback, capture, repeats, .. } => {
            latency_jack(connect, playback.as_deref(), capture.as_deref(), repeats)
        }
        Command::Latency { backend: Backend::Alsa, repeats, device, input_device, rate, period, .. } => {
            latency_alsa(device.as_deref(), input_device.as_deref(), rate, period, repeats)
        }
        Command::Sweep { soak, .. } if !(soak.is_finite() && soak > 0.0) => {
            bail!("--soak must be a positive number of seconds, got {soak}")
        }
        Command::Sweep { seconds, .. } if !(seconds.is_finite() && seconds > 0.0) => {
            bail!("--seconds must be a positive number of seconds, got {seconds}")
        }
        Command::Sweep { backend: Backend::Jack, seconds, margin, soak, .. } => sweep(seconds, margin, soak),
        Command::Sweep { backend: Backend::Alsa, seconds, margin, soak, device, input_device, rate } => {
            sweep_alsa(device.as_deref(), input_device.as_deref(), rate, seconds, margin, soak)
        }
        Command::Render { input, output, preset, set, automation, block, tail, no_compensate } => {
            if block == 0 || block > 65_536 {
                bail!("--block {block}: the block size must be 1 to 65536 frames");
            }
            let (audio, sr) = render::read_wav(&input)?;
            let mut params = Vec::new();
            if let Some(p) = preset {
                params.extend(render::resolve_preset(&p)?.params);
            }
            params.extend(render::parse_set(&set)?);
            let events = match automation {
                Some(path) => render::read_automation(&path, sr)?,
                None => Vec::new(),
            };
            let settings = render::Settings { params, events, block, tail_s: tail, compensate_latency: !no_compensate, progress: true };
            let (out, report) = render::render(&audio, sr, &settings)?;
            render::write_wav(&output, &out, sr)?;
            report.print();
            println!("wrote {}", output.display());
            Ok(())
        }
        Command::Demo { output, preset } => {
            let preset = render::resolve_preset(&preset)?;
            let sr = 48_000;
            let audio = render::demo_signal(sr);
            let settings = render::Settings { params: preset.params.into_iter().collect(), ..Default::default() };
            let (out, report) = render::render(&audio, sr, &settings)?;
            render::write_wav(&output, &out, sr)?;
            println!("Livechain demo: the built-in signal through the \"{}\" preset", preset.name);
            report.print();
            println!("wrote {}", output.display());
            Ok(())
        }
        Command::Stages => {
            for s in livechain::host::Stages::infos() {
                println!("{}\t{}", s.switch, s.name);
            }
            Ok(())
        }
    }
}

fn devices() -> Result<()> {
    use cpal::traits::{DeviceTrait, HostTrait};
    match jack_io::open_client("livechain-devices") {
        Ok(c) => {
            let pipewire = jack_io::on_pipewire();
            println!("{}", if pipewire { "JACK (PipeWire's JACK API):" } else { "JACK:" });
            println!(
                "  {} running: {} Hz, buffer {} frames ({:.2} ms)",
                if pipewire { "PipeWire" } else { "server" },
                c.sample_rate(),
                c.buffer_size(),
                c.buffer_size() as f64 * 1000.0 / c.sample_rate() as f64
            );
            // JACK: the hardware's ports. PipeWire: every node's audio ports (a sink's monitor
            // ports, what a loop records from, are not "physical" there), one node per line group.
            let flags = if pipewire { jack::PortFlags::empty() } else { jack::PortFlags::IS_PHYSICAL };
            let mut node = String::new();
            for name in c.ports(None, Some("32 bit float mono audio"), flags) {
                let Some(p) = c.port_by_name(&name) else { continue };
                let owner = name.split(':').next().unwrap_or("").to_string();
                if pipewire && owner == "livechain-devices" {
                    continue;
                }
                let (mode, dir) = if p.flags().contains(jack::PortFlags::IS_OUTPUT) {
                    (jack::LatencyType::Capture, if name.contains(":monitor_") { "capture (sink monitor)" } else { "capture" })
                } else {
                    (jack::LatencyType::Playback, "playback")
                };
                if pipewire && owner != node {
                    println!("  node \"{owner}\"");
                    node = owner;
                }
                let (lo, hi) = p.get_latency_range(mode);
                println!("  {name:32} {dir}, latency {lo}..{hi} frames");
            }
        }
        Err(_) => println!(
            "JACK:\n  no server running (start one with `jackd -d alsa` or `jackd -d dummy`; on PipeWire, run Livechain through `pw-jack`)"
        ),
    }
    for id in cpal::available_hosts() {
        println!("{}:", id.name());
        let host = match cpal::host_from_id(id) {
            Ok(h) => h,
            Err(e) => {
                println!("  unavailable: {e}");
                continue;
            }
        };
        let devices = match host.devices() {
            Ok(d) => d.collect::<Vec<_>>(),
            Err(e) => {
                println!("  cannot list devices: {e}");
                continue;
            }
        };
        if devices.is_empty() {
            println!("  no devices");
        }
        for d in devices {
            let name = d.description().map(|n| n.name().to_string()).unwrap_or_else(|_| "(unnamed)".into());
            let id = d.id().map(|i| i.id().to_string()).unwrap_or_default();
            println!("  {id:20} {name}");
            // One line per direction: the ranges every configuration together allows.
            let show = |kind: &str, configs: Vec<cpal::SupportedStreamConfigRange>| {
                if configs.is_empty() {
                    return;
                }
                let ch = (configs.iter().map(|c| c.channels()).min().unwrap_or(0), configs.iter().map(|c| c.channels()).max().unwrap_or(0));
                let rate = (
                    configs.iter().map(|c| c.min_sample_rate()).min().unwrap_or(0),
                    configs.iter().map(|c| c.max_sample_rate()).max().unwrap_or(0),
                );
                let bufs: Vec<(u32, u32)> = configs
                    .iter()
                    .filter_map(|c| match c.buffer_size() {
                        cpal::SupportedBufferSize::Range { min, max } => Some((*min, *max)),
                        cpal::SupportedBufferSize::Unknown => None,
                    })
                    .collect();
                let buf = match (bufs.iter().map(|b| b.0).min(), bufs.iter().map(|b| b.1).max()) {
                    (Some(lo), Some(hi)) => format!("buffer {lo}..{hi} frames"),
                    _ => "buffer size not reported".into(),
                };
                let mut formats: Vec<String> = configs.iter().map(|c| format!("{:?}", c.sample_format())).collect();
                formats.dedup();
                println!("    {kind:6} {}..{} ch, {}..{} Hz, {buf}, formats {}", ch.0, ch.1, rate.0, rate.1, formats.join("/"));
            };
            show("input", d.supported_input_configs().map(|c| c.collect()).unwrap_or_default());
            show("output", d.supported_output_configs().map(|c| c.collect()).unwrap_or_default());
        }
    }
    Ok(())
}

/// Measures a JACK loop `repeats` times (one MLS period each) and prints the results.
pub fn latency_jack(connect: bool, playback: Option<&str>, capture: Option<&str>, repeats: usize) -> Result<()> {
    if repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    let probe = mls(15, 0.25);
    let n = probe.len();
    // One period to let the loop fill, then one per measurement.
    let run = jack_io::run_probe(&probe, n * (repeats + 1), connect, playback, capture)?;
    let corr = Correlator::new(&probe);
    if std::env::var_os("LIVECHAIN_DEBUG").is_some() {
        let nz = run.recording.iter().position(|x| *x != 0.0);
        eprintln!(
            "debug: recording {} samples, first non-zero at {nz:?}, max {}",
            run.recording.len(),
            run.recording.iter().fold(0.0f32, |m, x| m.max(x.abs()))
        );
    }
    let mut results = Vec::with_capacity(repeats);
    let ms = |s: f64| s * 1000.0 / run.sample_rate as f64;
    if run.through_wire {
        println!(
            "PipeWire's JACK API: PipeWire does not carry a client's output to its own input, so the software loop goes \
             through a second client ({}), which copies its input to its output",
            jack_io::WIRE_CLIENT
        );
    }
    println!("round trip at {} Hz, JACK buffer {} frames:", run.sample_rate, run.buffer_size);
    for k in 0..repeats {
        let start = n * (k + 1);
        let e = corr.locate(&run.recording[start..start + n], start);
        if e.confidence < MIN_CONFIDENCE {
            bail!(
                "no signal came back (correlation {:.1}, needs {MIN_CONFIDENCE}): check the loop's \
                 connections or cable and the levels",
                e.confidence
            );
        }
        println!("  run {}: {:9.3} samples  {:7.3} ms", k + 1, e.samples, ms(e.samples));
        results.push(e.samples);
    }
    let (median, spread) = summarize(&results);
    // A JACK cycle: what we write in one cycle is read back in the next, plus the ports' own
    // latency (converters and driver periods, as the hardware ports report them).
    let explained = run.buffer_size as f64 + run.port_latency as f64;
    println!("median {:.3} samples ({:.3} ms), spread {:.3} samples", median, ms(median), spread);
    println!(
        "the buffers explain {:.0} samples ({:.3} ms: one {}-frame cycle + {} frames of port latency); \
         the rest, {:.3} samples ({:.3} ms), is converters, cables and anything outside JACK",
        explained,
        ms(explained),
        run.buffer_size,
        run.port_latency,
        median - explained,
        ms(median - explained)
    );
    if run.xruns > 0 {
        println!("warning: {} xrun(s) during the measurement", run.xruns);
    }
    if let Some(w) = disagreement(spread, run.sample_rate) {
        println!("{w}");
    }
    Ok(())
}

fn check_alsa_settings(rate: u32, period: u32) -> Result<()> {
    if !(8_000..=384_000).contains(&rate) {
        bail!("--rate {rate}: the sample rate must be 8000 to 384000 Hz");
    }
    if !(16..=8192).contains(&period) {
        bail!("--period {period}: the buffer size must be 16 to 8192 frames");
    }
    Ok(())
}

/// Measures an ALSA loop `repeats` times and prints the results (see `alsa_io` for how the two
/// streams are lined up).
pub fn latency_alsa(device: Option<&str>, input: Option<&str>, rate: u32, period: u32, repeats: usize) -> Result<()> {
    if repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    check_alsa_settings(rate, period)?;
    let probe = mls(15, 0.25);
    let n = probe.len();
    // Two periods of warm-up: the streams start, fill their buffers and settle.
    let run = alsa_io::run_probe(device, input, rate, period, &probe, n * (repeats + 2), None)?;
    let corr = Correlator::new(&probe);
    let ms = |s: f64| s * 1000.0 / rate as f64;
    println!("round trip at {rate} Hz, ALSA buffers of {period} frames:");
    let mut results = Vec::with_capacity(repeats);
    for k in 0..repeats {
        let start = n * (k + 2);
        let e = corr.locate(&run.recording[start..start + n], start);
        if e.confidence < MIN_CONFIDENCE {
            bail!(
                "no signal came back (correlation {:.1}, needs {MIN_CONFIDENCE}): the device's output must reach \
                 its input (a loopback cable, or a sound server's monitor source), at a usable level",
                e.confidence
            );
        }
        let total = (e.samples + run.input_offset).rem_euclid(n as f64);
        println!("  run {}: {:9.2} samples  {:7.3} ms", k + 1, total, ms(total));
        results.push(total);
    }
    let (median, spread) = summarize(&results);
    // Input arrives a whole period at a time: the least a duplex program can add. What the
    // output queue holds on top is the device's (and cpal's) business and is not reported.
    let explained = period as f64;
    println!("median {median:.2} samples ({:.3} ms), spread {spread:.2} samples", ms(median));
    println!(
        "the input buffer explains {explained:.0} samples ({:.3} ms: one period); the rest, {:.2} samples \
         ({:.3} ms), is the output queue, the device (its converters, or a sound server) and cables",
        ms(explained),
        median - explained,
        ms(median - explained)
    );
    if run.xruns > 0 {
        println!("warning: {} xrun(s) during the measurement", run.xruns);
    }
    if let Some(w) = disagreement(spread, rate) {
        println!("{w}");
    }
    // (A failing device repeats itself: each message once, with how often it came.)
    let mut said: Vec<(&str, usize)> = Vec::new();
    for e in &run.errors {
        match said.iter_mut().find(|(m, _)| *m == e.as_str()) {
            Some((_, n)) => *n += 1,
            None => said.push((e, 1)),
        }
    }
    for (e, n) in said {
        if n == 1 {
            println!("device error: {e}");
        } else {
            println!("device error ({n} times): {e}");
        }
    }
    Ok(())
}

fn sweep_alsa(device: Option<&str>, input: Option<&str>, rate: u32, seconds: f64, margin: f64, soak: f64) -> Result<()> {
    check_alsa_settings(rate, 256)?;
    let probe = mls(13, 0.25);
    let n = probe.len();
    let frames_for = |seconds: f64| ((seconds * rate as f64) as usize).max(3 * n);
    let frames = frames_for(seconds);
    let chain = || -> Result<livechain::host::OfflineHost> {
        let mut host = livechain::host::OfflineHost::new(rate as f32, 2);
        for (id, v) in livechain::host::all_on() {
            host.set(id, v).map_err(anyhow::Error::msg)?;
        }
        Ok(host)
    };
    sweep_header();
    let mut quick = Vec::new();
    for size in SWEEP_SIZES {
        let run = match alsa_io::run_probe(device, input, rate, size, &probe, frames, Some(chain()?)) {
            Ok(r) => r,
            Err(e) => {
                println!("{size:>7}  skipped: {e:#}");
                continue;
            }
        };
        let start = frames - n;
        let e = Correlator::new(&probe).locate(&run.recording[start..start + n], start);
        let trip = if e.confidence >= MIN_CONFIDENCE {
            let t = (e.samples + run.input_offset).rem_euclid(n as f64);
            format!("{t:8.0} smp ({:.2} ms)", t * 1000.0 / rate as f64)
        } else {
            "no loop".to_string()
        };
        // A device error (the sound server's plugin failing a call mid-stream) is a dropout too,
        // counted once per burst: the row counts what the recommendation weighs.
        let trial = advice::Trial { seconds, xruns: run.xruns + run.error_bursts, peak_load: run.peak_load };
        sweep_row(size, trial.xruns, run.mean_load, run.peak_load, &trip, trial.clean(margin));
        quick.push((size, trial));
    }
    if quick.is_empty() {
        bail!("the device accepted none of the buffer sizes {SWEEP_SIZES:?}");
    }
    let advice = advice::advise(&quick, margin, soak, |size, secs| {
        let run = alsa_io::run_probe(device, input, rate, size, &probe, frames_for(secs), Some(chain()?))?;
        let trial = advice::Trial { seconds: secs, xruns: run.xruns + run.error_bursts, peak_load: run.peak_load };
        soak_row(size, &trial);
        Ok(trial)
    })?;
    println!("{}", advice.text);
    Ok(())
}

/// A longer run's line, under the table.
fn soak_row(size: u32, t: &advice::Trial) {
    println!("  soak: {size} frames for {} s, {} xruns, peak load {:.1} %", t.seconds, t.xruns, t.peak_load * 100.0);
}

fn sweep_header() {
    println!("{:>7} {:>7} {:>10} {:>10} {:>18}", "frames", "xruns", "mean load", "peak load", "round trip");
}

/// One buffer size's line of a sweep's table (JACK or ALSA).
fn sweep_row(size: u32, xruns: usize, mean_load: f64, peak_load: f64, trip: &str, ok: bool) {
    println!(
        "{:>7} {:>7} {:>9.2}% {:>9.2}% {:>18}{}",
        size,
        xruns,
        mean_load * 100.0,
        peak_load * 100.0,
        trip,
        if ok { "" } else { "  ✗" }
    );
}

/// Buffer sizes the sweep tries.
pub const SWEEP_SIZES: [u32; 7] = [32, 64, 128, 256, 512, 1024, 2048];

/// Puts the JACK server back to the buffer size it had (PipeWire: the quantum it forced, or none),
/// however the sweep ends.
enum RestoreBufferSize {
    Jack(u32),
    PipeWire(u32),
}
impl Drop for RestoreBufferSize {
    fn drop(&mut self) {
        let _ = match *self {
            RestoreBufferSize::Jack(frames) => jack_io::set_buffer_size(frames).map(|_| ()),
            RestoreBufferSize::PipeWire(forced) => jack_io::force_pipewire_quantum(forced),
        };
    }
}

fn sweep(seconds: f64, margin: f64, soak: f64) -> Result<()> {
    let client = jack_io::open_client("livechain-sweep-probe")?;
    let _restore = if jack_io::on_pipewire() {
        RestoreBufferSize::PipeWire(jack_io::pipewire_forced_quantum()?)
    } else {
        RestoreBufferSize::Jack(client.buffer_size())
    };
    drop(client);
    let params = std::sync::Arc::new(livechain::params::LivechainParams::default());
    {
        // Every stage on: the worst case the user can dial in.
        let mut host = livechain::host::OfflineHost::with_params(params.clone(), 48_000.0, 2);
        for (id, v) in livechain::host::all_on() {
            host.set(id, v).map_err(anyhow::Error::msg)?;
        }
    }
    sweep_header();
    let mut quick = Vec::new();
    for size in SWEEP_SIZES {
        let got = match jack_io::set_buffer_size(size) {
            Ok(g) => g,
            Err(e) => {
                println!("{size:>7}  skipped: {e}");
                continue;
            }
        };
        let live = jack_io::run_chain(params.clone(), seconds)?;
        let lat = latency_quiet()?;
        let trial = advice::Trial { seconds, xruns: live.xruns, peak_load: live.peak_load };
        let trip = format!("{:8.0} smp ({:.2} ms)", lat.0, lat.0 * 1000.0 / lat.1);
        sweep_row(got, live.xruns, live.mean_load, live.peak_load, &trip, trial.clean(margin));
        quick.push((got, trial));
    }
    if quick.is_empty() {
        bail!("the JACK server accepted none of the buffer sizes {SWEEP_SIZES:?}");
    }
    let advice = advice::advise(&quick, margin, soak, |size, secs| {
        jack_io::set_buffer_size(size)?;
        let live = jack_io::run_chain(params.clone(), secs)?;
        let trial = advice::Trial { seconds: secs, xruns: live.xruns, peak_load: live.peak_load };
        soak_row(size, &trial);
        Ok(trial)
    })?;
    println!("{}", advice.text);
    Ok(())
}

/// One quick software-loop measurement at the current buffer size: (samples, sample rate).
fn latency_quiet() -> Result<(f64, f64)> {
    let probe = mls(13, 0.25);
    let n = probe.len();
    let run = jack_io::run_probe(&probe, n * 2, true, None, None)?;
    let e = Correlator::new(&probe).locate(&run.recording[n..2 * n], n);
    if e.confidence < MIN_CONFIDENCE {
        bail!("the software loop gave no signal back");
    }
    Ok((e.samples, run.sample_rate as f64))
}
