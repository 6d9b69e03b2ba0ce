//! A feed-forward, stereo-linked compressor: peak detection in dB, a soft-knee static curve,
//! attack/release smoothing of the gain reduction, make-up gain and optional lookahead.
//!
//! Lookahead delays the audio (not the side chain) by up to 10 ms, so the gain is already down
//! when a transient arrives; that delay is the chain's latency.

use super::delay_line::Lookahead;
use super::{fastmath, MAX_CH};

pub use super::BLOCK;

pub const MAX_LOOKAHEAD_MS: f32 = 10.0;

/// Per-sample settings of the compressor.
#[derive(Debug, Clone, Copy)]
pub struct CompSettings {
    pub threshold_db: f32,
    pub ratio: f32,
    pub knee_db: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
    pub makeup_db: f32,
    pub auto_makeup: bool,
}

impl Default for CompSettings {
    fn default() -> Self {
        Self { threshold_db: -18.0, ratio: 3.0, knee_db: 6.0, attack_ms: 10.0, release_ms: 150.0, makeup_db: 0.0, auto_makeup: false }
    }
}

/// The static curve's output level for an input level, both in dB (Giannoulis, Massberg and
/// Reiss's soft-knee form: quadratic across the knee, exact slope 1/ratio above it).
#[inline]
pub fn static_curve_db(x_db: f32, threshold_db: f32, ratio: f32, knee_db: f32) -> f32 {
    let over = x_db - threshold_db;
    // Every piece is computed and one is chosen (the knee's is not finite without a knee, and
    // then never chosen), so a pass over many samples runs on SIMD lanes.
    let t = over + knee_db * 0.5;
    let knee = x_db + (1.0 / ratio - 1.0) * t * t / (2.0 * knee_db);
    let above = threshold_db + over / ratio;
    let curved = if knee_db > 0.0 && 2.0 * over.abs() <= knee_db { knee } else { above };
    if 2.0 * over < -knee_db {
        x_db
    } else {
        curved
    }
}

/// Auto make-up: half the static gain reduction that a 0 dBFS peak would get, a compromise that
/// keeps perceived level roughly constant without pushing quiet material up by the full amount.
#[inline]
pub fn auto_makeup_db(s: &CompSettings) -> f32 {
    -0.5 * (static_curve_db(0.0, s.threshold_db, s.ratio, s.knee_db) - 0.0)
}

/// A one-pole coefficient that reaches 1 − 1/e of a step in `ms`.
#[inline]
pub fn one_pole_coef(ms: f32, sample_rate: f32) -> f32 {
    (-1.0 / (ms.max(0.001) * 0.001 * sample_rate)).exp()
}

/// The smallest a[i]·b[i] (0 when that is smaller, or the slices are empty; NaNs passed over),
/// four lanes at a time.
#[inline]
fn min_product(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let whole = n / 4 * 4;
    let mut lanes = wide::f32x4::ZERO;
    for (x, y) in a[..whole].chunks_exact(4).zip(b[..whole].chunks_exact(4)) {
        let p = wide::f32x4::new([x[0], x[1], x[2], x[3]]) * wide::f32x4::new([y[0], y[1], y[2], y[3]]);
        // On x86-64 one `minps`, which gives its second operand where the first is a NaN.
        #[cfg(target_arch = "x86_64")]
        {
            lanes = p.fast_min(lanes);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            lanes = lanes.min(p);
        }
    }
    let rest = a[whole..].iter().zip(&b[whole..]).map(|(x, y)| x * y);
    rest.chain(lanes.to_array()).fold(0.0f32, f32::min)
}

#[derive(Debug, Clone)]
pub struct Compressor {
    sample_rate: f32,
    lookahead: Lookahead,
    /// Smoothed gain reduction in dB (≤ 0).
    gr_db: f32,
    attack_ms: f32,
    release_ms: f32,
    attack_coef: f32,
    release_coef: f32,
    /// The deepest gain reduction since the meter last read it (dB, ≤ 0).
    pub block_gr_db: f32,
    /// The loudest detector input since the meter last read it (linear), for the curve's dot.
    pub block_peak: f32,
}

