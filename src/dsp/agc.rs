//! Automatic gain control: the seed's "feedback system", done as a broadcast leveler would.
//!
//! It measures loudness the way BS.1770 does (K-weighting, mean square summed over channels) with
//! a 400 ms integrator, and slowly moves its gain so that the measured input loudness plus the gain
//! meets the target, never beyond ± the maximum range. Below the gate (pauses, noise, silence) it
//! holds its gain instead of turning the noise floor up.

use super::kweight::KWeightingStereo;
use super::MAX_CH;

#[derive(Debug, Clone, Copy)]
pub struct AgcSettings {
    pub target_lufs: f32,
    pub max_range_db: f32,
    /// Time constant of the gain's movement, seconds.
    pub speed_s: f32,
    pub gate_lufs: f32,
}

impl Default for AgcSettings {
    fn default() -> Self {
        Self { target_lufs: -18.0, max_range_db: 18.0, speed_s: 3.0, gate_lufs: -50.0 }
    }
}

/// Loudness integrator time constant: BS.1770's momentary window length.
const MEASURE_S: f32 = 0.4;
/// The gate's own detector: fast, so that the end of a phrase closes the gate before the slow
/// measure has sagged.
const GATE_DETECT_S: f32 = 0.05;
/// Like BS.1770's relative gate: material this far below the running loudness (pauses, breaths,
/// reverb tails) does not pull the measure down.
const RELATIVE_GATE_LU: f32 = 10.0;
/// The relative gate as a ratio of mean squares: 10^(−RELATIVE_GATE_LU / 10).
const RELATIVE_GATE_RATIO: f64 = 0.1;
/// A source that stays below the relative gate this long is a new, quieter source: adapt to it.
const RELATIVE_TIMEOUT_S: f32 = 3.0;

#[derive(Debug, Clone)]
pub struct Agc {
    sample_rate: f32,
    kw: KWeightingStereo,
    fast: f64,
    fast_coef: f64,
    slow: f64,
    slow_coef: f64,
    speed_s: f32,
    speed_coef: f32,
    /// The current gain in dB.
    gain_db: f32,
    /// Samples integrated into `slow` so far (the gain moves only once it holds a full window).
    measured: usize,
    /// Samples spent above the absolute gate but below the relative one.
    below_relative: usize,
    /// The absolute gate as a mean square, for the `gate_lufs` it was computed from.
    gate_power: (f32, f64),
}

impl Default for Agc {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            kw: KWeightingStereo::new(48_000.0),
            fast: 0.0,
            fast_coef: 0.0,
            slow: 0.0,
            slow_coef: 0.0,
            speed_s: -1.0,
            speed_coef: 0.0,
            gain_db: 0.0,
            measured: 0,
            below_relative: 0,
            gate_power: (f32::NAN, 0.0),
        }
    }
}

fn lufs(ms: f64) -> f32 {
    -0.691 + 10.0 * std::f32::consts::LOG10_2 * super::fastmath::log2(ms.max(1e-20) as f32)
}

/// The mean square whose loudness is `lufs` (the inverse of `lufs`, exact in f64).
fn power_of(lufs: f32) -> f64 {
    10f64.powf((lufs as f64 + 0.691) / 10.0)
}

/// 0.01 dB as a ratio of powers: `lufs` is within 1e-4 dB of the exact loudness, so a power
/// farther than this from a threshold is on the same side of it for `lufs` as in fact.
const SURE_RATIO: f64 = 1.002_305;

/// Whether `lufs(power) > lufs_threshold`, where `threshold_power` is that threshold as a mean
/// square: decided by comparing powers (no logarithm) when `power` is clearly on one side, and by
/// `exact` (the comparison of `lufs` values) within 0.01 dB, so the answer is always the one the
/// logarithms give. Thresholds under `lufs`'s floor of 1e-20 always take `exact`.
#[inline]
fn louder(power: f64, threshold_power: f64, exact: impl FnOnce() -> bool) -> bool {
    if threshold_power >= 1e-19 {
        if power > threshold_power * SURE_RATIO {
            return true;
        }
        if power * SURE_RATIO < threshold_power {
            return false;
        }
    }
    exact()
}

