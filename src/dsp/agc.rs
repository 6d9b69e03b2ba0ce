//! Automatic gain control: the seed's "feedback system", done as a broadcast leveler would.
//!
//! It measures loudness the way BS.1770 does (K-weighting, mean square summed over channels) with
//! a 400 ms integrator, and slowly moves its gain so that the measured input loudness plus the gain
//! meets the target, never beyond ± the maximum range. Below the gate (pauses, noise, silence) it
//! holds its gain instead of turning the noise floor up.
//!
//! Like any leveler, it decides at a control rate: the K-weighting and the mean square run on
//! every sample, but the detectors, the gates and the gain are updated once per `CONTROL`
//! samples of the stream (0.33 ms at 48 kHz, a thousandth of the fastest speed), and the gain
//! moves between those points as a straight line in linear gain, so it never steps.

use super::kweight::KWeightingPipe;
use super::{CONTROL, MAX_CH, RAMP};
use wide::f32x4;

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
/// A source that stays below the relative gate this long is a new, quieter source: adapt to it.
const RELATIVE_TIMEOUT_S: f32 = 3.0;
/// How long silence takes to leave the state `skip_silence` gives: the fast detector falls from
/// full scale to its 1e-30 flush in ln(1e30) time constants of `GATE_DETECT_S` (3.45 s).
pub const SILENCE_SETTLES_S: f32 = 70.0 * GATE_DETECT_S;

#[derive(Debug, Clone)]
pub struct Agc {
    sample_rate: f32,
    kw: KWeightingPipe,
    /// The detectors (mean squares) and their one-pole coefficients per control period.
    fast: f64,
    fast_coef: f64,
    slow: f64,
    slow_coef: f64,
    speed_s: f32,
    speed_coef: f32,
    /// The gain in dB decided at the last control point.
    gain_db: f32,
    /// Samples integrated into `slow` so far (the gain moves only once it holds a full window).
    measured: usize,
    /// Samples spent above the absolute gate but below the relative one.
    below_relative: usize,
    /// The K-weighted energy of the current control period so far (per lane of the detector
    /// filter), and its samples so far.
    energy: f32x4,
    filled: usize,
    /// The linear gain the current period's line starts from and the one it ends on.
    gain_from: f32,
    gain_to: f32,
}

impl Default for Agc {
    fn default() -> Self {
        let mut agc = Self {
            sample_rate: 48_000.0,
            kw: KWeightingPipe::new(48_000.0),
            fast: 0.0,
            fast_coef: 0.0,
            slow: 0.0,
            slow_coef: 0.0,
            speed_s: -1.0,
            speed_coef: 0.0,
            gain_db: 0.0,
            measured: 0,
            below_relative: 0,
            energy: f32x4::ZERO,
            filled: 0,
            gain_from: 1.0,
            gain_to: 1.0,
        };
        agc.prepare(48_000.0);
        agc
    }
}

fn lufs(ms: f64) -> f32 {
    -0.691 + 10.0 * std::f32::consts::LOG10_2 * super::fastmath::log2(ms.max(1e-20) as f32)
}

/// A one-pole coefficient for a time constant of `seconds`, per control period.
fn period_coef(seconds: f64, sample_rate: f32) -> f64 {
    (-(CONTROL as f64) / (seconds * sample_rate as f64)).exp()
}

