//! True-peak metering (ITU-R BS.1770-4 Annex 2): the signal is oversampled 4× with a polyphase
//! interpolating FIR (12 taps per phase, a Kaiser-windowed sinc) and the largest absolute value of
//! the oversampled signal is the true peak, in dBTP. Inter-sample peaks that a sample-peak meter
//! misses (up to several dB on bright material) are what clip a DAC or a lossy encoder.

use crate::dsp::MAX_CH;
use wide::f32x4;

pub const OVERSAMPLING: usize = 4;
const TAPS: usize = 12;
/// The interpolated point lies between history samples `CENTRE` and `CENTRE - 1` ago.
const CENTRE: usize = 6;

/// Phase coefficients: `COEF[p][k]` weighs the sample `k` samples ago for the point `p/4` of a
/// sample after the one `CENTRE` samples ago.
fn coefficients() -> [[f32; TAPS]; OVERSAMPLING] {
    let beta: f64 = 6.0;
    let half = TAPS as f64 / 2.0;
    let i0 = |x: f64| {
        // Modified Bessel function of the first kind, order 0, by its series.
        let (mut sum, mut term) = (1.0, 1.0);
        for k in 1..40 {
            term *= (x / 2.0) * (x / 2.0) / (k * k) as f64;
            sum += term;
        }
        sum
    };
    let mut c = [[0.0f32; TAPS]; OVERSAMPLING];
    for (p, phase) in c.iter_mut().enumerate() {
        let mut taps = [0.0f64; TAPS];
        for (k, t) in taps.iter_mut().enumerate() {
            // Distance from the interpolated point to the sample k samples ago.
            let u = k as f64 - CENTRE as f64 + p as f64 / OVERSAMPLING as f64;
            let sinc = if u.abs() < 1e-12 { 1.0 } else { (std::f64::consts::PI * u).sin() / (std::f64::consts::PI * u) };
            let r = (u / half).clamp(-1.0, 1.0);
            *t = sinc * i0(beta * (1.0 - r * r).sqrt()) / i0(beta);
        }
        // Unity gain at DC for every phase, so a constant reads as itself.
        let sum: f64 = taps.iter().sum();
        for (dst, t) in phase.iter_mut().zip(taps) {
            *dst = (t / sum) as f32;
        }
    }
    c
}

/// Samples interpolated at once: after the previous TAPS − 1 they fill a window on the stack.
const STRETCH: usize = 256;
/// Consecutive outputs computed side by side (one SIMD register of them).
const LANES: usize = 4;

#[derive(Debug, Clone)]
pub struct TruePeakMeter {
    /// Phases 1 to 3's coefficients (phase 0 is the sample itself): `coef[p][k]` weighs the
    /// sample k samples ago.
    coef: [[f32; TAPS]; OVERSAMPLING - 1],
    /// No interpolated point exceeds this times the largest |sample| its taps read: the largest
    /// sum of |coefficients| over the phases (1.856, at the half-sample phase), rounded up with
    /// room for the f32 rounding of a 12-term sum.
    reach: f32,
    /// Each channel's last TAPS − 1 samples, oldest first.
    history: [[f32; TAPS - 1]; MAX_CH],
    /// Stretches whose interpolation `process_above` left out (for the tests).
    #[cfg(test)]
    skipped: usize,
}

impl Default for TruePeakMeter {
    fn default() -> Self {
        let c = coefficients();
        let reach = c.iter().map(|p| p.iter().map(|&v| (v as f64).abs()).sum::<f64>()).fold(1.0f64, f64::max);
        Self {
            coef: [c[1], c[2], c[3]],
            reach: (reach * (1.0 + 1e-4)) as f32,
            history: [[0.0; TAPS - 1]; MAX_CH],
            #[cfg(test)]
            skipped: 0,
        }
    }
}

impl TruePeakMeter {
    pub fn reset(&mut self) {
        self.history = [[0.0; TAPS - 1]; MAX_CH];
    }

    /// The latency of the measurement (the interpolation looks ahead this many samples).
    pub const LATENCY: usize = CENTRE;

