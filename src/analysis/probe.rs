//! The latency probe inside the plugin: on request, the plugin itself plays a maximum-length
//! sequence on its outputs (instead of the chain's sound) and records its first input, so it
//! measures the loop it sits in — an interface with a loopback cable, or a host's routing — in
//! any host. The audio thread only copies samples into preallocated atomics; the correlation
//! runs on the thread that asks for the result (the editor's).
//!
//! One period warms the loop up (the recording must be periodic for circular correlation), the
//! next two are recorded and located separately; they must agree.

use super::latency::{mls, Correlator, Estimate, MIN_CONFIDENCE};
use atomic_float::AtomicF32;
use std::sync::atomic::{AtomicU32, Ordering};

pub const ORDER: u32 = 14;
/// One probe period: 16383 samples, so loops up to 341 ms at 48 kHz are measured unambiguously.
pub const PERIOD: usize = (1 << ORDER) - 1;
const RECORDED_PERIODS: usize = 2;
/// −20 dBFS: well above a quiet room's noise through a cable loop, not a blast in monitors.
pub const AMPLITUDE: f32 = 0.1;

const IDLE: u32 = 0;
const REQUESTED: u32 = 1;
const RUNNING: u32 = 2;
const DONE: u32 = 3;

/// What the probe's user sees.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeStatus {
    Idle,
    Measuring,
    /// The round trip in samples (sub-sample), and the two periods' spread.
    Measured {
        samples: f64,
        spread: f64,
    },
    Failed(String),
}

/// Shared between the audio thread and the thread that asks.
#[derive(Debug)]
pub struct ProbeShared {
    state: AtomicU32,
    recording: Box<[AtomicF32]>,
}

impl Default for ProbeShared {
    fn default() -> Self {
        Self { state: AtomicU32::new(IDLE), recording: (0..RECORDED_PERIODS * PERIOD).map(|_| AtomicF32::new(0.0)).collect() }
    }
}

impl ProbeShared {
    /// Starts a measurement at the next block (ignored while one runs).
    pub fn request(&self) {
        let _ = self.state.compare_exchange(IDLE, REQUESTED, Ordering::AcqRel, Ordering::Relaxed);
        let _ = self.state.compare_exchange(DONE, REQUESTED, Ordering::AcqRel, Ordering::Relaxed);
    }

    pub fn is_busy(&self) -> bool {
        matches!(self.state.load(Ordering::Acquire), REQUESTED | RUNNING)
    }

    /// When the recording is complete, correlates it (here, off the audio thread) and returns
    /// the result; None while nothing new is finished.
    pub fn take_result(&self) -> Option<ProbeStatus> {
        if self.state.compare_exchange(DONE, IDLE, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            return None;
        }
        let rec: Vec<f32> = self.recording.iter().map(|x| x.load(Ordering::Relaxed)).collect();
        Some(analyse(&rec))
    }
}

/// Locates the probe in each recorded period.
pub fn analyse(recording: &[f32]) -> ProbeStatus {
    let correlator = Correlator::new(&mls(ORDER, AMPLITUDE));
    let estimates: Vec<Estimate> =
        recording.chunks_exact(PERIOD).enumerate().map(|(i, w)| correlator.locate(w, (i + 1) * PERIOD)).collect();
    if let Some(weak) = estimates.iter().find(|e| e.confidence < MIN_CONFIDENCE) {
        return ProbeStatus::Failed(format!(
            "the probe did not come back (correlation {:.1}, needs {MIN_CONFIDENCE}): route Livechain's output back to \
             its input (a loopback cable on the interface, or the host's routing) and try again",
            weak.confidence
        ));
    }
    let (lo, hi) = estimates.iter().fold((f64::MAX, f64::MIN), |(l, h), e| (l.min(e.samples), h.max(e.samples)));
    if hi - lo > 1.0 {
        return ProbeStatus::Failed(format!(
            "the loop's delay changed during the measurement ({lo:.2} then {hi:.2} samples): a dropout or a \
             varying path; try again"
        ));
    }
    ProbeStatus::Measured { samples: 0.5 * (lo + hi), spread: hi - lo }
}

