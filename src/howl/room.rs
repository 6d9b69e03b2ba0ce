//! Speaker-to-microphone paths for the closed loop: made in code, no recorded data.

use crate::dsp::xorshift32;
use realfft::RealFftPlanner;

/// A speaker-to-microphone impulse response at `sr`.
#[derive(Debug, Clone)]
pub struct Room {
    pub name: &'static str,
    pub sr: f32,
    pub ir: Vec<f32>,
    /// The direct sound's delay (ms): the loop's shortest delay.
    pub delay_ms: f32,
    /// The decay time the room was made with (s).
    pub rt60: f32,
    /// The loop's magnitude response, max over frequency, in dB (`peak_gain`): worked out once,
    /// when the room is made.
    pub peak_gain_db: f32,
}

/// Uniform noise in −1..1.
fn noise(seed: &mut u32) -> f32 {
    xorshift32(seed) as f32 / u32::MAX as f32 * 2.0 - 1.0
}

/// A second-order section run over `x` in place (b0, b1, b2, a1, a2).
fn biquad(x: &mut [f32], c: [f64; 5]) {
    let (mut z1, mut z2) = (0.0f64, 0.0f64);
    for v in x.iter_mut() {
        let i = *v as f64;
        let o = c[0] * i + z1;
        z1 = c[1] * i - c[3] * o + z2;
        z2 = c[2] * i - c[4] * o;
        *v = o as f32;
    }
}

/// RBJ high- and low-pass (Q = 0.707): the loudspeaker's band.
fn speaker_band(x: &mut [f32], sr: f32, low_hz: f32, high_hz: f32) {
    let q = std::f64::consts::FRAC_1_SQRT_2;
    for (hz, high) in [(low_hz, true), (high_hz, false)] {
        let w = std::f64::consts::TAU * hz as f64 / sr as f64;
        let (s, c) = w.sin_cos();
        let alpha = s / (2.0 * q);
        let a0 = 1.0 + alpha;
        let (b0, b1) = if high { ((1.0 + c) / 2.0, -(1.0 + c)) } else { ((1.0 - c) / 2.0, 1.0 - c) };
        biquad(x, [b0 / a0, b1 / a0, b0 / a0, -2.0 * c / a0, (1.0 - alpha) / a0]);
    }
}

impl Room {
    /// A direct sound after `delay_ms`, a handful of early reflections over the next 25 ms and an
    /// exponentially decaying noise tail (−60 dB after `rt60` s), through a loudspeaker's band
    /// (80 Hz to 12 kHz).
    pub fn decaying(name: &'static str, sr: f32, delay_ms: f32, rt60: f32, seed: u32) -> Room {
        let mut seed = seed.max(1);
        let len = ((delay_ms * 0.001 + rt60) * sr) as usize;
        let mut ir = vec![0.0f32; len];
        let d0 = (delay_ms * 0.001 * sr) as usize;
        ir[d0] = 1.0;
        for k in 0..6 {
            let t = d0 + ((1.5 + 4.0 * k as f32 + 2.0 * noise(&mut seed).abs()) * 0.001 * sr) as usize;
            // (0.8^k worked out in f64: `f32::powi`'s rounding is left to the optimiser, and the
            // debug build, which the tests use, got other bits than the release build's report.)
            ir[t] += 0.7 * 0.8f64.powi(k) as f32 * noise(&mut seed).signum();
        }
        let tail = d0 + (0.004 * sr) as usize;
        let decay = -6.9078 / (rt60 * sr);
        for (i, v) in ir.iter_mut().enumerate().skip(tail) {
            *v += 0.25 * noise(&mut seed) * ((i - tail) as f32 * decay).exp();
        }
        speaker_band(&mut ir, sr, 80.0, 12_000.0);
        let peak_gain_db = peak_gain(&ir);
        Room { name, sr, ir, delay_ms, rt60, peak_gain_db }
    }