    /// Feeds a block of each channel; returns each channel's largest oversampled |value|.
    /// Each interpolated point is its phase's dot product summed in tap order; `LANES`
    /// consecutive points of one phase are computed side by side (the same sums, on SIMD lanes).
    pub fn process(&mut self, channels: &[&[f32]]) -> [f32; MAX_CH] {
        self.process_above(channels, [0.0; MAX_CH])
    }

    /// As `process`, for a caller that keeps a running maximum and already holds `known[ch]`:
    /// a stretch whose samples (with the history its taps reach back into) are too small for
    /// any interpolated point to pass `known` is not interpolated. A channel's result is exact
    /// wherever it exceeds `known`, and otherwise no larger than it, so the running maximum
    /// comes out the same bit for bit. Once a loud moment has set the programme's maximum, the
    /// quieter stretches cost one pass over their samples.
    pub fn process_above(&mut self, channels: &[&[f32]], known: [f32; MAX_CH]) -> [f32; MAX_CH] {
        let n_ch = channels.len().min(MAX_CH);
        let mut peaks = [0.0f32; MAX_CH];
        for ch in 0..n_ch {
            let mut peak = 0.0f32;
            let mut window = [0.0f32; TAPS - 1 + STRETCH];
            for block in channels[ch].chunks(STRETCH) {
                let len = block.len();
                // Phase 0, the samples themselves.
                let sample_peak = super::peak::max_abs(block);
                peak = peak.max(sample_peak);
                let reach = self.reach * sample_peak.max(super::peak::max_abs(&self.history[ch]));
                // (A NaN reach is not below anything: such a stretch is interpolated.)
                if reach <= known[ch] {
                    let keep = len.min(TAPS - 1);
                    self.history[ch].rotate_left(keep);
                    self.history[ch][TAPS - 1 - keep..].copy_from_slice(&block[len - keep..]);
                    #[cfg(test)]
                    {
                        self.skipped += 1;
                    }
                    continue;
                }
                window[..TAPS - 1].copy_from_slice(&self.history[ch]);
                window[TAPS - 1..TAPS - 1 + len].copy_from_slice(block);
                // Point i (of this stretch) reads window[TAPS − 1 + i − k] for tap k.
                let whole = len / LANES * LANES;
                for phase in &self.coef {
                    let mut lanes = f32x4::ZERO;
                    let mut i = 0;
                    while i < whole {
                        let mut y = f32x4::ZERO;
                        for (k, &c) in phase.iter().enumerate() {
                            let at = TAPS - 1 + i - k;
                            debug_assert!(at + LANES <= window.len());
                            // SAFETY: i + LANES ≤ whole ≤ STRETCH and k ≥ 0, so at + LANES ≤
                            // TAPS − 1 + STRETCH, the window's length: four floats inside it
                            // (an unaligned read; the checked slice costs more than the sums).
                            let x = unsafe { window.as_ptr().add(at).cast::<[f32; LANES]>().read_unaligned() };
                            y += f32x4::splat(c) * f32x4::new(x);
                        }
                        lanes = lanes.max(y.abs());
                        i += LANES;
                    }
                    for i in whole..len {
                        let mut y = 0.0f32;
                        for (k, &c) in phase.iter().enumerate() {
                            y += c * window[TAPS - 1 + i - k];
                        }
                        peak = peak.max(y.abs());
                    }
                    peak = lanes.to_array().iter().fold(peak, |m, &v| m.max(v));
                }
                self.history[ch].copy_from_slice(&window[len..len + TAPS - 1]);
            }
            peaks[ch] = peak;
        }
        peaks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lane-wise dot products give exactly the peaks of the plain per-phase sums (the same
    /// products summed in the same order), on noise with full-scale clicks, mono and stereo.
    #[test]
    fn lanes_give_the_plain_sums_peaks_exactly() {
        let c = coefficients();
        let mut seed = 17u32;
        for n_ch in [1usize, 2] {
            let mut meter = TruePeakMeter::default();
            let mut hist = vec![vec![0.0f32; TAPS]; n_ch];
            for block in [64usize, 1, 333, 12, 128, 7] {
                let x: Vec<Vec<f32>> = (0..n_ch)
                    .map(|_| {
                        (0..block)
                            .map(|_| {
                                let r = crate::dsp::xorshift32(&mut seed);
                                if r.is_multiple_of(97) {
                                    if r.is_multiple_of(2) {
                                        1.0
                                    } else {
                                        -1.0
                                    }
                                } else {
                                    r as f32 / u32::MAX as f32 - 0.5
                                }
                            })
                            .collect()
                    })
                    .collect();
                let mut want = [0.0f32; MAX_CH];
                for (ch, h) in hist.iter_mut().enumerate() {
                    for &v in &x[ch] {
                        h.rotate_right(1);
                        h[0] = v;
                        let mut m = v.abs();
                        for phase in &c[1..] {
                            let y: f32 = h.iter().zip(phase).map(|(a, b)| a * b).sum();
                            m = m.max(y.abs());
                        }
                        want[ch] = want[ch].max(m);
                    }
                }
                let refs: Vec<&[f32]> = x.iter().map(|v| v.as_slice()).collect();
                let got = meter.process(&refs);
                assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits), "{n_ch} channel(s), block {block}");
            }
        }
    }