impl Default for Compressor {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            lookahead: Lookahead::new(MAX_LOOKAHEAD_MS),
            gr_db: 0.0,
            attack_ms: -1.0,
            release_ms: -1.0,
            attack_coef: 0.0,
            release_coef: 0.0,
            block_gr_db: 0.0,
            block_peak: 0.0,
        }
    }
}

impl Compressor {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        self.lookahead.prepare(sample_rate);
        self.attack_ms = -1.0;
        self.release_ms = -1.0;
        self.reset();
    }

    pub fn reset(&mut self) {
        self.lookahead.reset();
        self.gr_db = 0.0;
        self.block_gr_db = 0.0;
    }

    /// Clears the envelope only; the lookahead line keeps running so the latency stays seamless.
    pub fn reset_envelope(&mut self) {
        self.gr_db = 0.0;
    }

    /// Lookahead in samples for a time in ms at this rate.
    pub fn lookahead_for(&self, ms: f32) -> usize {
        self.lookahead.samples_for(ms)
    }

    pub fn set_lookahead(&mut self, samples: usize) {
        self.lookahead.set(samples);
    }

    pub fn latency(&self) -> usize {
        self.lookahead.latency()
    }

    pub fn gain_reduction_db(&self) -> f32 {
        self.gr_db
    }

    /// Processes a block of frames (1 or 2 channels, at most `BLOCK` frames) in place, in four
    /// passes: the detector levels of the whole block (logarithms side by side,
    /// independent of each other), the envelope (the one pass where each sample waits for the
    /// one before), the gains (exponentials side by side), then the lookahead delay and the
    /// gain. Sample by sample, each sample's chain of logarithm, curve, envelope and exponential
    /// is longer than the processor can overlap with the next sample's; in passes it overlaps.
    /// `settings(i)` and `fade[i]` are sample i's settings and fade; the fade (0..1) fades the
    /// compressor in and out: the audio is always delayed by the lookahead, only the gain fades.
    /// (`BlockStage::tick` is this on one frame.)
    #[inline]
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> CompSettings, fade: &[f32]) {
        self.process::<false>(chans, settings, fade)
    }

    /// `process_block` for settings held over the block (the chain's steady case): the attack
    /// and release times are looked at once instead of in the envelope's serial loop. Bit for
    /// bit `process_block(chans, |_| s, fade)`.
    #[inline]
    pub fn process_steady(&mut self, chans: &mut [&mut [f32]], s: CompSettings, fade: &[f32]) {
        self.process::<true>(chans, |_| s, fade)
    }

    /// The attack and release coefficients for `s`'s times (recomputed only when they change).
    #[inline(always)]
    fn set_times(&mut self, s: &CompSettings) {
        if s.attack_ms != self.attack_ms {
            self.attack_ms = s.attack_ms;
            self.attack_coef = one_pole_coef(s.attack_ms, self.sample_rate);
        }
        if s.release_ms != self.release_ms {
            self.release_ms = s.release_ms;
            self.release_coef = one_pole_coef(s.release_ms, self.sample_rate);
        }
    }

    #[inline(always)]
    fn process<const STEADY: bool>(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> CompSettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let mut level = [0.0f32; BLOCK];
        match chans {
            [l, r, ..] => {
                for ((v, &a), &b) in level[..n].iter_mut().zip(&l[..n]).zip(&r[..n]) {
                    *v = 0.0f32.max(a.abs()).max(b.abs());
                }
            }
            [m] => {
                for (v, &a) in level[..n].iter_mut().zip(&m[..n]) {
                    *v = 0.0f32.max(a.abs());
                }
            }
            [] => {}
        }
        self.block_peak = self.block_peak.max(super::max_abs(&level[..n]));
        for l in &mut level[..n] {
            *l = fastmath::gain_to_db(l.max(1e-9));
        }
        // The gain reduction each sample asks for, and its make-up: a pass of its own.
        let mut target = [0.0f32; BLOCK];
        let mut makeup = [0.0f32; BLOCK];
        for i in 0..n {
            let s = settings(i);
            target[i] = static_curve_db(level[i], s.threshold_db, s.ratio, s.knee_db) - level[i];
            makeup[i] = s.makeup_db + if s.auto_makeup { auto_makeup_db(&s) } else { 0.0 };
        }
        let mut gain = [0.0f32; BLOCK];
        let mut reduction = [0.0f32; BLOCK];
        if STEADY && n > 0 {
            self.set_times(&settings(0));
        }
        for i in 0..n {
            if !STEADY {
                self.set_times(&settings(i));
            }
            let target = target[i];
            let coef = if target < self.gr_db { self.attack_coef } else { self.release_coef };
            self.gr_db = target + coef * (self.gr_db - target);
            reduction[i] = self.gr_db;
            gain[i] = self.gr_db + makeup[i];
        }
        // The meter's deepest (faded) reduction: a pass of its own, four lanes at a time.
        self.block_gr_db = self.block_gr_db.min(min_product(&reduction[..n], &fade[..n]));
        for (g, &amount) in gain[..n].iter_mut().zip(fade) {
            *g = 1.0 + amount * (fastmath::db_to_gain(*g) - 1.0);
        }
        for (ch, c) in chans.iter_mut().enumerate().take(MAX_CH) {
            let c = &mut c[..n];
            self.lookahead.process(ch, c);
            for (x, g) in c.iter_mut().zip(&gain[..n]) {
                *x *= g;
            }
        }
    }

    /// Only delays (the stage is off): keeps the latency constant whether it is on or not.
    #[inline]
    pub fn delay_only(&mut self, frame: &mut [f32]) {
        for (ch, x) in frame.iter_mut().enumerate() {
            *x = self.lookahead.tick(ch, *x);
        }
        self.gr_db = 0.0;
    }
}

