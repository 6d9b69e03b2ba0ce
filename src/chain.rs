//! The effect chain: owns the stages and runs them in order over a block, reading the smoothed
//! parameters sample by sample:
//! input gain → high-pass → low-pass → AGC → compressor → delay → reverb → dry/wet → output gain
//! → safety ceiling → bypass.

use crate::bridge::Bridge;
use crate::dsp::agc::{Agc, AgcSettings};
use crate::dsp::bypass::BypassFade;
use crate::dsp::compressor::{CompSettings, Compressor};
use crate::dsp::delay::{Delay, DelaySettings};
use crate::dsp::delay_line::IntegerDelay;
use crate::dsp::fade::Fade;
use crate::dsp::reverb::{Reverb, ReverbSettings};
use crate::dsp::svf::{Filter, Mode, Slope};
use crate::dsp::{db_to_gain, flush_tiny, is_garbage, sanitize, BlockStage};
use crate::params::{LivechainParams, SlopeParam};
use nice_plug::prelude::*;

/// Work is done in chunks of this many samples so that all scratch space is fixed-size. The
/// result does not depend on it: everything advances per sample.
pub const CHUNK: usize = 128;
const _: () = assert!(
    CHUNK <= crate::dsp::compressor::BLOCK
        && CHUNK <= crate::dsp::agc::BLOCK
        && CHUNK <= crate::dsp::delay::BLOCK
        && CHUNK <= crate::dsp::reverb::BLOCK,
    "the dynamics, the delay and the reverb take a chunk at once"
);
pub const MAX_CHANNELS: usize = crate::dsp::MAX_CH;

/// The most latency any stage may add, in seconds (the compressor's 10 ms lookahead plus margin).
pub const MAX_LATENCY_S: f32 = 0.012;

/// Per-sample values of every continuous parameter for one chunk.
struct Lanes {
    in_gain: [f32; CHUNK],
    out_gain: [f32; CHUNK],
    mix: [f32; CHUNK],
    hp: [f32; CHUNK],
    lp: [f32; CHUNK],
    agc: [[f32; CHUNK]; 4],
    comp: [[f32; CHUNK]; 6],
    delay: [[f32; CHUNK]; 4],
    reverb: [[f32; CHUNK]; 8],
    ceiling: [f32; CHUNK],
    wet_gain: [f32; CHUNK],
    dry_gain: [f32; CHUNK],
    fade: [[f32; CHUNK]; 6],
}

impl Default for Lanes {
    fn default() -> Self {
        let z = [0.0; CHUNK];
        Self {
            in_gain: z,
            out_gain: z,
            mix: z,
            hp: z,
            lp: z,
            agc: [z; 4],
            comp: [z; 6],
            delay: [z; 4],
            reverb: [z; 8],
            ceiling: z,
            wet_gain: z,
            dry_gain: z,
            fade: [z; 6],
        }
    }
}

/// The smoothed value of a decibel `param` as a linear gain, for each of the next `out.len()`
/// samples: one conversion for a steady value, one per sample only while it glides.
fn fill_gain(param: &FloatParam, out: &mut [f32]) {
    if param.smoothed.is_smoothing() {
        let n = out.len();
        param.smoothed.next_block(out, n);
        for g in out.iter_mut() {
            *g = db_to_gain(*g);
        }
    } else {
        out.fill(db_to_gain(param.smoothed.next()));
    }
}

/// One stage's parameters into its lanes for the next `n` samples; true when none of them
/// glides. A steady stage reads its settings once, from sample 0 (`Filter::process_block`,
/// `block_stage!`), so then only sample 0 of each lane is written; while any glides, every
/// lane is filled for every sample.
fn fill_stage<const K: usize>(params: [&FloatParam; K], lanes: &mut [[f32; CHUNK]; K], n: usize) -> bool {
    if params.iter().any(|p| p.smoothed.is_smoothing()) {
        for (param, lane) in params.iter().zip(lanes.iter_mut()) {
            fill(param, &mut lane[..n]);
        }
        false
    } else {
        for (param, lane) in params.iter().zip(lanes.iter_mut()) {
            lane[0] = param.smoothed.next();
        }
        true
    }
}