    /// A running maximum kept through `process_above` is the one `process` gives, bit for bit,
    /// block after block, mono and stereo, in blocks of every size: loud stretches whose level
    /// creeps up (so each new maximum is only just above the last) between quiet ones; and the
    /// quiet stretches really are left out.
    #[test]
    fn skipping_quiet_stretches_keeps_the_running_maximum_exactly() {
        let mut seed = 5u32;
        let worst = coefficients()[2].map(f32::signum);
        for n_ch in [1usize, 2] {
            let (mut full, mut skipping) = (TruePeakMeter::default(), TruePeakMeter::default());
            let (mut max_full, mut max_skip) = ([0.0f32; MAX_CH], [0.0f32; MAX_CH]);
            let mut stretches = 0;
            let mut rises = 0;
            for i in 0..120 {
                // Loud stretches rising 2 % each, quiet ones (a tenth, or silence) between.
                let loud = 0.05 * 1.02f32.powi(i / 2);
                let level = if i % 2 == 0 {
                    loud
                } else if i % 6 == 3 {
                    0.0
                } else {
                    loud * 0.1
                };
                let kind = if i % 2 == 0 { (i / 2) % 3 } else { 0 };
                let block = [64usize, 1, 300, 7, 256, 12][i as usize % 6];
                // Noise, a quarter-rate sine at 45° (its samples 3 dB under its peak), and the
                // worst-case pattern (5.4 dB under): the last two are where the interpolation
                // finds more than the samples, so a bound that is too small fails here.
                let x: Vec<Vec<f32>> = (0..n_ch)
                    .map(|_| {
                        (0..block)
                            .map(|j| {
                                let r = crate::dsp::xorshift32(&mut seed);
                                match kind {
                                    0 if r.is_multiple_of(509) => level.max(0.1) * 2.0,
                                    0 => level * (r as f32 / u32::MAX as f32 - 0.5),
                                    1 => level * (std::f32::consts::FRAC_PI_2 * j as f32 + std::f32::consts::FRAC_PI_4).sin(),
                                    _ => level * worst[(TAPS - 1) - j % TAPS],
                                }
                            })
                            .collect()
                    })
                    .collect();
                let refs: Vec<&[f32]> = x.iter().map(|v| v.as_slice()).collect();
                let a = full.process(&refs);
                let b = skipping.process_above(&refs, max_skip);
                for ch in 0..n_ch {
                    rises += (a[ch] > max_full[ch]) as usize;
                    max_full[ch] = max_full[ch].max(a[ch]);
                    max_skip[ch] = max_skip[ch].max(b[ch]);
                }
                assert_eq!(max_full.map(f32::to_bits), max_skip.map(f32::to_bits), "{n_ch} channel(s), block {i}");
                stretches += n_ch * block.div_ceil(STRETCH);
            }
            assert!(rises >= 3, "the maximum must move in the run, not only at its start: {rises}");
            assert!(skipping.skipped * 3 > stretches, "only {} of {stretches} stretches skipped", skipping.skipped);
            assert_eq!(full.skipped, 0);
        }
    }