/// The audio thread's side: a preallocated probe and a position.
#[derive(Debug, Clone)]
pub struct LoopProbe {
    probe: Vec<f32>,
    pos: usize,
    running: bool,
}

impl Default for LoopProbe {
    fn default() -> Self {
        Self { probe: mls(ORDER, AMPLITUDE), pos: 0, running: false }
    }
}

impl LoopProbe {
    /// Call at the start of each block: true while this block belongs to a measurement.
    #[inline]
    pub fn begin_block(&mut self, shared: &ProbeShared) -> bool {
        if !self.running && shared.state.compare_exchange(REQUESTED, RUNNING, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            self.running = true;
            self.pos = 0;
        }
        self.running
    }

    /// Records the block's first input channel and replaces every channel, in place, with the
    /// probe. Returns true on the block that ends the measurement.
    pub fn process(&mut self, buffer: &mut [&mut [f32]], shared: &ProbeShared) -> bool {
        let end = (1 + RECORDED_PERIODS) * PERIOD;
        let len = buffer.first().map_or(0, |c| c.len());
        if let Some(input) = buffer.first() {
            for (i, &x) in input.iter().enumerate() {
                let p = self.pos + i;
                if p >= PERIOD && p < end {
                    shared.recording[p - PERIOD].store(if x.is_finite() { x } else { 0.0 }, Ordering::Relaxed);
                }
            }
        }
        for out in buffer.iter_mut() {
            for (i, y) in out.iter_mut().enumerate() {
                let p = self.pos + i;
                *y = if p < end { self.probe[p % PERIOD] } else { 0.0 };
            }
        }
        self.pos += len;
        if self.pos >= end {
            self.running = false;
            shared.state.store(DONE, Ordering::Release);
            return true;
        }
        false
    }

    pub fn reset(&mut self) {
        self.running = false;
        self.pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test host whose output comes back to the input `delay` samples later (plus a gain and
    /// a little noise), processing in random block sizes no larger than the delay.
    fn run_loop(delay: usize, gain: f32, noise: f32, seed: u32) -> ProbeStatus {
        let shared = ProbeShared::default();
        let mut probe = LoopProbe::default();
        let mut line = vec![0.0f32; delay]; // what the loop holds
        let mut head = 0;
        let mut rng = seed;
        let mut next = || crate::dsp::xorshift32(&mut rng);
        shared.request();
        let mut result = None;
        for _ in 0..100_000 {
            let n = 1 + (next() as usize % 512).min(delay - 1);
            let mut block: Vec<f32> = (0..n)
                .map(|i| {
                    let r = (next() as f32 / u32::MAX as f32 - 0.5) * 2.0 * noise;
                    line[(head + i) % delay] * gain + r
                })
                .collect();
            if probe.begin_block(&shared) {
                probe.process(&mut [&mut block[..]], &shared);
            }
            for (i, &y) in block.iter().enumerate() {
                line[(head + i) % delay] = y;
            }
            head = (head + n) % delay;
            if let Some(r) = shared.take_result() {
                result = Some(r);
                break;
            }
        }
        result.expect("the measurement finished")
    }

    #[test]
    fn a_host_loop_of_known_delay_measures_that_delay() {
        for (delay, seed) in [(64, 1), (600, 2), (1_234, 3), (4_800, 4), (16_000, 5)] {
            match run_loop(delay, 0.5, 0.01, seed) {
                ProbeStatus::Measured { samples, spread } => {
                    assert!((samples - delay as f64).abs() < 0.01, "loop of {delay}: measured {samples}");
                    assert!(spread < 0.01, "{spread}");
                }
                other => panic!("loop of {delay}: {other:?}"),
            }
        }
    }

    #[test]
    fn no_loop_is_refused_with_a_reason() {
        match run_loop(700, 0.0, 0.01, 9) {
            ProbeStatus::Failed(why) => assert!(why.contains("did not come back"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
