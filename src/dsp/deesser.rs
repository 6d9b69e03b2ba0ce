//! A de-esser: it listens to a band (2 to 12 kHz) and, when that band is loud *relative to the
//! whole voice*, turns it down: only that band (split-band, a bell whose depth moves) or the
//! whole signal (wideband). Because the detector compares the band's level with the full
//! signal's, a sibilant is the same sibilant at any input level: the threshold is how far the
//! band may come up toward the whole (0 dB: the band is everything) before it is reduced.
//!
//! Zero latency: the band is a trapezoidal state-variable band-pass, the same filter whose band
//! output makes the bell, so the band reduced is exactly the band heard.

use super::eq::design::SvfCoefs;
use super::{fastmath, BLOCK, MAX_CH};

/// The detector's mean-square window, both for the band and for the whole signal.
pub const DETECT_MS: f32 = 3.0;
/// How fast the reduction comes and goes.
pub const ATTACK_MS: f32 = 0.5;
pub const RELEASE_MS: f32 = 40.0;
/// Below this full-signal level (dBFS) nothing is reduced: breath and room noise are not
/// sibilance however bright.
pub const FLOOR_DB: f32 = -70.0;
/// `FLOOR_DB` as a mean square.
const FLOOR_MS: f32 = 1e-7;

/// The soft knee's width around the threshold (dB).
pub const KNEE_DB: f32 = 4.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeEsserSettings {
    pub freq_hz: f32,
    /// The band's width in octaves.
    pub width_oct: f32,
    /// The band's level relative to the whole signal above which it is reduced (dB, ≤ 0).
    pub threshold_db: f32,
    /// The most it reduces (dB).
    pub range_db: f32,
    pub wideband: bool,
    /// Solo the detector's band (to tune it by ear).
    pub listen: bool,
}

impl Default for DeEsserSettings {
    fn default() -> Self {
        Self { freq_hz: 6_500.0, width_oct: 2.0, threshold_db: -12.0, range_db: 12.0, wideband: false, listen: false }
    }
}

/// The Q of a band `oct` octaves wide (between its −3 dB points).
pub fn q_for_octaves(oct: f32) -> f32 {
    let r = 2f32.powf(oct);
    r.sqrt() / (r - 1.0)
}

/// The reduction (dB, ≤ 0) for a band `ratio_db` above or below the whole signal.
#[inline]
pub fn reduction_db(ratio_db: f32, threshold_db: f32, range_db: f32) -> f32 {
    // Without branches (so a block of them runs side by side): under the knee t = 0 and the
    // larger of the two is 0; across it the quadratic (which never falls under `over`, since
    // their difference is (over − K/2)² / 2K); above it `over` itself.
    let over = ratio_db - threshold_db;
    let t = (over + 0.5 * KNEE_DB).clamp(0.0, KNEE_DB);
    let r = over.max(t * t * (0.5 / KNEE_DB));
    -r.min(range_db)
}

/// The band-pass: a trapezoidal state-variable filter (Simper's form) written as its
/// state-space map (`SvfCoefs`, the EQ's), so a sample's state waits on one multiply and two adds
/// instead of the form's chain of five; and the settings (freq, width) it was made for.
#[derive(Debug, Clone)]
struct BandFilter {
    made_for: (f32, f32),
    coefs: SvfCoefs,
}

impl Default for BandFilter {
    fn default() -> Self {
        Self { made_for: (0.0, 0.0), coefs: SvfCoefs::IDENTITY }
    }
}

impl BandFilter {
    #[inline]
    fn set(&mut self, sample_rate: f32, freq: f32, width: f32) {
        if (freq, width) != self.made_for {
            self.made_for = (freq, width);
            let g = (std::f32::consts::PI * freq.clamp(10.0, 0.45 * sample_rate) / sample_rate).tan();
            let k = 1.0 / q_for_octaves(width.max(0.05));
            // The band (unity gain at the centre) is k·v1.
            self.coefs = SvfCoefs::simper(g, k, [0.0, k, 0.0]);
        }
    }
}