    /// The skipping bound is real and tight: the signal that lines every sample up with the
    /// half-sample phase's coefficients (the worst case, Σ|c| times its amplitude) reaches it
    /// within rounding and never passes it.
    #[test]
    fn the_reach_bounds_the_worst_signal() {
        let c = coefficients();
        let sum_abs: f64 = c[2].iter().map(|&v| (v as f64).abs()).sum();
        for amp in [0.25f32, 1.0] {
            let mut m = TruePeakMeter::default();
            // Oldest first: the sample k samples before the newest has the sign of c[2][k].
            let x: Vec<f32> = (0..TAPS).rev().map(|k| amp * c[2][k].signum()).collect();
            let tp = m.process(&[&x])[0] as f64;
            let want = sum_abs * amp as f64;
            assert!(tp >= want * (1.0 - 1e-6), "{tp} vs {want}");
            assert!(tp <= (m.reach * amp) as f64, "{tp} above the reach {}", m.reach * amp);
            assert!((m.reach as f64) < sum_abs * 1.001, "reach {} too loose for {sum_abs}", m.reach);
        }
    }

    fn db(x: f32) -> f64 {
        20.0 * (x as f64).log10()
    }

    /// A stereo sine at `fs/div`, amplitude `amp`, starting phase `deg`, 1 s at 48 kHz. The
    /// first 100 ms are not counted: the abrupt start is a step, and a reconstructed step rings
    /// above the sine (that overshoot is real, but it is not what the cases measure).
    fn measure(div: f64, amp: f64, deg: f64) -> (f64, f64) {
        let x: Vec<f32> = (0..48_000).map(|i| (amp * (std::f64::consts::TAU * i as f64 / div + deg.to_radians()).sin()) as f32).collect();
        let mut m = TruePeakMeter::default();
        let mut tp = 0.0f32;
        for (i, c) in x.chunks(100).enumerate() {
            let p = m.process(&[c, c])[0];
            if i >= 48 {
                tp = tp.max(p);
            }
        }
        let sp = x.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
        (db(tp), db(sp))
    }

    #[test]
    fn tech3341_true_peak_cases_15_to_19() {
        // EBU Tech 3341 cases 15–19: expected true peak +0.2 / −0.4 dB.
        for (case, div, amp, deg, want) in [
            (15, 4.0, 0.5, 0.0, -6.0),
            (16, 4.0, 0.5, 45.0, -6.0),
            (17, 6.0, 0.5, 60.0, -6.0),
            (18, 8.0, 0.5, 67.5, -6.0),
            (19, 4.0, 1.41, 45.0, 3.0),
        ] {
            let (tp, sp) = measure(div, amp, deg);
            eprintln!("Tech 3341 case {case}: {tp:.3} dBTP (sample peak {sp:.2} dBFS), expected {want}");
            assert!(tp >= want - 0.4 && tp <= want + 0.2, "case {case}: {tp:.3} dBTP (sample peak {sp:.2}), want {want}");
        }
    }

    #[test]
    fn finds_peaks_a_sample_meter_misses() {
        // Case 16's signal: samples at −9 dBFS, the waveform at −6 dBTP.
        let (tp, sp) = measure(4.0, 0.5, 45.0);
        assert!((sp + 9.03).abs() < 0.01, "{sp}");
        assert!((tp - sp) > 2.8, "true peak {tp:.2} vs sample peak {sp:.2}");
        // A constant and a low tone read what they are.
        let (tp, _) = measure(480.0, 0.25, 90.0);
        assert!((tp - db(0.25)).abs() < 0.01, "{tp}");
        let mut m = TruePeakMeter::default();
        let dc = vec![0.3f32; 64];
        m.process(&[&dc]); // the step into the constant rings, as a reconstructed step does
        assert!((m.process(&[&dc])[0] - 0.3).abs() < 1e-6);
    }
}