/// The smoothed value of `param` for each of the next `out.len()` samples.
fn fill(param: &FloatParam, out: &mut [f32]) {
    if param.smoothed.is_smoothing() {
        let n = out.len();
        param.smoothed.next_block(out, n);
    } else {
        out.fill(param.smoothed.next());
    }
}

pub fn slope(p: &EnumParam<SlopeParam>) -> Slope {
    match p.value() {
        SlopeParam::Db12 => Slope::Db12,
        SlopeParam::Db24 => Slope::Db24,
    }
}

// Indices into `Lanes::fade` and `Chain::fades`.
const HP: usize = 0;
const LP: usize = 1;
const AGC: usize = 2;
const COMP: usize = 3;
const DELAY: usize = 4;
const REVERB: usize = 5;

pub struct Chain {
    sample_rate: f32,
    channels: usize,
    latency: usize,
    tempo: Option<f64>,
    /// The untouched input, delayed by the latency, for the bypass.
    bypass_delay: [IntegerDelay; MAX_CHANNELS],
    /// The input after input gain, delayed by the latency, for the dry/wet mix.
    dry_delay: [IntegerDelay; MAX_CHANNELS],
    bypass: BypassFade,
    fades: [Fade; 6],
    hp: Filter,
    lp: Filter,
    agc: Agc,
    comp: Compressor,
    delay: Delay,
    reverb: Reverb,
    lanes: Box<Lanes>,
    /// Per stage (HP … REVERB): none of its continuous parameters glides in this chunk, so its
    /// settings are the same for every sample and are built once.
    steady: [bool; 6],
    in_rms: crate::analysis::rms::RmsMeter,
    /// The input RMS meter runs only while the editor shows it.
    in_rms_live: crate::analysis::meters::Reopened,
    raw: [[f32; CHUNK]; MAX_CHANNELS],
    dry: [[f32; CHUNK]; MAX_CHANNELS],
}

impl Default for Chain {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            channels: 2,
            latency: 0,
            tempo: None,
            bypass_delay: Default::default(),
            dry_delay: Default::default(),
            bypass: BypassFade::default(),
            fades: Default::default(),
            hp: Filter::new(Mode::HighPass),
            lp: Filter::new(Mode::LowPass),
            agc: Agc::default(),
            comp: Compressor::default(),
            delay: Delay::default(),
            reverb: Reverb::default(),
            lanes: Box::default(),
            steady: [false; 6],
            in_rms: Default::default(),
            in_rms_live: Default::default(),
            raw: [[0.0; CHUNK]; MAX_CHANNELS],
            dry: [[0.0; CHUNK]; MAX_CHANNELS],
        }
    }
}

impl Chain {
    /// Allocates everything for this sample rate and channel count.
    pub fn prepare(&mut self, sample_rate: f32, channels: usize) {
        self.sample_rate = sample_rate;
        self.channels = channels.clamp(1, MAX_CHANNELS);
        let cap = (MAX_LATENCY_S * sample_rate).ceil() as usize + 1;
        for d in self.bypass_delay.iter_mut().chain(self.dry_delay.iter_mut()) {
            *d = IntegerDelay::new(cap);
            d.set_delay(self.latency);
        }
        self.bypass.prepare(sample_rate);
        for f in &mut self.fades {
            f.prepare(sample_rate);
        }
        self.hp.prepare(sample_rate);
        self.lp.prepare(sample_rate);
        self.agc.prepare(sample_rate);
        self.comp.prepare(sample_rate);
        self.delay.prepare(sample_rate);
        self.reverb.prepare(sample_rate);
        self.in_rms = crate::analysis::rms::RmsMeter::new(sample_rate as f64);
    }

    /// Clears every state and jumps the switches to their current positions.
    pub fn reset(&mut self, params: &LivechainParams) {
        self.update_latency(params);
        for d in self.bypass_delay.iter_mut().chain(self.dry_delay.iter_mut()) {
            d.reset();
        }
        self.bypass.snap(params.output.bypass.value());
        let p = params;
        let ons = [
            p.filters.hp_on.value(),
            p.filters.lp_on.value(),
            p.dynamics.agc_on.value(),
            p.dynamics.comp_on.value(),
            p.delay.on.value(),
            p.reverb.on.value(),
        ];
        for (f, on) in self.fades.iter_mut().zip(ons) {
            f.snap(on);
        }
        self.reset_stages();
    }

