//! Offline rendering (`livechain render`, `livechain demo`): audio files through the very same
//! chain, and the built-in demo. No device, no thread: the same `OfflineHost` the tests use.

use crate::analysis::loudness;
use crate::host::{Event, OfflineHost};
use crate::presets::Preset;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const MIN_RATE: u32 = 8_000;
pub const MAX_RATE: u32 = 384_000;

/// What to render and how.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Parameter values applied before processing, in order (a preset first, then `--set`s).
    pub params: Vec<(String, f32)>,
    /// Sample-accurate automation, sorted by time.
    pub events: Vec<Event>,
    pub block: usize,
    /// Extra seconds of silence to let tails ring out; None = as long as the delay and reverb
    /// need (capped at 30 s), 0 with both off.
    pub tail_s: Option<f32>,
    /// Drop the first `latency` samples so the output lines up with the input, as a DAW's bounce
    /// does.
    pub compensate_latency: bool,
    pub progress: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self { params: Vec::new(), events: Vec::new(), block: 512, tail_s: None, compensate_latency: true, progress: false }
    }
}

/// Measurements of a render, printed by the CLI.
#[derive(Debug, Clone)]
pub struct Report {
    pub frames: usize,
    pub sample_rate: u32,
    pub peak_dbfs: Vec<f32>,
    pub rms_dbfs: Vec<f32>,
    pub integrated_lufs: Option<f64>,
    pub latency: usize,
    /// Processing time over audio time (1.0 = one full core in real time).
    pub load: f64,
    /// Howls the feedback suppressor found (over every channel pair; its own count starts afresh
    /// after a silence the chain skipped, so the render adds up its rises piece by piece).
    pub howls: u32,
}

impl Report {
    pub fn print(&self) {
        let secs = self.frames as f64 / self.sample_rate as f64;
        println!(
            "rendered {:.2} s at {} Hz, {} channel(s), latency {} samples",
            secs,
            self.sample_rate,
            self.peak_dbfs.len(),
            self.latency
        );
        for (ch, (p, r)) in self.peak_dbfs.iter().zip(&self.rms_dbfs).enumerate() {
            println!("  ch{}: sample peak {:7.2} dBFS   RMS {:7.2} dBFS", ch + 1, p, r);
        }
        match self.integrated_lufs {
            Some(l) => println!("  integrated loudness {l:.1} LUFS (ITU-R BS.1770-4, gated)"),
            None => println!("  integrated loudness: below the −70 LUFS gate"),
        }
        if self.howls > 0 {
            println!("  feedback suppressor: {} howls found", self.howls);
        }
        println!("  DSP load {:.3} % of one core ({:.1}× faster than real time)", self.load * 100.0, 1.0 / self.load.max(1e-12));
    }
}

fn db(x: f64) -> f32 {
    (20.0 * x.max(1e-12).log10()) as f32
}

/// How many seconds the tails of the current settings need to fall silent (60 dB down, with a
/// tenth more for the reverb's late energy), at most 30 s.
fn auto_tail(host: &OfflineHost) -> f32 {
    (host.chain.tail_seconds(&host.params, 60.0) * 1.1).min(30.0)
}

