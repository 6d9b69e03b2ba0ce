//! An algorithmic reverb: pre-delay, early reflections, input diffusion and an 8-line feedback
//! delay network with a Hadamard (unitary) feedback matrix.
//!
//! Each line's loop gain is 10^(−3·len/(T60·fs)), so every mode decays by 60 dB in the set time
//! whatever the line's length; damping is a one-pole low-pass per line with unity gain at DC, so
//! high frequencies die sooner while the low-frequency decay stays on the setting. The lines are
//! read at slowly modulated fractional positions to smear metallic resonances.

mod lfo;
mod lines;
mod simd;
#[cfg(test)]
mod tests;

use super::ring::Ring;
use super::{CONTROL, MAX_CH, RAMP};
use lfo::*;
use lines::*;
use simd::*;
use wide::f32x8;

pub const LINES: usize = 8;
/// Line lengths at size 1.0, ms: spread and mutually incommensurate so modes don't pile up.
const LINE_MS: [f32; LINES] = [31.71, 37.11, 40.93, 45.27, 49.81, 53.57, 59.33, 66.17];
/// Size 0..1 maps to this scale of the line lengths.
const SIZE_MIN: f32 = 0.35;
const SIZE_MAX: f32 = 1.65;
/// Peak modulation depth at 100 %, ms, and LFO rates (Hz) per line.
const MOD_DEPTH_MS: f32 = 0.6;
const MOD_HZ: [f32; LINES] = [0.31, 0.43, 0.37, 0.53, 0.47, 0.29, 0.61, 0.41];
pub const MAX_PREDELAY_MS: f32 = 200.0;
/// Early reflections: tap times (ms at size 1.0), gains, and which side they land on.
const ER_MS: [f32; 8] = [7.3, 11.9, 16.7, 21.1, 27.8, 33.4, 41.5, 49.2];
const ER_GAIN: [f32; 8] = [0.84, 0.76, 0.69, 0.61, 0.55, 0.48, 0.42, 0.36];
const ER_LEFT: [bool; 8] = [true, false, true, false, false, true, false, true];
/// Input diffusers (Schroeder allpasses), ms, per channel.
const DIFFUSER_MS: [[f32; 2]; MAX_CH] = [[4.71, 3.59], [4.23, 3.11]];
const DIFFUSION: f32 = 0.6;

#[derive(Debug, Clone, Copy)]
pub struct ReverbSettings {
    pub predelay_ms: f32,
    /// 0..1
    pub size: f32,
    pub decay_s: f32,
    /// 0..1
    pub damping: f32,
    /// 0..1
    pub modulation: f32,
    /// 0 (mono) .. 1 (full stereo)
    pub width: f32,
    /// Early reflections level, 0..1
    pub early: f32,
    /// Wet level added to the signal, 0..1
    pub mix: f32,
}

impl Default for ReverbSettings {
    fn default() -> Self {
        Self { predelay_ms: 10.0, size: 0.5, decay_s: 1.2, damping: 0.4, modulation: 0.2, width: 1.0, early: 0.3, mix: 0.2 }
    }
}

pub use super::BLOCK;

/// A run's working arrays, kept with the reverb rather than on the stack: every element a run
/// reads is written first in the same run, so nothing needs clearing between runs.
#[derive(Debug, Clone)]
struct Scratch {
    pre: [usize; BLOCK],
    early_on: [bool; BLOCK],
    depth: [f32; BLOCK],
    damp: [f32; BLOCK],
    width: [f32; BLOCK],
    mix: [f32; BLOCK],
    input: [[f32; BLOCK]; MAX_CH],
    early: [[f32; BLOCK]; MAX_CH],
    x: [f32; BLOCK],
    v: [f32; BLOCK],
    /// The FDN's left and right outputs, before width and mix.
    wet: [[f32; BLOCK]; MAX_CH],
    written: [[f32; LINES]; BLOCK],
    /// While size or decay glide: each sample's line lengths, gains and early-reflection offsets.
    glide: Box<Glide>,
}