#[derive(Debug, Clone)]
pub struct DeEsser {
    sample_rate: f32,
    filt: BandFilter,
    /// The threshold the quick test below was made for, and the band-to-whole mean-square ratio
    /// under which nothing is reduced (the knee's foot), so most samples need no logarithm.
    quiet_for: f32,
    quiet_ratio: f32,
    state: [[f32; 2]; MAX_CH],
    detect: f32,
    attack: f32,
    release: f32,
    band_ms: f32,
    full_ms: f32,
    gr_db: f32,
    /// The deepest reduction of the block (dB), for the meter.
    pub block_gr_db: f32,
}

impl Default for DeEsser {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            filt: BandFilter::default(),
            quiet_for: f32::NAN,
            quiet_ratio: 0.0,
            state: [[0.0; 2]; MAX_CH],
            detect: 0.0,
            attack: 0.0,
            release: 0.0,
            band_ms: 0.0,
            full_ms: 0.0,
            gr_db: 0.0,
            block_gr_db: 0.0,
        }
    }
}

impl DeEsser {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        let coef = |ms: f32| (-1.0 / (ms * 0.001 * sample_rate)).exp();
        self.detect = coef(DETECT_MS);
        self.attack = coef(ATTACK_MS);
        self.release = coef(RELEASE_MS);
        self.filt.made_for = (0.0, 0.0);
        self.quiet_for = f32::NAN;
        self.reset();
    }

    pub fn reset(&mut self) {
        self.state = [[0.0; 2]; MAX_CH];
        self.band_ms = 0.0;
        self.full_ms = 0.0;
        self.gr_db = 0.0;
    }

    pub fn gain_reduction_db(&self) -> f32 {
        self.gr_db
    }

    /// Processes a block (1 or 2 channels, at most `BLOCK` frames) in place; `fade[i]` fades the
    /// stage in and out.
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> DeEsserSettings, fade: &[f32]) {
        self.process::<false>(chans, settings, fade)
    }

    /// `process_block` with the settings held over the block: they are looked at once.
    pub fn process_steady(&mut self, chans: &mut [&mut [f32]], s: DeEsserSettings, fade: &[f32]) {
        self.process::<true>(chans, |_| s, fade)
    }

    /// The detector's pass over `CH` channels: each channel's band (unity gain at its centre;
    /// the channels' filters are independent, so they run side by side), the two mean squares of
    /// the louder channel, and their ratio where a reduction is possible (0 elsewhere: a quiet
    /// signal, a band under the knee's foot). Each sample waits on the one before, so the states
    /// live in locals (registers) for the pass.
    #[inline(always)]
    fn detect<const CH: usize, const STEADY: bool>(
        &mut self,
        chans: &[&mut [f32]],
        n: usize,
        settings: &impl Fn(usize) -> DeEsserSettings,
        band: &mut [[f32; BLOCK]; MAX_CH],
        ratio: &mut [f32; BLOCK],
    ) {
        let inputs: [&[f32]; CH] = std::array::from_fn(|ch| &chans[ch][..n]);
        let mut state: [[f32; 2]; CH] = std::array::from_fn(|ch| self.state[ch]);
        let (mut band_ms, mut full_ms, detect) = (self.band_ms, self.full_ms, self.detect);
        for i in 0..n {
            if !STEADY || i == 0 {
                let s = settings(i);
                self.filt.set(self.sample_rate, s.freq_hz, s.width_oct);
                if s.threshold_db != self.quiet_for {
                    self.quiet_for = s.threshold_db;
                    self.quiet_ratio = 10f32.powf((s.threshold_db - 0.5 * KNEE_DB) / 10.0);
                }
            }
            let (mut b2, mut f2) = (0.0f32, 0.0f32);
            for ch in 0..CH {
                let x = inputs[ch][i];
                let b = self.filt.coefs.tick(&mut state[ch], x);
                band[ch][i] = b;
                b2 = b2.max(b * b);
                f2 = f2.max(x * x);
            }
            band_ms = b2 + detect * (band_ms - b2);
            full_ms = f2 + detect * (full_ms - f2);
            let live = full_ms > FLOOR_MS && band_ms > full_ms * self.quiet_ratio;
            ratio[i] = if live { band_ms / full_ms } else { 0.0 };
        }
        self.state[..CH].copy_from_slice(&state);
        (self.band_ms, self.full_ms) = (band_ms, full_ms);
    }

    #[inline(always)]
    fn process<const STEADY: bool>(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> DeEsserSettings, fade: &[f32]) {
        // In passes, like the compressor: the filter and the two levels (`detect`: each sample
        // waits for the one before), the reductions asked for (logarithms side by side), the reduction's
        // attack and release (serial again), then the gains and the output (side by side).
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        let mut band = [[0.0f32; BLOCK]; MAX_CH];
        let mut ratio = [0.0f32; BLOCK];
        if channels == 1 {
            self.detect::<1, STEADY>(chans, n, &settings, &mut band, &mut ratio);
        } else {
            self.detect::<2, STEADY>(chans, n, &settings, &mut band, &mut ratio);
        }
        let (mut target, mut gr, mut gain) = ([0.0f32; BLOCK], [0.0f32; BLOCK], [1.0f32; BLOCK]);
        for (i, (t, &r)) in target[..n].iter_mut().zip(&ratio[..n]).enumerate() {
            let s = settings(i);
            let asked = reduction_db(fastmath::gain_to_db(r.max(1e-30)) * 0.5, s.threshold_db, s.range_db);
            *t = if r > 0.0 { asked } else { 0.0 };
        }
        // Both candidates worked out side by side and the one that applies picked afterwards:
        // each sample waits on a multiply and an add, not on the choice first.
        let (attack_in, release_in) = (1.0 - self.attack, 1.0 - self.release);
        for (g, &target) in gr[..n].iter_mut().zip(&target[..n]) {
            let falling = self.attack * self.gr_db + attack_in * target;
            let rising = self.release * self.gr_db + release_in * target;
            self.gr_db = if target < self.gr_db { falling } else { rising };
            if target == 0.0 && self.gr_db > -1e-6 {
                // Released to within a millionth of a dB: none.
                self.gr_db = 0.0;
            }
            *g = self.gr_db;
        }
        for (&g, &amount) in gr[..n].iter().zip(fade) {
            self.block_gr_db = self.block_gr_db.min(g * amount);
        }
        for (g, &r) in gain[..n].iter_mut().zip(&gr[..n]) {
            let e = fastmath::db_to_gain(r);
            *g = if r != 0.0 { e } else { 1.0 };
        }
        // The mode and the listen switch are switches, steady over a block (the host's events
        // split blocks): one loop each.
        let s = settings(0);
        for (ch, c) in chans.iter_mut().enumerate().take(channels) {
            let (c, b) = (&mut c[..n], &band[ch][..n]);
            if s.listen {
                for ((x, &b), &f) in c.iter_mut().zip(b).zip(fade) {
                    *x += f * (b - *x);
                }
            } else if s.wideband {
                for ((x, &g), &f) in c.iter_mut().zip(&gain[..n]).zip(fade) {
                    *x += f * (g * *x - *x);
                }
            } else {
                for (((x, &b), &g), &f) in c.iter_mut().zip(b).zip(&gain[..n]).zip(fade) {
                    *x += f * (*x + (g - 1.0) * b - *x);
                }
            }
        }
    }
}