impl Agc {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        self.kw = KWeightingPipe::new(sample_rate as f64);
        self.fast_coef = period_coef(GATE_DETECT_S as f64, sample_rate);
        self.slow_coef = period_coef(MEASURE_S as f64, sample_rate);
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
        self.energy = f32x4::ZERO;
        self.filled = 0;
        self.gain_from = 1.0;
        self.gain_to = 1.0;
    }

    pub fn gain_db(&self) -> f32 {
        self.gain_db
    }

    /// Brings the state to what `frames` samples of silence leave, once `SILENCE_SETTLES_S` of
    /// them have passed: silence is under the gate, so the measure, the gain and the gate's
    /// timer hold; the fast detector and the K-weighting have emptied (flushed to zero), the
    /// gain's line is flat, and the control periods have moved on by `frames`.
    pub fn skip_silence(&mut self, frames: u64) {
        self.kw.reset();
        self.fast = 0.0;
        self.below_relative = 0;
        self.energy = f32x4::ZERO;
        self.filled = ((self.filled as u64 + frames) % CONTROL as u64) as usize;
        self.gain_from = self.gain_to;
    }

    /// The loudness the AGC currently measures at its input (gated), LUFS.
    pub fn measured_lufs(&self) -> f32 {
        lufs(self.slow)
    }

    /// One control point: the period's mean square into the detectors, the gates, the gain.
    fn control(&mut self, s: AgcSettings) {
        // Lanes 2 and 3 hold the K-weighted energy (0 on the second lane of a mono input).
        let e = self.energy.to_array();
        let power = (e[2] as f64 + e[3] as f64) / CONTROL as f64;
        self.energy = f32x4::ZERO;
        self.kw.flush_tiny();
        self.filled = 0;
        if s.speed_s != self.speed_s {
            self.speed_s = s.speed_s;
            self.speed_coef = period_coef(s.speed_s.max(0.05) as f64, self.sample_rate) as f32;
        }
        self.fast = power + self.fast_coef * (self.fast - power);
        if self.fast < 1e-30 {
            self.fast = 0.0;
        }
        let fast = lufs(self.fast);
        let above_absolute = fast > s.gate_lufs;
        let above_relative = self.measured == 0 || fast > lufs(self.slow) - RELATIVE_GATE_LU;
        if above_absolute && !above_relative {
            self.below_relative += CONTROL;
        } else {
            self.below_relative = 0;
        }
        let timed_out = self.below_relative as f32 > RELATIVE_TIMEOUT_S * self.sample_rate;
        // A range below zero (only a corrupt state could bring one) would turn the clamps
        // inside out; `max` also maps a NaN to 0.
        let range = s.max_range_db.max(0.0);
        if above_absolute && (above_relative || timed_out) {
            if self.measured == 0 {
                self.slow = self.fast;
            }
            self.slow = power + self.slow_coef * (self.slow - power);
            self.measured = self.measured.saturating_add(CONTROL);
            if self.measured as f32 > GATE_DETECT_S * 2.0 * self.sample_rate {
                let wanted = (s.target_lufs - lufs(self.slow)).clamp(-range, range);
                self.gain_db = wanted + self.speed_coef * (self.gain_db - wanted);
            }
        }
        // A range turned down while holding must still be respected.
        self.gain_db = self.gain_db.clamp(-range, range);
        self.gain_from = self.gain_to;
        self.gain_to = super::fastmath::db_to_gain(self.gain_db);
    }

    /// Processes a block of frames (1 or 2 channels, at most `BLOCK` frames) in place:
    /// K-weighting and energy per sample, a control point at the end of each period, the gain's
    /// line, then the gain with the fade. `settings(i)` and `fade[i]` are sample i's (settings
    /// are read at control points); the fade (0..1) fades the AGC's gain in and out.
    /// (`BlockStage::tick` is this on one frame.)
    #[inline]
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> AgcSettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        if channels == 0 {
            return;
        }
        let mut i = 0;
        while i < n {
            let m = (CONTROL - self.filled).min(n - i);
            let mut energy = self.energy;
            if channels == 2 {
                for (&l, &r) in chans[0][i..i + m].iter().zip(&chans[1][i..i + m]) {
                    let y = self.kw.tick(l, r);
                    energy += y * y;
                }
            } else {
                for &x in &chans[0][i..i + m] {
                    let y = self.kw.tick(x, 0.0);
                    energy += y * y;
                }
            }
            // The gain's line, reaching `gain_to` on the period's last sample, faded.
            let (from, step) = (self.gain_from, (self.gain_to - self.gain_from) * (1.0 / CONTROL as f32));
            let mut gain = [0.0f32; CONTROL];
            for ((g, &k), &amount) in gain[..m].iter_mut().zip(&RAMP[self.filled..]).zip(&fade[i..i + m]) {
                *g = 1.0 + amount * ((from + step * k) - 1.0);
            }
            for c in chans.iter_mut().take(channels) {
                for (x, g) in c[i..i + m].iter_mut().zip(&gain[..m]) {
                    *x *= g;
                }
            }
            self.energy = energy;
            self.filled += m;
            i += m;
            if self.filled == CONTROL {
                self.control(settings(i - 1));
            }
        }
    }
}

