//! The latency probe over ALSA (through cpal): the probe is played on one output stream and
//! recorded from one input stream of a device (a loopback cable, or a sound server's monitor).
//!
//! Unlike JACK, ALSA runs playback and capture as two streams with their own sample counters, so
//! the recording is put on the playback's time line by the streams' callback times: each callback
//! notes when it ran and at which sample, a least-squares fit over all of them gives each stream's
//! clock offset, and the difference is added to the correlation's lag. The result is the round
//! trip a program sees from writing a sample to reading it back; callback scheduling jitter makes
//! it exact to a fraction of a millisecond rather than to the sample.

use anyhow::{anyhow, bail, Context, Result};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a probe run over ALSA gives back.
pub struct DuplexRun {
    /// The input, from its first sample on.
    pub recording: Vec<f32>,
    /// Where the recording's sample 0 lies on the playback's sample time line (fractional).
    pub input_offset: f64,
    /// Device errors other than xruns, and how many xruns either stream reported.
    pub errors: Vec<String>,
    pub xruns: usize,
    /// The device errors as dropouts: errors less than `advice::BURST_GAP_PERIODS` periods apart
    /// are one (a sound server's plugin failing a call fails it at every callback until the
    /// stream recovers: hundreds of errors for one dropout).
    pub error_bursts: usize,
    /// With a chain running in the playback callback: its mean and peak time over the deadline.
    pub mean_load: f64,
    pub peak_load: f64,
}

/// Finds a device by (part of) its name, or the default one; the error lists what exists.
pub fn find_device(name: Option<&str>, input: bool) -> Result<cpal::Device> {
    let host = cpal::default_host();
    let kind = if input { "input" } else { "output" };
    let devices: Vec<cpal::Device> = if input { host.input_devices() } else { host.output_devices() }
        .map(|d| d.collect())
        .map_err(|e| anyhow!("cannot list ALSA {kind} devices: {e}"))?;
    // ALSA's own name ("pulse", "hw:0,0", "default") first, then its description.
    let id = |d: &cpal::Device| d.id().map(|i| i.id().to_string()).unwrap_or_default();
    let label = |d: &cpal::Device| d.description().map(|n| n.name().to_string()).unwrap_or_default();
    let found = match name {
        None => {
            if input {
                host.default_input_device()
            } else {
                host.default_output_device()
            }
        }
        Some(want) => devices
            .iter()
            .find(|d| id(d) == want)
            .or_else(|| devices.iter().find(|d| label(d) == want))
            .or_else(|| devices.iter().find(|d| label(d).contains(want)))
            .cloned(),
    };
    found.ok_or_else(|| {
        let names: Vec<String> = devices.iter().map(|d| format!("{} ({})", id(d), label(d))).collect();
        anyhow!(
            "no ALSA {kind} device {}; {}",
            name.map_or("(no default)".to_string(), |n| format!("\"{n}\"")),
            if names.is_empty() {
                "there are none (`livechain devices` lists them)".to_string()
            } else {
                format!("valid: {}", names.join(", "))
            }
        )
    })
}

/// Callback times: (sample index of the callback's first frame, seconds since `origin`).
type Marks = Arc<Mutex<Vec<(u64, f64)>>>;

/// The clock offset a stream's callbacks fit: t ≈ offset + index / rate, least squares with the
/// slope fixed at the nominal rate; the median is used so a few late callbacks do not bias it.
fn fit_offset(marks: &[(u64, f64)], rate: f64) -> Option<f64> {
    let mut d: Vec<f64> = marks.iter().map(|&(i, t)| t - i as f64 / rate).collect();
    if d.len() < 8 {
        return None;
    }
    d.sort_by(f64::total_cmp);
    Some(d[d.len() / 2])
}