#[derive(Debug, Clone)]
struct Glide {
    lengths: [[f32; LINES]; BLOCK],
    gains: [[f32; LINES]; BLOCK],
    er: [[usize; ER_MS.len()]; BLOCK],
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            pre: [0; BLOCK],
            early_on: [false; BLOCK],
            depth: [0.0; BLOCK],
            damp: [0.0; BLOCK],
            width: [0.0; BLOCK],
            mix: [0.0; BLOCK],
            input: [[0.0; BLOCK]; MAX_CH],
            early: [[0.0; BLOCK]; MAX_CH],
            x: [0.0; BLOCK],
            v: [0.0; BLOCK],
            wet: [[0.0; BLOCK]; MAX_CH],
            written: [[0.0; LINES]; BLOCK],
            glide: Box::new(Glide { lengths: [[0.0; LINES]; BLOCK], gains: [[0.0; LINES]; BLOCK], er: [[0; ER_MS.len()]; BLOCK] }),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Reverb {
    sample_rate: f32,
    predelay: [Ring; MAX_CH],
    diffusers: [[Ring; 2]; MAX_CH],
    lines: Lines,
    damp_state: [f32; LINES],
    lfo: Lfo,
    /// Cached per-line gains for (size, decay).
    cache: (f32, f32),
    gains: [f32; LINES],
    lengths: [f32; LINES],
    /// Early reflections' offsets behind the pre-delay, in samples, for the cached size.
    er_offsets: [usize; ER_MS.len()],
    /// The input diffusers' delays in samples (fixed for a sample rate).
    diffuser_delays: [[usize; 2]; MAX_CH],
    /// The most samples a run can hold: the shortest diffuser delay (a run reads only what was
    /// written before it) and, for the cached size, the shortest line's delay − 1 (`fdn_run`).
    diffuser_run: usize,
    fdn_run: usize,
    scratch: Box<Scratch>,
}

impl Reverb {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        let ms = |m: f32| (m * 0.001 * sample_rate).ceil() as usize;
        for ch in 0..MAX_CH {
            // (+ BLOCK: a run reads its first sample's taps after pushing the whole run.)
            self.predelay[ch] = Ring::new(ms(MAX_PREDELAY_MS + ER_MS[7] * SIZE_MAX) + 8 + BLOCK);
            for (k, d) in self.diffusers[ch].iter_mut().enumerate() {
                *d = Ring::new(ms(DIFFUSER_MS[ch][k]) + 5);
                self.diffuser_delays[ch][k] = ((DIFFUSER_MS[ch][k] * (0.001 * sample_rate)) as usize).max(1);
            }
        }
        self.diffuser_run = self.diffuser_delays.iter().flatten().fold(BLOCK, |m, &d| m.min(d));
        let longest = LINE_MS.iter().fold(0.0f32, |m, &x| m.max(x));
        self.lines = Lines::new(ms(longest * SIZE_MAX + MOD_DEPTH_MS) + 4);
        for i in 0..LINES {
            self.lfo.inc[i] = MOD_HZ[i] as f64 * CONTROL as f64 / sample_rate as f64;
        }
        self.cache = (f32::NAN, f32::NAN);
        self.reset();
    }

    pub fn reset(&mut self) {
        for r in self.predelay.iter_mut().chain(self.diffusers.iter_mut().flatten()) {
            r.reset();
        }
        self.lines.reset();
        self.damp_state = [0.0; LINES];
        self.lfo.reset();
    }

    /// Brings the state to what `frames` samples of silence leave after the tail: the lines,
    /// the pre-delay and the diffusers empty, the LFOs `frames` samples further on.
    pub fn skip_silence(&mut self, frames: u64) {
        for r in self.predelay.iter_mut().chain(self.diffusers.iter_mut().flatten()) {
            r.reset();
        }
        self.lines.reset();
        self.damp_state = [0.0; LINES];
        self.lfo.advance(frames);
    }

    fn scale(size: f32) -> f32 {
        SIZE_MIN + (SIZE_MAX - SIZE_MIN) * size.clamp(0.0, 1.0)
    }

    /// The mean length of line `i` in samples at a size.
    pub fn line_length(&self, i: usize, size: f32) -> f32 {
        LINE_MS[i] * Self::scale(size) * 0.001 * self.sample_rate
    }