super::block_stage_impl!(DeEsser, DeEsserSettings, steady);

#[cfg(test)]
mod tests {
    use super::*;

    /// The steady form gives the general form's bits: holds with other bands, thresholds and
    /// ranges, split band and wideband, a fade, mono and stereo.
    #[test]
    fn the_steady_form_matches_the_general_form() {
        for channels in [1usize, 2] {
            let (mut a, mut b) = (DeEsser::default(), DeEsser::default());
            a.prepare(48_000.0);
            b.prepare(48_000.0);
            let mut seed = 8u32;
            let input = |_| (crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5) * 0.5;
            let hold = |h: usize| DeEsserSettings {
                freq_hz: [6_500.0, 3_000.0, 9_000.0][h % 3],
                width_oct: [2.0, 0.7][h % 2],
                threshold_db: [-12.0, -3.0, -20.0][h % 3],
                range_db: [12.0, 6.0][h % 2],
                wideband: h % 4 == 1,
                listen: false,
            };
            let fade = |t: usize| ((t as f32 * 0.0007).sin() * 0.8 + 0.6).clamp(0.0, 1.0);
            let sizes = [64usize, 1, 77, 128, 3, 100];
            crate::dsp::block_test::assert_steady_matches_general(&mut a, &mut b, channels, &sizes, 500, 20, input, hold, fade, |a, b| {
                assert_eq!(a.gr_db.to_bits(), b.gr_db.to_bits());
            });
        }
    }
}