/// Plays `probe` in a loop on channel 1 of `output` and records channel 1 of `input` for
/// `frames` samples, at `rate` with `period`-frame buffers. With `chain`, the playback callback
/// also runs the chain over the probe (its result is discarded; the probe keeps the measurement
/// clean), so its load at this buffer size is measured under real callback timing.
pub fn run_probe(
    output: Option<&str>,
    input: Option<&str>,
    rate: u32,
    period: u32,
    probe: &[f32],
    frames: usize,
    chain: Option<livechain::host::OfflineHost>,
) -> Result<DuplexRun> {
    let out_dev = find_device(output, false)?;
    let in_dev = find_device(input.or(output), true)?;
    let out_ch = out_dev.default_output_config().map(|c| c.channels()).unwrap_or(2).max(1);
    let in_ch = in_dev.default_input_config().map(|c| c.channels()).unwrap_or(2).max(1);
    let config = |channels| cpal::StreamConfig { channels, sample_rate: rate, buffer_size: cpal::BufferSize::Fixed(period) };
    let origin = Instant::now();
    // Device errors other than xruns: when (s from `origin`) and what.
    let errors: Arc<Mutex<Vec<(f64, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let xruns = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let loads = Arc::new(Mutex::new((0.0f64, 0.0f64, 0usize)));
    let on_error = |dir: &'static str, errors: Arc<Mutex<Vec<(f64, String)>>>, xruns: Arc<std::sync::atomic::AtomicUsize>| {
        move |e: cpal::Error| {
            if matches!(e.kind(), cpal::ErrorKind::Xrun) {
                xruns.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            } else {
                errors.lock().unwrap().push((origin.elapsed().as_secs_f64(), format!("{dir}: {e}")));
            }
        }
    };
    let out_marks: Marks = Arc::new(Mutex::new(Vec::with_capacity(1 << 16)));
    let in_marks: Marks = Arc::new(Mutex::new(Vec::with_capacity(1 << 16)));
    let recording = Arc::new(Mutex::new(Vec::with_capacity(frames)));

    let probe: Vec<f32> = probe.to_vec();
    let mut pos = 0u64;
    let marks = out_marks.clone();
    let mut chain = chain;
    let scratch_len = (period as usize * 4).max(4096);
    let (mut sl, mut sr) = (vec![0.0f32; scratch_len], vec![0.0f32; scratch_len]);
    let load = loads.clone();
    let out_stream = out_dev
        .build_output_stream::<f32, _, _>(
            config(out_ch),
            move |data: &mut [f32], _| {
                let started = Instant::now();
                let t = origin.elapsed().as_secs_f64();
                if let Ok(mut m) = marks.try_lock() {
                    m.push((pos, t));
                }
                let first = pos;
                for frame in data.chunks_mut(out_ch as usize) {
                    frame.fill(0.0);
                    frame[0] = probe[(pos % probe.len() as u64) as usize];
                    pos += 1;
                }
                if let Some(host) = &mut chain {
                    let n = ((pos - first) as usize).min(scratch_len);
                    for i in 0..n {
                        let x = probe[((first + i as u64) % probe.len() as u64) as usize];
                        sl[i] = x;
                        sr[i] = x;
                    }
                    host.process(&mut [&mut sl[..n], &mut sr[..n]]);
                    let l = started.elapsed().as_secs_f64() * rate as f64 / n.max(1) as f64;
                    if let Ok(mut a) = load.try_lock() {
                        a.0 += l;
                        a.1 = a.1.max(l);
                        a.2 += 1;
                    }
                }
            },
            on_error("playback", errors.clone(), xruns.clone()),
            None,
        )
        .map_err(|e| anyhow!("cannot open playback at {rate} Hz, {period}-frame buffers, {out_ch} channels, 32-bit float: {e}"))?;
    let mut ipos = 0u64;
    let marks = in_marks.clone();
    let rec = recording.clone();
    let in_stream = in_dev
        .build_input_stream::<f32, _, _>(
            config(in_ch),
            move |data: &[f32], _| {
                let t = origin.elapsed().as_secs_f64();
                if let Ok(mut m) = marks.try_lock() {
                    m.push((ipos, t));
                }
                if let Ok(mut r) = rec.try_lock() {
                    for frame in data.chunks(in_ch as usize) {
                        if r.len() < r.capacity() {
                            r.push(frame[0]);
                        }
                    }
                }
                ipos += (data.len() / in_ch as usize) as u64;
            },
            on_error("capture", errors.clone(), xruns.clone()),
            None,
        )
        .map_err(|e| anyhow!("cannot open capture at {rate} Hz, {period}-frame buffers, {in_ch} channels, 32-bit float: {e}"))?;
    in_stream.play().context("starting capture")?;
    out_stream.play().context("starting playback")?;
    let deadline = Instant::now() + Duration::from_secs_f64(frames as f64 / rate as f64 * 2.0 + 5.0);
    while recording.lock().unwrap().len() < frames {
        if Instant::now() > deadline {
            bail!("the device stopped delivering input after {} of {frames} frames", recording.lock().unwrap().len());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(out_stream);
    drop(in_stream);
    let rate_f = rate as f64;
    let (o, i) = (out_marks.lock().unwrap(), in_marks.lock().unwrap());
    let (Some(out_off), Some(in_off)) = (fit_offset(&o, rate_f), fit_offset(&i, rate_f)) else {
        bail!("too few callbacks to line the streams up");
    };
    let recording = std::mem::take(&mut *recording.lock().unwrap());
    let (mut times, errors): (Vec<f64>, Vec<String>) = std::mem::take(&mut *errors.lock().unwrap()).into_iter().unzip();
    // (The two streams' errors interleave; a burst is one in time whichever stream it came from.)
    times.sort_by(f64::total_cmp);
    let error_bursts = super::advice::bursts(&times, super::advice::BURST_GAP_PERIODS * period as f64 / rate_f);
    // Input sample j was handed over at in_off + j/rate; on the playback's time line that is
    // sample (in_off − out_off)·rate + j.
    let (sum, peak, count) = *loads.lock().unwrap();
    Ok(DuplexRun {
        recording,
        input_offset: (in_off - out_off) * rate_f,
        errors,
        error_bursts,
        xruns: xruns.load(std::sync::atomic::Ordering::Relaxed),
        mean_load: if count > 0 { sum / count as f64 } else { 0.0 },
        peak_load: peak,
    })
}