super::block_stage_impl!(Compressor, CompSettings, steady);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::BlockStage;

    /// Blocks of any size give, bit for bit, what frame after frame gives (gain reduction,
    /// output, meters): through settings that change every sample, a fade in and out, mono and
    /// stereo, odd block sizes.
    #[test]
    fn any_block_size_gives_the_same_bits() {
        for channels in [1usize, 2] {
            let (mut a, mut b) = (Compressor::default(), Compressor::default());
            a.prepare(48_000.0);
            b.prepare(48_000.0);
            a.set_lookahead(96);
            b.set_lookahead(96);
            let mut seed = 9u32;
            let input = |_| (crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5) * 1.6;
            let settings = |t: usize| CompSettings {
                threshold_db: -30.0 + 20.0 * (t as f32 * 0.0003).sin(),
                ratio: 2.0 + (t as f32 * 0.0001).cos(),
                knee_db: 6.0,
                attack_ms: 5.0 + (t / 3000 % 3) as f32,
                release_ms: 120.0,
                makeup_db: 1.5,
                auto_makeup: (t / 5000).is_multiple_of(2),
            };
            let fade = |t: usize| ((t as f32 * 0.0002).sin() * 0.6 + 0.5).clamp(0.0, 1.0);
            let sizes = [1usize, 7, 128, 64, 33, 128, 5, 100];
            crate::dsp::block_test::assert_blocks_match_frames(&mut a, &mut b, channels, &sizes, 400, input, settings, fade, |a, b| {
                assert_eq!(a.gr_db.to_bits(), b.gr_db.to_bits());
                assert_eq!(a.block_gr_db.to_bits(), b.block_gr_db.to_bits());
                assert_eq!(a.block_peak.to_bits(), b.block_peak.to_bits());
            });
        }
    }

    /// The steady form gives, bit for bit, what the general form gives for the same held
    /// settings, through holds with other times, thresholds, knees and make-up, a fade, odd
    /// block sizes, mono and stereo.
    #[test]
    fn the_steady_form_matches_the_general_form() {
        for channels in [1usize, 2] {
            let (mut a, mut b) = (Compressor::default(), Compressor::default());
            for c in [&mut a, &mut b] {
                c.prepare(48_000.0);
                c.set_lookahead(96);
            }
            let mut seed = 10u32;
            let input = |_| (crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5) * 1.5;
            let hold = |h: usize| CompSettings {
                threshold_db: [-18.0, -30.0, -6.0][h % 3],
                ratio: [3.0, 8.0][h % 2],
                knee_db: [6.0, 0.0, 12.0][h % 3],
                attack_ms: [10.0, 0.5, 40.0][h % 3],
                release_ms: [150.0, 20.0][h % 2],
                makeup_db: 1.0,
                auto_makeup: h % 4 == 1,
            };
            let fade = |t: usize| ((t as f32 * 0.001).sin() * 0.8 + 0.6).clamp(0.0, 1.0);
            let sizes = [64usize, 1, 77, 128, 3, 100];
            crate::dsp::block_test::assert_steady_matches_general(&mut a, &mut b, channels, &sizes, 600, 25, input, hold, fade, |a, b| {
                assert_eq!((a.gr_db.to_bits(), a.block_gr_db.to_bits()), (b.gr_db.to_bits(), b.block_gr_db.to_bits()));
            });
        }
    }

    /// `min_product` is the plain fold of the products (from 0), NaNs passed over.
    #[test]
    fn min_product_is_the_plain_fold() {
        let mut seed = 4u32;
        for len in 0..30usize {
            let mut a: Vec<f32> = (0..len).map(|_| -(crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32) * 20.0).collect();
            let b: Vec<f32> = (0..len).map(|_| crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32).collect();
            let plain = |a: &[f32]| a.iter().zip(&b).fold(0.0f32, |m, (x, y)| m.min(x * y));
            assert_eq!(min_product(&a, &b), plain(&a));
            if len > 2 {
                a[len / 2] = f32::NAN;
                assert_eq!(min_product(&a, &b), plain(&a));
            }
        }
    }

    /// The envelope is exactly the static curve followed by the attack/release one-pole: a signal
    /// sweeping through the knee, with the threshold and knee moving, against that computation
    /// done here sample by sample.
    #[test]
    fn the_envelope_is_the_curve_through_the_one_pole_exactly() {
        let mut c = Compressor::default();
        c.prepare(48_000.0);
        let mut seed = 3u32;
        let mut gr = 0.0f32;
        let (attack, release) = (one_pole_coef(5.0, 48_000.0), one_pole_coef(80.0, 48_000.0));
        for n in 0..200_000 {
            let s = CompSettings {
                threshold_db: -40.0 + (n / 20_000) as f32 * 3.5,
                ratio: 4.0,
                knee_db: (n / 50_000) as f32 * 4.0,
                attack_ms: 5.0,
                release_ms: 80.0,
                makeup_db: 0.0,
                auto_makeup: false,
            };
            // A level gliding across the knee, with noise on it.
            let base = fastmath::db_to_gain(-60.0 + 60.0 * ((n as f32 * 0.0007).sin() * 0.5 + 0.5));
            let noise = crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32;
            let x = base * (0.9 + 0.2 * noise);
            let mut frame = [x, -x];
            c.tick(&mut frame, &s, 1.0);
            // The same envelope computed the long way.
            let level_db = fastmath::gain_to_db(x.max(1e-9));
            let target = static_curve_db(level_db, s.threshold_db, s.ratio, s.knee_db) - level_db;
            let coef = if target < gr { attack } else { release };
            gr = target + coef * (gr - target);
            assert_eq!(c.gain_reduction_db().to_bits(), gr.to_bits(), "sample {n}");
        }
    }
}
