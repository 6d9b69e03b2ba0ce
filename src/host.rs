//! A minimal in-process host around the chain: sets parameters exactly the way the plugin
//! wrappers do (normalised value, then the smoother's new target) and splits blocks at events.
//! The offline renderer, the tests and the benches all drive the chain through it, so they hear
//! what a DAW hears.

use crate::bridge::Bridge;
use crate::chain::Chain;
pub use crate::chain::{all_on, Stages};
use crate::dsp::denormal::DenormalGuard;
use crate::params::LivechainParams;
use nice_plug::prelude::*;
use std::sync::Arc;

/// A parameter change at a sample position inside a processed span.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time: usize,
    pub id: String,
    pub value: f32,
}

/// Starts every smoother of `params` at its current value, as a wrapper does on activation.
pub fn prime_smoothers(params: &LivechainParams, sample_rate: f32) {
    // SAFETY: the pointers come from `param_map` of `params`, borrowed for this call.
    unsafe { snap_smoothers(params.param_map().iter().map(|(_, ptr, _)| ptr), sample_rate) };
}

/// Starts each parameter's smoother at its current value (no glide), without allocating.
///
/// # Safety
/// Every pointer must come from `param_map` of parameters that are alive for the call.
pub unsafe fn snap_smoothers<'a>(ptrs: impl IntoIterator<Item = &'a ParamPtr>, sample_rate: f32) {
    for ptr in ptrs {
        // SAFETY: the caller's promise.
        unsafe { ptr._internal_update_smoother(sample_rate, true) };
    }
}

pub struct OfflineHost {
    pub params: Arc<LivechainParams>,
    pub bridge: Arc<Bridge>,
    pub chain: Chain,
    sample_rate: f32,
    channels: usize,
    ptrs: Vec<(String, ParamPtr)>,
    /// The output's meters and the spectrum queue, as the plugin runs them (off by default: the
    /// offline renderer and most tests need only the sound).
    analysis: Option<(crate::analysis::meters::OutputMeters, rtrb::Producer<f32>)>,
    /// The next block is the first since the host was made or settled: as in the plugin after a
    /// reset, the changes made for its first sample apply at once, with no glide.
    fresh: bool,
}

impl OfflineHost {
    /// Prepares the chain for `sample_rate` and `channels` (1 or 2), with default parameters.
    pub fn new(sample_rate: f32, channels: usize) -> Self {
        Self::with_params(Arc::new(LivechainParams::default()), sample_rate, channels)
    }