/// Runs `input` (one Vec per channel) through the chain. Channels go in stereo pairs, each pair
/// (and a last odd channel, in mono) through its own chain with the same settings.
pub fn render(input: &[Vec<f32>], sample_rate: u32, s: &Settings) -> Result<(Vec<Vec<f32>>, Report)> {
    if !(MIN_RATE..=MAX_RATE).contains(&sample_rate) {
        bail!("sample rate {sample_rate} Hz is not supported: Livechain runs at {MIN_RATE} to {MAX_RATE} Hz");
    }
    if input.is_empty() {
        bail!("the input has no channels");
    }
    let frames = input[0].len();
    let mut output: Vec<Vec<f32>> = Vec::with_capacity(input.len());
    let mut latency = 0;
    let mut busy = std::time::Duration::ZERO;
    let bar = if s.progress {
        let b = indicatif::ProgressBar::new(frames as u64 * input.len() as u64);
        b.set_style(indicatif::ProgressStyle::with_template("{bar:40} {percent:>3}% {msg}").expect("valid template"));
        Some(b)
    } else {
        None
    };
    let mut tail_frames = 0;
    let mut howls = 0u32;
    for group in input.chunks(2) {
        let mut host = OfflineHost::new(sample_rate as f32, group.len());
        for (id, v) in &s.params {
            host.set(id, *v).map_err(anyhow::Error::msg)?;
        }
        host.settle();
        latency = host.latency();
        let tail = s.tail_s.unwrap_or_else(|| auto_tail(&host));
        tail_frames = (tail * sample_rate as f32) as usize;
        let total = frames + tail_frames + if s.compensate_latency { latency } else { 0 };
        let mut buf: Vec<Vec<f32>> = group
            .iter()
            .map(|c| {
                let mut v = c.clone();
                v.resize(total, 0.0);
                v
            })
            .collect();
        // Process in pieces of at most a second so the progress bar moves.
        let piece = sample_rate as usize;
        let mut pos = 0;
        let mut found = 0u32;
        while pos < total {
            let end = (pos + piece).min(total);
            let evs: Vec<Event> =
                s.events.iter().filter(|e| e.time >= pos && e.time < end).map(|e| Event { time: e.time - pos, ..e.clone() }).collect();
            let mut part: Vec<Vec<f32>> = buf.iter().map(|c| c[pos..end].to_vec()).collect();
            let t = Instant::now();
            host.run(&mut part, s.block, &evs).map_err(anyhow::Error::msg)?;
            busy += t.elapsed();
            // (A count that fell started afresh: all of it is new.)
            let now = host.bridge.fb_found.load(std::sync::atomic::Ordering::Relaxed);
            howls = howls.wrapping_add(if now >= found { now - found } else { now });
            found = now;
            for (c, p) in buf.iter_mut().zip(&part) {
                c[pos..end].copy_from_slice(p);
            }
            if let Some(b) = &bar {
                b.inc(((end - pos).min(frames.saturating_sub(pos))) as u64 * group.len() as u64);
            }
            pos = end;
        }
        for mut c in buf {
            if s.compensate_latency {
                c.drain(..latency);
            }
            output.push(c);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let out_frames = output[0].len();
    let slices: Vec<&[f32]> = output.iter().map(|c| c.as_slice()).collect();
    let report = Report {
        frames: out_frames,
        sample_rate,
        peak_dbfs: output.iter().map(|c| db(c.iter().fold(0.0f32, |m, x| m.max(x.abs())) as f64)).collect(),
        rms_dbfs: output.iter().map(|c| db((c.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / c.len().max(1) as f64).sqrt())).collect(),
        integrated_lufs: loudness::integrated(&slices[..slices.len().min(2)], sample_rate as f64),
        latency,
        load: busy.as_secs_f64() / ((frames + tail_frames) as f64 / sample_rate as f64),
        howls,
    };
    Ok((output, report))
}

/// Reads a WAV file of any sample format hound knows into one Vec per channel.
pub fn read_wav(path: &Path) -> Result<(Vec<Vec<f32>>, u32)> {
    let mut reader = hound::WavReader::open(path).with_context(|| format!("cannot read WAV file {}", path.display()))?;
    let spec = reader.spec();
    if spec.channels == 0 {
        bail!("{} has no channels", path.display());
    }
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect::<Result<_, _>>()
        }
    }
    .with_context(|| format!("{} is damaged or truncated", path.display()))?;
    let ch = spec.channels as usize;
    let channels = (0..ch).map(|c| samples.iter().skip(c).step_by(ch).copied().collect()).collect();
    Ok((channels, spec.sample_rate))
}

/// Writes 32-bit float WAV: no clipping, no dither, the chain's output as it is.
pub fn write_wav(path: &Path, channels: &[Vec<f32>], sample_rate: u32) -> Result<()> {
    let spec =
        hound::WavSpec { channels: channels.len() as u16, sample_rate, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut w = hound::WavWriter::create(path, spec).with_context(|| format!("cannot write {}", path.display()))?;
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample(c[i])?;
        }
    }
    w.finalize().with_context(|| format!("cannot finish {}", path.display()))?;
    Ok(())
}

/// Parses `id=value` assignments.
pub fn parse_set(items: &[String]) -> Result<Vec<(String, f32)>> {
    items
        .iter()
        .map(|s| {
            let (id, v) = s.split_once('=').with_context(|| format!("--set {s:?}: expected ID=VALUE, for example --set rev_on=1"))?;
            let v: f32 = v.trim().parse().with_context(|| format!("--set {s:?}: {v:?} is not a number"))?;
            Ok((id.trim().to_string(), v))
        })
        .collect()
}