pub use super::BLOCK;

super::block_stage_impl!(Agc, AgcSettings);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::kweight::KWeighting;
    use crate::dsp::BlockStage;

    /// Blocks of any size give, bit for bit, what frame after frame gives: gain, output, measured
    /// loudness, through settings changing every sample (a gate crossing the signal's level, the
    /// speed and the range moving), a fade, pauses that close the gate, mono and stereo, odd
    /// block sizes (the control periods straddle block ends).
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
                    speed_s: if (t / 40_000).is_multiple_of(2) { 0.5 } else { 0.2 },
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

    /// After a signal, silence leaves the f32 detector's state at zero, never subnormal (run
    /// here without flush-to-zero, so a subnormal would show).
    #[test]
    fn the_detector_decays_to_zero_not_to_subnormals() {
        let mut agc = Agc::default();
        agc.prepare(48_000.0);
        let s = AgcSettings::default();
        let mut block = [[0.0f32; 64]; 2];
        for k in 0..4_000 {
            for (i, x) in block[0].iter_mut().enumerate() {
                *x = if k < 200 { ((k * 64 + i) as f32 * 0.05).sin() * 0.5 } else { 0.0 };
            }
            block[1] = block[0];
            let (a, b) = block.split_at_mut(1);
            agc.process_block(&mut [&mut a[0][..], &mut b[0][..]], |_| s, &[1.0; 64]);
            let state = [agc.kw.z1, agc.kw.z2, agc.kw.y].map(|v| v.to_array());
            assert!(state.iter().flatten().all(|x| !x.is_subnormal()), "block {k}: {state:?}");
        }
        assert!([agc.kw.z1, agc.kw.z2, agc.kw.y].iter().all(|v| v.to_array() == [0.0; 4]));
    }

    /// The leveler as a textbook writes it: every detector, gate and gain updated on every
    /// sample with exact logarithms and exponentials.
    struct PerSample {
        sr: f64,
        kw: [KWeighting; 2],
        fast: f64,
        slow: f64,
        gain_db: f64,
        measured: usize,
        below_relative: usize,
    }

    impl PerSample {
        fn tick(&mut self, x: [f32; 2], s: &AgcSettings) -> f64 {
            let lufs = |ms: f64| -0.691 + 10.0 * ms.max(1e-20).log10();
            let coef = |t: f64| (-1.0 / (t * self.sr)).exp();
            let power: f64 = (0..2).map(|c| self.kw[c].tick(x[c] as f64).powi(2)).sum();
            self.fast = power + coef(GATE_DETECT_S as f64) * (self.fast - power);
            let above_absolute = lufs(self.fast) > s.gate_lufs as f64;
            let above_relative = self.measured == 0 || lufs(self.fast) > lufs(self.slow) - RELATIVE_GATE_LU as f64;
            self.below_relative = if above_absolute && !above_relative { self.below_relative + 1 } else { 0 };
            let timed_out = self.below_relative as f64 > RELATIVE_TIMEOUT_S as f64 * self.sr;
            let range = s.max_range_db as f64;
            if above_absolute && (above_relative || timed_out) {
                if self.measured == 0 {
                    self.slow = self.fast;
                }
                self.slow = power + coef(MEASURE_S as f64) * (self.slow - power);
                self.measured += 1;
                if self.measured as f64 > GATE_DETECT_S as f64 * 2.0 * self.sr {
                    let wanted = (s.target_lufs as f64 - lufs(self.slow)).clamp(-range, range);
                    self.gain_db = wanted + coef(s.speed_s as f64) * (self.gain_db - wanted);
                }
            }
            self.gain_db = self.gain_db.clamp(-range, range);
            self.gain_db
        }
    }

    /// Through phrases at different levels, pauses below the gate, a quieter source that stays
    /// under the relative gate until the timeout, and a fast speed: the control-rate gain (as
    /// applied, sample by sample) stays within 0.02 dB of the per-sample leveler's (0.1 dB at
    /// 8 kHz, where a control period is 2 ms), and it moves
    /// no faster from one sample to the next than the per-sample one does; at 8, 48 and 384 kHz
    /// (where the f32 detector's high-pass poles sit closest to 1).
    #[test]
    fn the_control_rate_gain_follows_the_per_sample_leveler() {
        for sr in [8_000.0f32, 48_000.0, 384_000.0] {
            let mut agc = Agc::default();
            agc.prepare(sr);
            let mut reference = PerSample {
                sr: sr as f64,
                kw: [KWeighting::new(sr as f64); 2],
                fast: 0.0,
                slow: 0.0,
                gain_db: 0.0,
                measured: 0,
                below_relative: 0,
            };
            let s = AgcSettings { target_lufs: -18.0, max_range_db: 15.0, speed_s: 0.3, gate_lufs: -50.0 };
            // (seconds, amplitude, tone or noise): −30-ish noise, a pause, a loud tone, a source
            // 14 dB under it (below the relative gate: held, then adapted to after 3 s).
            let program = [(2.0, 0.03, false), (0.7, 0.0, false), (2.0, 0.5, true), (5.0, 0.1, true), (1.0, 0.02, false)];
            let mut seed = 9u32;
            let (mut worst, mut moved, mut step, mut step_ref) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
            let (mut last, mut last_ref) = (0.0f64, 0.0f64);
            let mut t = 0usize;
            for &(seconds, amp, tone) in &program {
                for _ in 0..(seconds * sr) as usize {
                    let x = if tone {
                        amp * (t as f32 * 2.0 * std::f32::consts::PI * 440.0 / sr).sin()
                    } else {
                        amp * (crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5)
                    };
                    t += 1;
                    let want = reference.tick([x, x], &s);
                    // The gain applied to this sample, read where the signal is not tiny.
                    let mut frame = [x, x];
                    agc.tick(&mut frame, &s, 1.0);
                    if x.abs() < 1e-3 {
                        continue;
                    }
                    let got = 20.0 * (frame[0] as f64 / x as f64).log10();
                    worst = worst.max((got - want).abs());
                    moved = moved.max(want.abs());
                    if t > 1 {
                        step = step.max((got - last).abs());
                        step_ref = step_ref.max((want - last_ref).abs());
                    }
                    (last, last_ref) = (got, want);
                }
            }
            eprintln!("{sr} Hz: largest difference {worst:.4} dB; gain moved up to {moved:.2} dB; largest step {step:.5} dB (per sample {step_ref:.5} dB)");
            assert!(moved > 8.0, "the program must move the gain: {moved}");
            // The difference is the gates' timing, decided once per period: at 8 kHz a period is
            // 2 ms, in which a fast leveler's gain can move 0.1 dB; at 48 kHz 0.33 ms.
            let bound = if sr < 16_000.0 { 0.1 } else { 0.02 };
            assert!(worst < bound, "{sr} Hz: {worst} dB from the per-sample leveler");
            assert!(step <= step_ref * 1.05 + 1e-4, "steps of {step} dB against {step_ref} dB");
        }
    }
}