    /// A shoebox room by the image method (Allen & Berkley): every image source up to the
    /// response's length, 1/distance spreading, wall reflection factor `beta`, each image landed
    /// on the two nearest samples, then the loudspeaker's band.
    pub fn shoebox(name: &'static str, sr: f32, size: [f32; 3], speaker: [f32; 3], mic: [f32; 3], beta: f32, len_s: f32) -> Room {
        let len = (len_s * sr) as usize;
        let mut ir = vec![0.0f32; len];
        let c = 343.0f32;
        let max_d = len_s * c;
        let reach: [i32; 3] = std::array::from_fn(|a| (max_d / (2.0 * size[a])).ceil() as i32 + 1);
        let direct = ((0..3).map(|a| (speaker[a] - mic[a]).powi(2)).sum::<f32>()).sqrt();
        for nx in -reach[0]..=reach[0] {
            for qx in 0..2 {
                let x = (1 - 2 * qx) as f32 * speaker[0] + 2.0 * nx as f32 * size[0];
                let rx = (2 * nx - qx).unsigned_abs();
                for ny in -reach[1]..=reach[1] {
                    for qy in 0..2 {
                        let y = (1 - 2 * qy) as f32 * speaker[1] + 2.0 * ny as f32 * size[1];
                        let ry = (2 * ny - qy).unsigned_abs();
                        for nz in -reach[2]..=reach[2] {
                            for qz in 0..2 {
                                let z = (1 - 2 * qz) as f32 * speaker[2] + 2.0 * nz as f32 * size[2];
                                let rz = (2 * nz - qz).unsigned_abs();
                                let d = ((x - mic[0]).powi(2) + (y - mic[1]).powi(2) + (z - mic[2]).powi(2)).sqrt();
                                if d >= max_d {
                                    continue;
                                }
                                let t = d / c * sr;
                                let i = t as usize;
                                if i + 1 >= len {
                                    continue;
                                }
                                let g = beta.powi((rx + ry + rz) as i32) * direct / d;
                                let frac = t - i as f32;
                                ir[i] += g * (1.0 - frac);
                                ir[i + 1] += g * frac;
                            }
                        }
                    }
                }
            }
        }
        speaker_band(&mut ir, sr, 80.0, 12_000.0);
        // Sabine's estimate of its decay time, for the report.
        let volume = size[0] * size[1] * size[2];
        let surface = 2.0 * (size[0] * size[1] + size[0] * size[2] + size[1] * size[2]);
        let rt60 = 0.161 * volume / (surface * (1.0 - beta * beta));
        let peak_gain_db = peak_gain(&ir);
        Room { name, sr, ir, delay_ms: direct / c * 1000.0, rt60, peak_gain_db }
    }

    /// The three rooms of the report and the tests: a small room, a larger and livelier one,
    /// and a shoebox by the image method.
    pub fn all(sr: f32) -> Vec<Room> {
        vec![
            Room::decaying("small room", sr, 6.0, 0.3, 11),
            Room::decaying("club", sr, 14.0, 0.6, 23),
            Room::shoebox("shoebox 8×6×3.5 m", sr, [8.0, 6.0, 3.5], [2.0, 3.0, 1.6], [5.0, 3.5, 1.7], 0.85, 0.5),
        ]
    }
}

/// A response's spectrum (on a grid far finer than its peaks: zero-padded to at least 2^20
/// points), from 0 Hz to the Nyquist frequency.
fn spectrum(ir: &[f32]) -> Vec<realfft::num_complex::Complex<f64>> {
    let n = (ir.len() * 8).next_power_of_two().max(1 << 20);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut x = fft.make_input_vec();
    for (d, &s) in x.iter_mut().zip(ir) {
        *d = s as f64;
    }
    let mut spec = fft.make_output_vec();
    fft.process(&mut x, &mut spec).expect("fft sizes");
    spec
}

/// A response's power over frequency, on `spectrum`'s grid.
fn power_spectrum(ir: &[f32]) -> Vec<f64> {
    spectrum(ir).iter().map(|c| c.norm_sqr()).collect()
}

/// A response's magnitude, max over frequency, in dB: the loop with a flat chain howls once the
/// gain reaches minus this.
fn peak_gain(ir: &[f32]) -> f32 {
    let peak = power_spectrum(ir).into_iter().fold(0.0f64, f64::max);
    (10.0 * peak.log10()) as f32
}