    /// The line lengths, their gains and the early reflections' offsets for a size and decay:
    /// the one formula for the cached values and for each sample's while they glide.
    #[inline]
    fn line_settings(
        sample_rate: f32,
        size: f32,
        decay_s: f32,
        lengths: &mut [f32; LINES],
        gains: &mut [f32; LINES],
        er: &mut [usize; ER_MS.len()],
    ) {
        let sr_ms = 0.001 * sample_rate;
        for (k, off) in er.iter_mut().enumerate() {
            *off = (ER_MS[k] * Self::scale(size) * sr_ms) as usize;
        }
        for i in 0..LINES {
            // (`line_length`'s formula.)
            lengths[i] = LINE_MS[i] * Self::scale(size) * 0.001 * sample_rate;
            // −60 dB after decay_s seconds: gain per pass = 10^(−3·len / (T60·fs)).
            // (fastmath: while decay or size glide this runs every sample for every line)
            gains[i] = super::fastmath::exp2(-3.0 * std::f32::consts::LOG2_10 * lengths[i] / (decay_s.max(0.05) * sample_rate));
        }
    }

    /// The most samples a run can hold at a size: every line's delay is at least its length −
    /// the deepest modulation (|fast_sin| ≤ 1), and at least 4 (the clamp); a run may hold one
    /// sample fewer than the shortest. (Lines grow with the size: the smallest size in a block
    /// bounds all of it.)
    fn fdn_run_at(&self, size: f32) -> usize {
        let shortest = (0..LINES).map(|i| self.line_length(i, size)).fold(f32::MAX, f32::min);
        let floor = (shortest - MOD_DEPTH_MS * 0.001 * self.sample_rate - 1.0).floor().max(4.0);
        (floor.min(BLOCK as f32) as usize - 1).max(1)
    }

    #[inline]
    fn update_gains(&mut self, size: f32, decay_s: f32) {
        if self.cache == (size, decay_s) {
            return;
        }
        self.cache = (size, decay_s);
        Self::line_settings(self.sample_rate, size, decay_s, &mut self.lengths, &mut self.gains, &mut self.er_offsets);
        self.fdn_run = self.fdn_run_at(size);
    }