    /// Clears the stages' tails and envelopes (not the switches' positions).
    fn reset_stages(&mut self) {
        self.hp.reset();
        self.lp.reset();
        self.agc.reset();
        self.comp.reset();
        self.delay.reset();
        self.reverb.reset();
    }

    /// Follows the lookahead setting; returns true when the latency changed.
    pub fn update_latency(&mut self, params: &LivechainParams) -> bool {
        let latency = self.comp.lookahead_for(params.dynamics.lookahead.value());
        if latency == self.latency && self.comp.latency() == latency {
            return false;
        }
        self.comp.set_lookahead(latency);
        self.latency = latency;
        for d in self.bypass_delay.iter_mut().chain(self.dry_delay.iter_mut()) {
            d.set_delay(latency);
        }
        true
    }

    /// Total latency in samples, as reported to the host.
    pub fn latency(&self) -> usize {
        self.latency
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// The host's tempo in BPM, if it gives one (for the delay's tempo sync).
    pub fn set_tempo(&mut self, bpm: Option<f64>) {
        self.tempo = bpm.filter(|t| t.is_finite() && *t > 0.0);
    }

    /// The compressor's current gain reduction, dB (≤ 0).
    pub fn gain_reduction_db(&self) -> f32 {
        self.comp.gain_reduction_db()
    }

    pub fn agc_gain_db(&self) -> f32 {
        self.agc.gain_db()
    }

    /// True if the reverb's state holds a subnormal number (it never should).
    pub fn has_subnormal_state(&self) -> bool {
        self.reverb.has_subnormal_state()
    }

    /// The delay time in samples for the current settings and host tempo.
    pub fn delay_samples(&self, params: &LivechainParams, free_ms: f32) -> f32 {
        delay_samples_at(self.tempo, self.sample_rate, params, free_ms)
    }

    /// Processes one block in place. `buffer` holds one slice per channel, all the same length.
    pub fn process(&mut self, buffer: &mut [&mut [f32]], params: &LivechainParams, bridge: &Bridge) {
        let channels = buffer.len().min(self.channels);
        let len = buffer.first().map_or(0, |c| c.len());
        if self.in_rms_live.update(bridge.editor_open.load(std::sync::atomic::Ordering::Relaxed)) {
            self.in_rms.reset();
        }
        let mut start = 0;
        while start < len {
            let n = CHUNK.min(len - start);
            self.process_chunk(buffer, channels, start, n, params, bridge);
            start += n;
        }
        // Channels past what the chain handles get silence rather than stale host memory.
        for extra in buffer.iter_mut().skip(channels) {
            extra.fill(0.0);
        }
        bridge.gain_reduction_db.fetch_min(self.comp.block_gr_db, std::sync::atomic::Ordering::Relaxed);
        self.comp.block_gr_db = 0.0;
        bridge.comp_input_db.store(crate::dsp::gain_to_db(self.comp.block_peak), std::sync::atomic::Ordering::Relaxed);
        self.comp.block_peak = 0.0;
    }

    fn fill_lanes(&mut self, n: usize, p: &LivechainParams) {
        let l = &mut self.lanes;
        fill_gain(&p.input.gain, &mut l.in_gain[..n]);
        fill_gain(&p.output.gain, &mut l.out_gain[..n]);
        fill(&p.output.mix, &mut l.mix[..n]);
        self.steady[HP] = fill_stage([&p.filters.hp_freq], std::array::from_mut(&mut l.hp), n);
        self.steady[LP] = fill_stage([&p.filters.lp_freq], std::array::from_mut(&mut l.lp), n);
        let d = &p.dynamics;
        self.steady[AGC] = fill_stage([&d.agc_target, &d.agc_range, &d.agc_speed, &d.agc_gate], &mut l.agc, n);
        self.steady[COMP] = fill_stage([&d.threshold, &d.ratio, &d.knee, &d.attack, &d.release, &d.makeup], &mut l.comp, n);
        let dl = &p.delay;
        self.steady[DELAY] = fill_stage([&dl.time, &dl.feedback, &dl.tone, &dl.mix], &mut l.delay, n);
        let r = &p.reverb;
        self.steady[REVERB] =
            fill_stage([&r.predelay, &r.size, &r.decay, &r.damping, &r.modulation, &r.width, &r.early, &r.mix], &mut l.reverb, n);
        fill_gain(&p.output.ceiling, &mut l.ceiling[..n]);
        for m in &mut l.mix[..n] {
            *m *= 0.01;
        }
    }

    fn process_chunk(
        &mut self,
        buffer: &mut [&mut [f32]],
        channels: usize,
        start: usize,
        n: usize,
        params: &LivechainParams,
        bridge: &Bridge,
    ) {
        self.fill_lanes(n, params);
        let p = params;
        let bypassed = p.output.bypass.value();
        let bypass_fading = self.bypass.fill_gains(bypassed, &mut self.lanes.wet_gain[..n], &mut self.lanes.dry_gain[..n]);
        let ons = [
            p.filters.hp_on.value(),
            p.filters.lp_on.value(),
            p.dynamics.agc_on.value(),
            p.dynamics.comp_on.value(),
            p.delay.on.value(),
            p.reverb.on.value(),
        ];
        let mut active = [false; 6];
        for s in 0..6 {
            active[s] = !self.fades[s].is_off(ons[s]);
            if self.fades[s].fill(ons[s], &mut self.lanes.fade[s][..n]) {
                match s {
                    HP => self.hp.reset(),
                    LP => self.lp.reset(),
                    AGC => self.agc.reset(),
                    COMP => self.comp.reset_envelope(),
                    DELAY => self.delay.reset(),
                    _ => self.reverb.reset(),
                }
            }
        }

        // Input: sanitise, keep the untouched signal for the bypass, apply the input gain.
        let mut garbage = false;
        for ch in 0..channels {
            let block = &mut buffer[ch][start..start + n];
            let raw = &mut self.raw[ch][..n];
            let dry = &mut self.dry[ch][..n];
            // (Branch-free, with a count rather than a flag, so the loop runs on SIMD lanes.)
            let mut bad = 0u32;
            for (((x, raw), dry), &g) in block.iter_mut().zip(raw.iter_mut()).zip(dry.iter_mut()).zip(&self.lanes.in_gain[..n]) {
                bad += is_garbage(*x) as u32;
                let clean = sanitize(*x);
                *raw = clean;
                *x = clean * g;
                *dry = *x;
            }
            garbage |= bad > 0;
            bridge.input_peak.feed(ch, block);
            if self.in_rms_live.is_open() {
                self.in_rms.feed(ch, block, &bridge.input_rms);
            }
            self.bypass_delay[ch].process(raw);
            self.dry_delay[ch].process(dry);
        }

        // Filters. Both on at 12 dB/oct with their cutoffs held, on stereo: the two as one pass.
        let (hp_slope, lp_slope) = (slope(&p.filters.hp_slope), slope(&p.filters.lp_slope));
        if active[HP]
            && active[LP]
            && channels == 2
            && self.steady[HP]
            && self.steady[LP]
            && hp_slope == Slope::Db12
            && lp_slope == Slope::Db12
        {
            self.hp.set(self.lanes.hp[0], hp_slope);
            self.lp.set(self.lanes.lp[0], lp_slope);
            let (left, right) = buffer.split_at_mut(1);
            let (left, right) = (&mut left[0][start..start + n], &mut right[0][start..start + n]);
            Filter::process_pair(&mut self.hp, &mut self.lp, left, right, &self.lanes.fade[HP][..n], &self.lanes.fade[LP][..n]);
        } else {
            for (s, filter, cutoff, sl) in [(HP, &mut self.hp, &self.lanes.hp, hp_slope), (LP, &mut self.lp, &self.lanes.lp, lp_slope)] {
                if !active[s] {
                    continue;
                }
                let mut chans = chunk_slices(buffer, channels, start, n);
                filter.process_block(&mut chans[..channels], self.steady[s], |i| cutoff[i], sl, &self.lanes.fade[s][..n]);
            }
        }

        let l = &self.lanes;
        // Dynamics: the AGC levels first, then the compressor catches what is left.
        if active[AGC] {
            let agc = &mut self.agc;
            let settings = |i: usize| AgcSettings {
                target_lufs: l.agc[0][i],
                max_range_db: l.agc[1][i],
                speed_s: l.agc[2][i],
                gate_lufs: l.agc[3][i],
            };
            let mut chans = chunk_slices(buffer, channels, start, n);
            block_stage!(agc, &mut chans[..channels], self.steady[AGC], settings, &l.fade[AGC][..n]);
        }
        let auto_makeup = p.dynamics.auto_makeup.value();
        if active[COMP] {
            let comp = &mut self.comp;
            let settings = |i: usize| CompSettings {
                threshold_db: l.comp[0][i],
                ratio: l.comp[1][i],
                knee_db: l.comp[2][i],
                attack_ms: l.comp[3][i],
                release_ms: l.comp[4][i],
                makeup_db: l.comp[5][i],
                auto_makeup,
            };
            let mut chans = chunk_slices(buffer, channels, start, n);
            block_stage!(comp, &mut chans[..channels], self.steady[COMP], settings, &l.fade[COMP][..n]);
        } else if self.latency > 0 {
            let comp = &mut self.comp;
            for_each_frame(buffer, channels, start, n, |_, frame| comp.delay_only(frame));
        }

        if active[DELAY] {
            let ping_pong = p.delay.ping_pong.value();
            let (tempo, sample_rate) = (self.tempo, self.sample_rate);
            let delay = &mut self.delay;
            let settings = |i: usize| DelaySettings {
                delay_samples: delay_samples_at(tempo, sample_rate, p, l.delay[0][i]),
                feedback: l.delay[1][i] * 0.01,
                tone_hz: l.delay[2][i],
                ping_pong,
                mix: l.delay[3][i] * 0.01,
            };
            let mut chans = chunk_slices(buffer, channels, start, n);
            block_stage!(delay, &mut chans[..channels], self.steady[DELAY], settings, &l.fade[DELAY][..n]);
        }

        if active[REVERB] {
            let reverb = &mut self.reverb;
            let r = &l.reverb;
            let settings = |i: usize| ReverbSettings {
                predelay_ms: r[0][i],
                size: r[1][i] * 0.01,
                decay_s: r[2][i],
                damping: r[3][i] * 0.01,
                modulation: r[4][i] * 0.01,
                width: r[5][i] * 0.01,
                early: r[6][i] * 0.01,
                mix: r[7][i] * 0.01,
            };
            let mut chans = chunk_slices(buffer, channels, start, n);
            block_stage!(reverb, &mut chans[..channels], self.steady[REVERB], settings, &l.fade[REVERB][..n]);
        }

        // Output: dry/wet, output gain, ceiling, bypass, and a last guard on what leaves.
        let ceiling_on = p.output.ceiling_on.value();
        for ch in 0..channels {
            let block = &mut buffer[ch][start..start + n];
            let dry = &self.dry[ch][..n];
            let raw = &self.raw[ch][..n];
            // One pass per step, each the same arithmetic per sample as one loop doing all: the
            // mix, gain and guard passes run on SIMD lanes, the ceiling only when it is on.
            for (((x, &d), &m), &g) in block.iter_mut().zip(dry).zip(&l.mix[..n]).zip(&l.out_gain[..n]) {
                *x = (d * (1.0 - m) + *x * m) * g;
            }
            if ceiling_on {
                // Below half the ceiling the curve is the identity: a chunk that stays there (the
                // usual case, counted branch-free) is left as it is.
                let near = block.iter().zip(&l.ceiling[..n]).fold(0u32, |k, (x, &c)| k + !(x.abs() <= 0.5 * c) as u32);
                if near > 0 {
                    for (x, &c) in block.iter_mut().zip(&l.ceiling[..n]) {
                        *x = soft_ceiling(*x, c);
                    }
                }
            }
            if bypass_fading {
                for (((x, &r), &w), &d) in block.iter_mut().zip(raw).zip(&l.wet_gain[..n]).zip(&l.dry_gain[..n]) {
                    *x = *x * w + r * d;
                }
            }
            for x in block.iter_mut() {
                *x = flush_tiny(guard_output(*x));
            }
            bridge.output_peak.feed(ch, block);
        }
        // NaN, Inf or absurd input is a host fault: it was replaced by silence, and whatever the
        // stages built from the samples around it is cleared so no tail carries the damage on.
        if garbage {
            self.reset_stages();
        }
    }
}

/// The delay time in samples: the synced note at `tempo` (when synced and the host has a tempo),
/// or the free time.
#[inline]
fn delay_samples_at(tempo: Option<f64>, sample_rate: f32, params: &LivechainParams, free_ms: f32) -> f32 {
    let d = &params.delay;
    match tempo {
        Some(bpm) if d.sync.value() => (d.note.value().beats(d.feel.value()) * 60.0 / bpm * sample_rate as f64) as f32,
        _ => free_ms * 0.001 * sample_rate,
    }
}

/// Runs `f` on each sample frame (one value per channel) of `buffer[..][start..start + n]`,
/// writing the frame back: the frame-wise stages all move samples this way.
#[inline(always)]
fn for_each_frame(buffer: &mut [&mut [f32]], channels: usize, start: usize, n: usize, mut f: impl FnMut(usize, &mut [f32])) {
    match (channels, buffer) {
        // Stereo and mono get loops over slices of exactly `n` samples (no bounds checks) and a
        // frame whose length the inlined stage sees as a constant.
        (2, [l, r, ..]) => {
            let (l, r) = (&mut l[start..start + n], &mut r[start..start + n]);
            for i in 0..n {
                let mut frame = [l[i], r[i]];
                f(i, &mut frame);
                [l[i], r[i]] = frame;
            }
        }
        (1, [m, ..]) => {
            for (i, x) in m[start..start + n].iter_mut().enumerate() {
                let mut frame = [*x];
                f(i, &mut frame);
                *x = frame[0];
            }
        }
        // The chain handles at most MAX_CHANNELS (2) channels: nothing else reaches here.
        _ => {}
    }
}

/// Runs a stage that takes the chunk at once: `process_steady` with its settings built once when
/// `steady` (none of its parameters glides: every sample's settings are the same values),
/// `process_block` otherwise.
macro_rules! block_stage {
    ($stage:expr, $chans:expr, $steady:expr, $settings:expr, $fade:expr) => {
        if $steady {
            BlockStage::process_steady($stage, $chans, $settings(0), $fade)
        } else {
            BlockStage::process_block($stage, $chans, $settings, $fade)
        }
    };
}
use block_stage;

/// The chunk `[start..start + n]` of each of the first `channels` (≤ MAX_CHANNELS) channels.
#[inline(always)]
fn chunk_slices<'a>(buffer: &'a mut [&mut [f32]], channels: usize, start: usize, n: usize) -> [&'a mut [f32]; MAX_CHANNELS] {
    let mut it = buffer.iter_mut().take(channels).map(|c| &mut c[start..start + n]);
    std::array::from_fn(|_| it.next().unwrap_or_default())
}

/// The last guard on what leaves the plugin: never non-finite, never beyond ±1000 (+60 dBFS).
#[inline]
fn guard_output(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-crate::dsp::INPUT_LIMIT, crate::dsp::INPUT_LIMIT)
    } else {
        0.0
    }
}

/// A safety ceiling: transparent below half the ceiling (−6 dB), then a tanh knee that
/// approaches but never reaches `ceiling`; a final clamp makes the promise exact.
#[inline]
pub fn soft_ceiling(x: f32, ceiling: f32) -> f32 {
    let knee = 0.5 * ceiling;
    let a = x.abs();
    if a <= knee {
        return x;
    }
    let room = ceiling - knee;
    let y = (knee + room * ((a - knee) / room).tanh()).min(ceiling);
    y.copysign(x)
}