impl Room {
    /// Where a loop of this response and a flat, positive gain runs away, in dB over the gain
    /// at which its loudest peak reaches 0 dB (`-peak_gain_db`): a howl needs the loop's phase
    /// to come round to a whole turn too, so the loop holds until the response's loudest point
    /// on the positive real axis reaches unity (Nyquist), which may be a quieter peak than its
    /// loudest.
    pub fn phase_margin_db(&self) -> f32 {
        let spec = spectrum(&self.ir);
        // 0 Hz and the Nyquist frequency are on the axis (a real response's spectrum is real
        // there), where the phase may touch a whole turn without crossing it.
        let mut on_axis = spec[0].re.max(spec[spec.len() - 1].re);
        for w in spec.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a.im <= 0.0) != (b.im <= 0.0) {
                // The crossing of the real axis, by linear interpolation between the bins.
                let t = a.im / (a.im - b.im);
                let re = a.re + t * (b.re - a.re);
                on_axis = on_axis.max(re);
            }
        }
        self.peak_gain_db - (20.0 * on_axis.max(1e-12).log10()) as f32
    }

    /// The most gain `n` ideal notches could add to this room's loop (dB): notches `width_oct`
    /// octaves wide that take every peak inside them down by up to `max_depth_db` and leave the
    /// rest of the response alone, placed where they help most. A real notch cuts less towards
    /// its edges and turns the phase around it, so no suppressor of `n` such notches adds more
    /// (a loop's MSG is set by its loudest peak, whatever the detector).
    pub fn notch_bound_db(&self, n: usize, width_oct: f32, max_depth_db: f32) -> f32 {
        let power = power_spectrum(&self.ir);
        let bin_hz = self.sr as f64 / (2 * (power.len() - 1)) as f64;
        let peaks: Vec<(f64, f64)> = (1..power.len() - 1)
            .filter(|&k| power[k] > power[k - 1] && power[k] >= power[k + 1])
            .map(|k| ((k as f64 * bin_hz).log2(), 10.0 * power[k].log10()))
            .collect();
        notch_bound(&peaks, n, width_oct as f64, max_depth_db as f64) as f32
    }
}