impl Agc {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        self.kw = KWeightingStereo::new(sample_rate as f64);
        self.fast_coef = (-1.0 / (GATE_DETECT_S as f64 * sample_rate as f64)).exp();
        self.slow_coef = (-1.0 / (MEASURE_S as f64 * sample_rate as f64)).exp();
        self.speed_s = -1.0;
        self.reset();
    }

    pub fn reset(&mut self) {
        self.kw.reset();
        self.fast = 0.0;
        self.slow = 0.0;
        self.gain_db = 0.0;
        self.measured = 0;
        self.below_relative = 0;
    }

    pub fn gain_db(&self) -> f32 {
        self.gain_db
    }

    /// The loudness the AGC currently measures at its input (gated), LUFS.
    pub fn measured_lufs(&self) -> f32 {
        lufs(self.slow)
    }


    /// Processes a block of frames (1 or 2 channels, at most `BLOCK` frames) in place, in
    /// passes: the measurement and the gates (each sample needs the one before), the
    /// loudness logarithms of the samples that move the gain (side by side), the gain's glide,
    /// then the dB-to-gain conversions (side by side) and the gain itself. `settings(i)` and
    /// `fade[i]` are sample i's; the fade (0..1) fades the AGC's gain in and out.
    /// (`BlockStage::tick` is this on one frame.)
    #[inline]
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> AgcSettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        // Per sample: whether the gain moves, from which measured mean square, at what speed,
        // within what range.
        let mut moves = [false; BLOCK];
        let mut slow_at = [0.0f64; BLOCK];
        let mut speed = [0.0f32; BLOCK];
        let mut range_at = [0.0f32; BLOCK];
        let mut target_at = [0.0f32; BLOCK];
        for i in 0..n {
            let s = settings(i);
            if s.speed_s != self.speed_s {
                self.speed_s = s.speed_s;
                self.speed_coef = (-1.0 / (s.speed_s.max(0.05) * self.sample_rate)).exp();
            }
            speed[i] = self.speed_coef;
            // A range below zero (only a corrupt state could bring one) would turn the clamps
            // below inside out; `max` also maps a NaN to 0.
            range_at[i] = s.max_range_db.max(0.0);
            target_at[i] = s.target_lufs;
            let mut x = [0.0f64; MAX_CH];
            for (v, c) in x.iter_mut().zip(chans.iter()) {
                *v = c[i] as f64;
            }
            let y = self.kw.tick(wide::f64x2::new(x)).to_array();
            let mut power = 0.0f64;
            for &v in &y[..channels] {
                power += v * v;
            }
            self.fast = power + self.fast_coef * (self.fast - power);
            if self.fast < 1e-30 {
                self.fast = 0.0;
            }
            if self.gate_power.0.to_bits() != s.gate_lufs.to_bits() {
                self.gate_power = (s.gate_lufs, power_of(s.gate_lufs));
            }
            let fast = self.fast;
            let above_absolute = louder(fast, self.gate_power.1, || lufs(fast) > s.gate_lufs);
            let slow = self.slow;
            let above_relative =
                self.measured == 0 || louder(fast, slow * RELATIVE_GATE_RATIO, || lufs(fast) > lufs(slow) - RELATIVE_GATE_LU);
            if above_absolute && !above_relative {
                self.below_relative += 1;
            } else {
                self.below_relative = 0;
            }
            let timed_out = self.below_relative as f32 > RELATIVE_TIMEOUT_S * self.sample_rate;
            if above_absolute && (above_relative || timed_out) {
                if self.measured == 0 {
                    self.slow = self.fast;
                }
                self.slow = power + self.slow_coef * (self.slow - power);
                self.measured = self.measured.saturating_add(1);
                moves[i] = self.measured as f32 > GATE_DETECT_S * 2.0 * self.sample_rate;
                slow_at[i] = self.slow;
            }
        }
        let mut measured = [0.0f32; BLOCK];
        for (l, &slow) in measured[..n].iter_mut().zip(&slow_at[..n]) {
            *l = lufs(slow);
        }
        let mut gain = [0.0f32; BLOCK];
        for i in 0..n {
            let range = range_at[i];
            if moves[i] {
                let wanted = (target_at[i] - measured[i]).clamp(-range, range);
                self.gain_db = wanted + speed[i] * (self.gain_db - wanted);
            }
            // A range turned down while holding must still be respected.
            self.gain_db = self.gain_db.clamp(-range, range);
            gain[i] = self.gain_db;
        }
        for (g, &amount) in gain[..n].iter_mut().zip(fade) {
            *g = 1.0 + amount * (super::fastmath::db_to_gain(*g) - 1.0);
        }
        for c in chans.iter_mut().take(MAX_CH) {
            for (x, g) in c[..n].iter_mut().zip(&gain[..n]) {
                *x *= g;
            }
        }
    }
}