    /// Processes a block of frames (1 or 2 channels, at most `BLOCK` frames) in place;
    /// `settings(i)` and `fade[i]` are sample i's. Bit for bit what `tick` gives frame after
    /// frame: the block runs in runs short enough that nothing a run reads is written by the
    /// same run, so each delay line is read for the whole run, then written for the whole run.
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> ReverbSettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        if channels == 0 {
            return;
        }
        let first = settings(0);
        self.update_gains(first.size, first.decay_s);
        // Runs as long as the delays allow at the smallest size in the block; where size or
        // decay glide, a run carries each sample's line lengths and gains (`Glide`).
        let smallest = (1..n).map(|i| settings(i).size).fold(first.size, f32::min);
        let limit = self.diffuser_run.min(self.fdn_run_at(smallest));
        let mut a = 0;
        while a < n {
            let b = n.min(a + limit);
            self.run(chans, channels, a, b, &settings, fade, false);
            a = b;
        }
        // The cached values follow the last sample, for the blocks after.
        let last = settings(n - 1);
        self.update_gains(last.size, last.decay_s);
    }

    /// `process_block` for settings that hold still over the block (the chain's steady case):
    /// the runs are as long as the delays allow, and each run's settings are built once instead
    /// of sample by sample. Bit for bit `process_block(chans, |_| s, fade)`.
    pub fn process_steady(&mut self, chans: &mut [&mut [f32]], s: ReverbSettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        if channels == 0 {
            return;
        }
        self.update_gains(s.size, s.decay_s);
        let limit = self.diffuser_run.min(self.fdn_run);
        let mut a = 0;
        while a < n {
            let b = n.min(a + limit);
            self.run(chans, channels, a, b, &|_| s, fade, true);
            a = b;
        }
    }

    /// Samples `a..b` of the block: one size and decay, and b − a ≤ the shortest delay a read
    /// looks back (`diffuser_run`, `fdn_run`).
    /// `steady`: every sample's settings are `settings(a)`'s (built once, filled at once).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        chans: &mut [&mut [f32]],
        channels: usize,
        a: usize,
        b: usize,
        settings: &impl Fn(usize) -> ReverbSettings,
        fade: &[f32],
        steady: bool,
    ) {
        let m = b - a;
        let sr_ms = 0.001 * self.sample_rate;
        let Scratch { pre, early_on, depth, damp, width, mix, input, early, x, v, wet, written, glide: per } = &mut *self.scratch;
        let n_settings = if steady { 1 } else { m };
        // Size or decay away from the cached values somewhere in the run: each sample then has
        // its own line lengths, gains and reflection offsets (computed only where they change).
        let mut glide = false;
        let mut key = self.cache;
        for i in 0..n_settings {
            let s = settings(a + i);
            pre[i] = ((s.predelay_ms.clamp(0.0, MAX_PREDELAY_MS) * sr_ms) as usize).max(1);
            early_on[i] = s.early > 0.0;
            depth[i] = s.modulation.clamp(0.0, 1.0) * MOD_DEPTH_MS * sr_ms;
            damp[i] = damping_coefficient(s.damping);
            width[i] = s.width.clamp(0.0, 1.0);
            mix[i] = s.mix;
            if !steady {
                let k = (s.size, s.decay_s);
                if k != self.cache && !glide {
                    glide = true;
                    for j in 0..i {
                        (per.lengths[j], per.gains[j], per.er[j]) = (self.lengths, self.gains, self.er_offsets);
                    }
                }
                if glide {
                    if i > 0 && k == key {
                        (per.lengths[i], per.gains[i], per.er[i]) = (per.lengths[i - 1], per.gains[i - 1], per.er[i - 1]);
                    } else {
                        Self::line_settings(self.sample_rate, k.0, k.1, &mut per.lengths[i], &mut per.gains[i], &mut per.er[i]);
                    }
                }
                key = k;
            }
        }
        if steady {
            let (p0, e0, d0, k0, w0, m0) = (pre[0], early_on[0], depth[0], damp[0], width[0], mix[0]);
            pre[1..m].fill(p0);
            early_on[1..m].fill(e0);
            depth[1..m].fill(d0);
            damp[1..m].fill(k0);
            width[1..m].fill(w0);
            mix[1..m].fill(m0);
        }
        let steady_pre = steady || pre[..m].iter().all(|&p| p == pre[0]);

        // Pre-delay: the run pushed, then read back (a pure delay: no read waits for a write).
        for (ch, line) in self.predelay.iter_mut().enumerate() {
            let src = &chans[ch.min(channels - 1)][a..b];
            for i in 0..m {
                x[i] = src[i] * fade[a + i];
            }
            line.push_run(&x[..m]);
            // Sample i's tap, `pre` pushes before its own, is now pre + (m − 1 − i) pushes ago.
            if steady_pre {
                line.read_run(pre[0] + m - 1, &mut input[ch][..m]);
            } else {
                for i in 0..m {
                    input[ch][i] = line.tap(pre[i] + m - 1 - i);
                }
            }
        }
        // Early reflections, from the same line.
        let any_early = if steady { early_on[0] } else { early_on[..m].iter().any(|&on| on) };
        if any_early {
            early[0][..m].fill(0.0);
            early[1][..m].fill(0.0);
            for k in 0..ER_MS.len() {
                let src = if ER_LEFT[k] { 0 } else { 1 };
                let line = &self.predelay[src];
                if steady_pre && !glide {
                    line.read_run(pre[0] + self.er_offsets[k] + m - 1, &mut x[..m]);
                } else if !glide {
                    for i in 0..m {
                        x[i] = line.tap(pre[i] + self.er_offsets[k] + m - 1 - i);
                    }
                } else {
                    for i in 0..m {
                        x[i] = line.tap(pre[i] + per.er[i][k] + m - 1 - i);
                    }
                }
                for i in 0..m {
                    early[src][i] += x[i] * ER_GAIN[k];
                }
            }
            if !steady {
                for i in 0..m {
                    if !early_on[i] {
                        early[0][i] = 0.0;
                        early[1][i] = 0.0;
                    }
                }
            }
        }

        // Input diffusion: two allpasses per channel, each read for the run (its delay is at
        // least the run's length), then written.
        for ch in 0..MAX_CH {
            let input = &mut input[ch];
            for k in 0..2 {
                let d = self.diffuser_delays[ch][k];
                let r = &mut self.diffusers[ch][k];
                let delayed = &mut x[..m];
                r.read_run(d, delayed);
                for i in 0..m {
                    v[i] = input[i] + DIFFUSION * delayed[i];
                    input[i] = delayed[i] - DIFFUSION * v[i];
                }
                r.push_run(&v[..m]);
            }
        }

        // The FDN: read, damp, mix through the unitary matrix, feed back with the decay gains.
        // Each step below is the same arithmetic for all eight lines at once (SIMD), and per
        // line exactly the scalar sequence (no reassociation, no fused multiply-add), so the
        // sound is bit-for-bit what a line-by-line loop gives. The run's writes wait until its
        // reads are done (`fdn_run`).
        let gains = f32x8::new(self.gains);
        let lengths = f32x8::new(self.lengths);
        let max_delay = f32x8::splat(self.lines.max_delay());
        let gather = self.lines.gather();
        let mut lfo = self.lfo.clone();
        let mut damp_state = f32x8::new(self.damp_state);
        for i in 0..m {
            let (lengths, gains) = if glide { (f32x8::new(per.lengths[i]), f32x8::new(per.gains[i])) } else { (lengths, gains) };
            let d = lengths + f32x8::splat(depth[i]) * lfo.next();
            // (The max also turns a NaN into 4: `taps` relies on a finite, in-range delay.)
            let d = clamp_delay(d, max_delay);
            let ([xm1, x0, x1, x2], t) = gather.taps(&d.to_array(), i);
            let y = hermite8(f32x8::new(xm1), f32x8::new(x0), f32x8::new(x1), f32x8::new(x2), f32x8::new(t));
            // One-pole low-pass with unity DC gain.
            let st = y + f32x8::splat(damp[i]) * (damp_state - y);
            damp_state = st;
            let [l_out, r_out] = stereo_outputs(st);
            wet[0][i] = l_out;
            wet[1][i] = r_out;
            let mut fb = st.to_array();
            hadamard8_simd(&mut fb);
            let (l, r) = (input[0][i], input[1][i]);
            let inj = f32x8::new([l, r, l, r, l, r, l, r]);
            written[i] = (f32x8::new(fb) * gains + inj).to_array();
        }

        self.lfo = lfo;
        self.damp_state = damp_state.to_array();

        // Width on the wet signal, then add it: a pass over the run.
        if !any_early {
            // (The same + 0.0 as reflections that are off.)
            early[0][..m].fill(0.0);
            early[1][..m].fill(0.0);
        }
        let gain = 0.35;
        // The wet level follows the switch's fade too: switched off, the tail fades out with
        // the input in 10 ms, so nothing is left to cut when the stage stops (wherever the
        // host's blocks fall). At fade 1 this is the same arithmetic, bit for bit.
        for (g, &f) in mix[..m].iter_mut().zip(&fade[a..b]) {
            *g *= f;
        }
        let (wet, early, width, mix) = (&wet[..2], &early[..2], &width[..m], &mix[..m]);
        let (wl_in, wr_in, el_in, er_in) = (&wet[0][..m], &wet[1][..m], &early[0][..m], &early[1][..m]);
        if channels == 2 {
            let (left, right) = chans.split_at_mut(1);
            let (left, right) = (&mut left[0][a..b], &mut right[0][a..b]);
            for i in 0..m {
                let wl = (wl_in[i] + el_in[i]) * gain;
                let wr = (wr_in[i] + er_in[i]) * gain;
                let mid = 0.5 * (wl + wr);
                let side = 0.5 * (wl - wr) * width[i];
                left[i] += mix[i] * (mid + side);
                right[i] += mix[i] * (mid - side);
            }
        } else {
            let out = &mut chans[0][a..b];
            for i in 0..m {
                let wl = (wl_in[i] + el_in[i]) * gain;
                let wr = (wr_in[i] + er_in[i]) * gain;
                out[i] += mix[i] * (0.5 * (wl + wr));
            }
        }
        self.lines.push_run(&written[..m]);
    }

    /// True if any stored sample is subnormal (tests assert the tail never is).
    pub fn has_subnormal_state(&self) -> bool {
        self.lines.has_subnormal()
            || self.predelay.iter().chain(self.diffusers.iter().flatten()).any(Ring::has_subnormal)
            || self.damp_state.iter().any(|x| x.is_subnormal())
    }
}

/// The pole of each line's damping low-pass for a damping setting 0..1.
pub fn damping_coefficient(damping: f32) -> f32 {
    damping.clamp(0.0, 1.0) * 0.85
}

super::block_stage_impl!(Reverb, ReverbSettings, steady);