/// `Room::notch_bound_db` on a response's peaks (log2 of the frequency, level in dB): the top
/// `k` peaks are taken out when `n` bands `width_oct` wide can cover them all (the fewest bands
/// that cover a set of points on a line: each starts at the lowest point not yet covered), and
/// the largest such `k` leaves the response's loudest peak at the `k + 1`th, or the top peak
/// `max_depth_db` down, whichever is louder.
fn notch_bound(peaks: &[(f64, f64)], n: usize, width_oct: f64, max_depth_db: f64) -> f64 {
    let mut by_level: Vec<(f64, f64)> = peaks.to_vec();
    by_level.sort_by(|a, b| b.1.total_cmp(&a.1));
    let Some(&(_, top)) = by_level.first() else { return 0.0 };
    let coverable = |k: usize| {
        let mut at: Vec<f64> = by_level[..k].iter().map(|p| p.0).collect();
        at.sort_by(f64::total_cmp);
        let mut bands = 0;
        let mut end = f64::NEG_INFINITY;
        for x in at {
            if x > end {
                bands += 1;
                end = x + width_oct;
            }
        }
        bands <= n
    };
    // Coverable sets shrink with k: the largest coverable k by bisection.
    let (mut lo, mut hi) = (0, by_level.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if coverable(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let left = by_level.get(lo).map_or(f64::NEG_INFINITY, |p| p.1);
    top - left.max(top - max_depth_db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notch_bound_covers_the_loudest_peaks_with_the_fewest_bands() {
        let oct = |hz: f64| hz.log2();
        // Two peaks a 70th of an octave apart (one band of a 20th covers both), then ever
        // quieter ones an octave apart.
        let peaks = [(oct(100.0), 0.0), (oct(101.0), -1.0), (oct(200.0), -2.0), (oct(400.0), -3.0), (oct(800.0), -5.0)];
        let bound = |n| notch_bound(&peaks, n, 1.0 / 20.0, 18.0);
        assert_eq!(bound(0), 0.0);
        assert_eq!(bound(1), 2.0, "one band takes 100 and 101 Hz: 200 Hz is left");
        assert_eq!(bound(2), 3.0);
        assert_eq!(bound(3), 5.0);
        assert_eq!(bound(4), 18.0, "every peak covered: the notches' depth is the limit");
        // A band a 200th of an octave wide covers 100 Hz alone.
        assert_eq!(notch_bound(&peaks, 1, 1.0 / 200.0, 18.0), 1.0);
        assert_eq!(notch_bound(&peaks, 4, 1.0 / 20.0, 4.0), 4.0);
    }

    #[test]
    fn a_comb_has_no_notch_gain_and_one_lone_resonance_the_notches_depth() {
        let sr = 48_000.0;
        // A direct sound and one echo 5 ms later: |1 + 0.5 e^{-jωd}| peaks at 1.5 every 200 Hz,
        // all alike (3.52 dB), so no handful of notches lowers the loudest peak.
        let mut ir = vec![0.0f32; 480];
        ir[0] = 1.0;
        ir[240] = 0.5;
        let room = Room { name: "comb", sr, ir, delay_ms: 0.0, rt60: 0.0, peak_gain_db: 0.0 };
        let b = room.notch_bound_db(8, 1.0 / 20.0, 18.0);
        assert!(b.abs() < 0.01, "comb: {b} dB");
        // A resonance (a decaying 1 kHz sine, Q about 50) over a weak direct sound: one notch
        // takes its peak down to where the direct sound's flat response is, about 20 dB lower,
        // and the 18 dB depth limits it.
        let ir: Vec<f32> = (0..24_000)
            .map(|i| {
                let t = i as f32 / sr;
                (if i == 0 { 0.1 } else { 0.0 }) + 0.05 * (std::f32::consts::TAU * 1000.0 * t).sin() * (-t * 60.0).exp()
            })
            .collect();
        let room = Room { name: "resonance", sr, ir, delay_ms: 0.0, rt60: 0.0, peak_gain_db: 0.0 };
        let one = room.notch_bound_db(1, 1.0 / 20.0, 18.0);
        assert!((one - 18.0).abs() < 0.01, "resonance, one notch: {one} dB");
        assert!(room.notch_bound_db(0, 1.0 / 20.0, 18.0) == 0.0);
    }

    #[test]
    fn the_phase_margin_is_where_jurys_test_puts_the_loops_edge() {
        // h = z^-1 − 0.5 z^-2: its loudest point, 1.5 at the Nyquist frequency, has the wrong
        // phase; the positive real axis is met only at 0 Hz, at 0.5. The loop
        // y = x + k (y[n-1] − 0.5 y[n-2]) has the characteristic z² − k z + 0.5 k, stable (Jury)
        // while 0.5 k < 1 and 1 − k + 0.5 k > 0: up to k = 2, where a root reaches z = 1. The
        // peak reaches unity at k = 1/1.5, so the margin is 20 log10(2 × 1.5) = 9.54 dB.
        let sr = 48_000.0;
        let ir = vec![0.0, 1.0, -0.5];
        let peak_gain_db = peak_gain(&ir);
        assert!((peak_gain_db - 20.0 * 1.5f32.log10()).abs() < 1e-3, "{peak_gain_db}");
        let room = Room { name: "two taps", sr, ir, delay_ms: 0.0, rt60: 0.0, peak_gain_db };
        let m = room.phase_margin_db();
        assert!((m - 20.0 * 3.0f32.log10()).abs() < 0.01, "margin {m} dB");
        // With the taps' signs alike the loudest point (1.5 at 0 Hz) is on the axis: no margin.
        let ir = vec![0.0, 1.0, 0.5];
        let room = Room { name: "two taps", sr, peak_gain_db: peak_gain(&ir), ir, delay_ms: 0.0, rt60: 0.0 };
        assert!(room.phase_margin_db().abs() < 0.01, "margin {} dB", room.phase_margin_db());
    }
}