/// The most frames `process_block` takes at once (the chain's chunk).
pub const BLOCK: usize = 128;

super::block_stage_impl!(Agc, AgcSettings);

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of any size give, bit for bit, what frame after frame gives: gain, output, measured
    /// loudness, through settings changing every sample (a gate crossing the signal's level, the
    /// speed and the range moving), a fade, pauses that close the gate, mono and stereo, odd
    /// block sizes.
    #[test]
    fn any_block_size_gives_the_same_bits() {
        for channels in [1usize, 2] {
            let (mut a, mut b) = (Agc::default(), Agc::default());
            a.prepare(48_000.0);
            b.prepare(48_000.0);
            let mut seed = 21u32;
            // Bursts of noise at varied levels with pauses between them.
            let input = |t: usize| {
                let level = if t / 24_000 % 4 == 3 { 0.0 } else { 0.02 + 0.3 * ((t / 24_000 % 5) as f32 / 5.0) };
                (crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5) * level
            };
            let settings = |t: usize| {
                let tf = t as f32;
                AgcSettings {
                    target_lufs: -18.0 + 4.0 * (tf * 0.00005).sin(),
                    max_range_db: 6.0 + 6.0 * (tf * 0.00002).cos().abs(),
                    speed_s: if t / 40_000 % 2 == 0 { 0.5 } else { 0.2 },
                    gate_lufs: -40.0 + 10.0 * (tf * 0.00003).sin(),
                }
            };
            let fade = |t: usize| ((t as f32 * 0.0001).sin() * 0.7 + 0.5).clamp(0.0, 1.0);
            let sizes = [128usize, 1, 77, 128, 3, 64, 128, 100];
            crate::dsp::block_test::assert_blocks_match_frames(&mut a, &mut b, channels, &sizes, 2_000, input, settings, fade, |a, b| {
                assert_eq!(a.gain_db.to_bits(), b.gain_db.to_bits());
                assert_eq!(a.measured_lufs().to_bits(), b.measured_lufs().to_bits());
            });
            assert!(a.gain_db.abs() > 0.5, "the test must move the gain: {}", a.gain_db);
        }
    }

    #[test]
    fn the_relative_gate_ratio_is_the_gate_in_lu() {
        assert!((10f64.powf(-RELATIVE_GATE_LU as f64 / 10.0) - RELATIVE_GATE_RATIO).abs() < 1e-15);
    }

    /// `louder` answers exactly what comparing the logarithms answers, for powers and thresholds
    /// spread over the whole range (the floor of `lufs` included) and packed around each
    /// threshold, for the absolute gate (a threshold in LUFS) and the relative one (a threshold
    /// 10 LU under another loudness).
    #[test]
    fn louder_agrees_with_the_logarithms_everywhere() {
        let mut seed = 5u32;
        let mut unit = move || crate::dsp::xorshift32(&mut seed) as f64 / u32::MAX as f64;
        let mut shortcuts = 0;
        for _ in 0..200_000 {
            // Absolute: gate anywhere from −250 to 0 LUFS, power near it or anywhere.
            let gate = (-250.0 + 250.0 * unit()) as f32;
            let near = power_of(gate) * 10f64.powf((unit() - 0.5) * 0.01);
            let anywhere = 10f64.powf(-40.0 * unit());
            for power in [near, anywhere, 0.0] {
                let exact = lufs(power) > gate;
                let mut took_exact = false;
                let got = louder(power, power_of(gate), || {
                    took_exact = true;
                    exact
                });
                assert_eq!(got, exact, "absolute: power {power:e}, gate {gate}");
                shortcuts += usize::from(!took_exact);
            }
            // Relative: `slow` anywhere, including under the floor.
            let slow = 10f64.powf(-30.0 * unit());
            let threshold = slow * RELATIVE_GATE_RATIO;
            for power in [threshold * 10f64.powf((unit() - 0.5) * 0.01), 10f64.powf(-30.0 * unit())] {
                let exact = lufs(power) > lufs(slow) - RELATIVE_GATE_LU;
                assert_eq!(louder(power, threshold, || exact), exact, "relative: power {power:e}, slow {slow:e}");
            }
        }
        // Most answers are shortcuts (otherwise there is nothing saved).
        assert!(shortcuts > 300_000, "{shortcuts}");
    }
}