    pub fn with_params(params: Arc<LivechainParams>, sample_rate: f32, channels: usize) -> Self {
        let ptrs = params.param_map().into_iter().map(|(id, ptr, _)| (id, ptr)).collect();
        let mut host = Self {
            params,
            bridge: Arc::new(Bridge::default()),
            chain: Chain::default(),
            sample_rate,
            channels,
            ptrs,
            analysis: None,
            fresh: true,
        };
        host.chain.prepare(sample_rate, channels);
        // Every smoother at its value, as a wrapper does on activation.
        host.settle();
        host
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    pub fn param_ids(&self) -> impl Iterator<Item = &str> {
        self.ptrs.iter().map(|(id, _)| id.as_str())
    }

    fn ptr(&self, id: &str) -> Option<ParamPtr> {
        self.ptrs.iter().find(|(i, _)| i == id).map(|(_, p)| *p)
    }

    /// Sets a parameter by its permanent ID to a plain value (dB, %, Hz …; 0/1 for switches),
    /// clamped to its range. Returns an error naming the valid IDs for an unknown one.
    pub fn set(&mut self, id: &str, plain: f32) -> Result<(), String> {
        let Some(ptr) = self.ptr(id) else {
            let ids: Vec<&str> = self.param_ids().collect();
            return Err(format!("unknown parameter '{id}'; valid IDs: {}", ids.join(", ")));
        };
        if !plain.is_finite() {
            return Err(format!("value for '{id}' must be a finite number, got {plain}"));
        }
        // SAFETY: as above; this is what the wrappers do on a parameter event.
        unsafe {
            let norm = ptr.preview_normalized(plain);
            ptr._internal_set_normalized_value(norm);
            ptr._internal_update_smoother(self.sample_rate, false);
        }
        Ok(())
    }

    /// The current plain value of a parameter.
    pub fn get(&self, id: &str) -> Option<f32> {
        // SAFETY: as above.
        self.ptr(id).map(|p| unsafe { p.unmodulated_plain_value() })
    }

    /// The latency the plugin would report now.
    pub fn latency(&mut self) -> usize {
        self.chain.update_latency(&self.params);
        self.chain.latency()
    }

    /// Jumps every smoother to its target and clears the chain, as loading a state before
    /// activation does: the next sample is processed with the current settings, no glide.
    pub fn settle(&mut self) {
        // SAFETY: the pointers come from `param_map` of the params we own through the Arc.
        unsafe { snap_smoothers(self.ptrs.iter().map(|(_, ptr)| ptr), self.sample_rate) };
        self.chain.reset(&self.params);
        self.fresh = true;
    }

    /// Deactivated and activated again at the same rate and channel count, in real time (`live`)
    /// or for an offline render (a bounce), the host's largest block now `max_block` (0 for the
    /// one before: the chain starts with 0), as the plugin's `activate` and the reset after it do.
    pub fn reactivate(&mut self, live: bool, max_block: u32) {
        self.chain.set_host(live, max_block);
        self.chain.prepare(self.sample_rate, self.channels);
        self.settle();
    }

    /// The host tempo for tempo-synced delays, or None for a host without transport.
    pub fn set_tempo(&mut self, bpm: Option<f64>) {
        self.chain.set_tempo(bpm);
    }

    /// Runs the plugin's output analysis too (RMS, loudness, true peak; and, with
    /// `editor_open`, the spectrum queue, whose reading end waits in `bridge.spectrum_rx`).
    pub fn enable_analysis(&mut self, editor_open: bool) {
        let mut meters = crate::analysis::meters::OutputMeters::default();
        meters.prepare(self.sample_rate as f64);
        let (tx, rx) = rtrb::RingBuffer::new(crate::analysis::meters::SPECTRUM_QUEUE);
        if let Ok(mut slot) = self.bridge.spectrum_rx.lock() {
            *slot = Some(rx);
        }
        self.bridge.editor_open.store(editor_open, std::sync::atomic::Ordering::Relaxed);
        self.analysis = Some((meters, tx));
    }

    /// Processes one block in place, as the plugin's `process()` does (idle blocks included).
    pub fn process(&mut self, buffer: &mut [&mut [f32]]) -> crate::chain::Ran {
        if self.fresh {
            self.settle();
            self.fresh = false;
        }
        let _denormals = DenormalGuard::new();
        self.chain.update_latency(&self.params);
        let ran = self.chain.process(buffer, &self.params, &self.bridge);
        if let Some((meters, tx)) = &mut self.analysis {
            let b = &self.bridge;
            let editor_open = b.editor_open.load(std::sync::atomic::Ordering::Relaxed);
            if ran == crate::chain::Ran::Processed || editor_open {
                meters.process(buffer, editor_open, &b.output_rms, &b.loudness, tx);
            }
        }
        ran
    }

    /// Processes `buffer` (one slice per channel) in blocks of at most `block`, applying each
    /// event at its exact sample: blocks are split at events, as with sample-accurate automation.
    /// Events must be sorted by time.
    pub fn run(&mut self, buffer: &mut [Vec<f32>], block: usize, events: &[Event]) -> Result<(), String> {
        let len = buffer.first().map_or(0, Vec::len);
        let mut next_event = 0;
        let mut pos = 0;
        while pos < len {
            while next_event < events.len() && events[next_event].time <= pos {
                let e = &events[next_event];
                self.set(&e.id, e.value)?;
                next_event += 1;
            }
            let mut end = (pos + block.max(1)).min(len);
            if let Some(e) = events.get(next_event) {
                end = end.min(e.time.max(pos + 1));
            }
            let mut slices: Vec<&mut [f32]> = buffer.iter_mut().map(|c| &mut c[pos..end]).collect();
            self.process(&mut slices);
            pos = end;
        }
        Ok(())
    }
}

/// What a musician automates (levels, tone, dynamics, delay time, reverb decay and mix), with
/// the range each is moved over: the worst-case bench and `stage_profile automate` set one of
/// them to a new value every 16 blocks.
pub const AUTOMATED: [(&str, f32, f32); 10] = [
    ("in_gain", -12.0, 12.0),
    ("out_gain", -12.0, 6.0),
    ("hp_freq", 20.0, 400.0),
    ("lp_freq", 2_000.0, 20_000.0),
    ("comp_thresh", -40.0, 0.0),
    ("comp_ratio", 1.0, 10.0),
    ("dly_time", 50.0, 1_500.0),
    ("dly_feedback", 0.0, 90.0),
    ("rev_decay", 0.3, 8.0),
    ("mix", 50.0, 100.0),
];

/// A fixed, seeded stereo test signal: a tone with an amplitude envelope plus white noise.
pub fn seeded_signal(frames: usize, seed: u32) -> [Vec<f32>; 2] {
    let mut s = seed.max(1);
    let mut next = move || crate::dsp::xorshift32(&mut s) as f32 / u32::MAX as f32 * 2.0 - 1.0;
    let mut l = Vec::with_capacity(frames);
    let mut r = Vec::with_capacity(frames);
    for i in 0..frames {
        let env = if (i / 12_000) % 2 == 0 { 0.4 } else { 0.05 };
        let tone = (i as f32 * 0.0573).sin() * env;
        l.push(tone + 0.1 * next());
        r.push(0.8 * tone + 0.1 * next());
    }
    [l, r]
}

/// FNV-1a hash of the bits of the chain's output for `seeded_signal(96_000, 7)` (2 s) with every
/// stage on, in 64-frame blocks: any change to the sound changes it. IEEE arithmetic without
/// fast-math is reproducible, so debug and release builds agree.
pub fn reference_output_hash() -> u64 {
    let mut host = OfflineHost::new(48_000.0, 2);
    for (id, v) in all_on() {
        host.set(id, v).expect("known parameter");
    }
    host.settle();
    let [mut l, mut r] = seeded_signal(96_000, 7);
    for (cl, cr) in l.chunks_mut(64).zip(r.chunks_mut(64)) {
        host.process(&mut [cl, cr]);
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (a, b) in l.iter().zip(&r) {
        for x in [a, b] {
            for byte in x.to_bits().to_le_bytes() {
                h ^= byte as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    h
}