/// Reads an automation file: one `SECONDS PARAM_ID VALUE` per line, `#` starts a comment.
pub fn read_automation(path: &Path, sample_rate: u32) -> Result<Vec<Event>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read automation file {}", path.display()))?;
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("{} line {}: expected `SECONDS PARAM_ID VALUE`, got {line:?}", path.display(), n + 1);
        if parts.len() != 3 {
            bail!(bad());
        }
        let t: f64 = parts[0].parse().with_context(bad)?;
        let v: f32 = parts[2].parse().with_context(bad)?;
        if !(t >= 0.0 && t.is_finite()) {
            bail!("{} line {}: time {t} must be zero or positive", path.display(), n + 1);
        }
        events.push(Event { time: (t * sample_rate as f64).round() as usize, id: parts[1].into(), value: v });
    }
    events.sort_by_key(|e| e.time);
    Ok(events)
}

/// Resolves `--preset`: a factory preset's name or a preset file's path.
pub fn resolve_preset(name_or_path: &str) -> Result<Preset> {
    if let Some(p) = crate::presets::find_factory(name_or_path) {
        return Ok(p);
    }
    let path = PathBuf::from(name_or_path);
    if path.exists() {
        return Preset::load(&path).map_err(anyhow::Error::msg);
    }
    let names: Vec<String> = crate::presets::factory().into_iter().map(|p| p.name).collect();
    bail!("no preset {name_or_path:?}: give a preset file or one of: {}", names.join(", "))
}

/// A built-in demo: 12 s of plucked chords (Karplus–Strong), a soft kick on each beat and a
/// breathy hi-hat, stereo at 48 kHz, made in code so it needs no file.
pub fn demo_signal(sample_rate: u32) -> Vec<Vec<f32>> {
    let sr = sample_rate as f32;
    let len = (12.0 * sr) as usize;
    let mut l = vec![0.0f32; len];
    let mut r = vec![0.0f32; len];
    let mut seed = 0x1234_5678u32;
    let mut rnd = move || crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 * 2.0 - 1.0;
    let beat = 0.5; // 120 BPM
    let chords: [[f32; 3]; 4] = [[220.0, 277.18, 329.63], [196.0, 246.94, 293.66], [174.61, 220.0, 261.63], [196.0, 246.94, 329.63]];
    for bar in 0..6 {
        let chord = chords[bar % 4];
        for (k, &f) in chord.iter().enumerate() {
            // Karplus–Strong: a noise burst in a delay line with an averaging low-pass.
            let start = ((bar as f32 * 4.0 * beat + k as f32 * 0.03) * sr) as usize;
            let period = (sr / f).round() as usize;
            let mut line: Vec<f32> = (0..period).map(|_| rnd() * 0.3).collect();
            let pan = 0.3 + 0.2 * k as f32;
            for n in 0..(2.0 * sr) as usize {
                let i = n % period;
                let next = line[(i + 1) % period];
                let y = line[i];
                line[i] = 0.996 * 0.5 * (y + next);
                if let (Some(a), Some(b)) = (l.get_mut(start + n), r.get_mut(start + n)) {
                    *a += y * (1.0 - pan);
                    *b += y * pan;
                }
            }
        }
    }
    for b in 0..(len as f32 / (beat * sr)) as usize {
        let start = (b as f32 * beat * sr) as usize;
        for n in 0..(0.25 * sr) as usize {
            // In f64, rounded: the platforms' f32 `sinf`/`expf` differ in their last bits, and the
            // demo must give the same samples on Windows as on Linux (tests/windows.rs).
            let t = n as f64 / sr as f64;
            let kick = (0.5 * (std::f64::consts::TAU * (50.0 + 80.0 * (-t * 30.0).exp()) * t).sin() * (-t * 12.0).exp()) as f32;
            let hat = if b % 2 == 1 { 0.05 * rnd() * (-t * 60.0).exp() as f32 } else { 0.0 };
            if start + n < len {
                l[start + n] += kick + hat;
                r[start + n] += kick + hat * 0.7;
            }
        }
    }
    vec![l, r]
}
