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
            Room::shoebox_heard_at(sr, SHOEBOX_MIC),
        ]
    }

    /// The report's shoebox with the microphone at `mic` (m).
    pub fn shoebox_heard_at(sr: f32, mic: [f32; 3]) -> Room {
        Room::shoebox("shoebox 8×6×3.5 m", sr, [8.0, 6.0, 3.5], [2.0, 3.0, 1.6], mic, 0.85, 0.5)
    }
}

/// Where the shoebox's microphone is (m).
pub const SHOEBOX_MIC: [f32; 3] = [5.0, 3.5, 1.7];

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
        if on_axis <= 0.0 {
            // Never on the positive axis: no positive gain makes it howl.
            return f32::INFINITY;
        }
        self.peak_gain_db - (20.0 * on_axis.log10()) as f32
    }

    /// What the suppressor's own notches (`dsp::feedback::notch`: bells `width_oct` wide,
    /// `depth_db` deep) add to this room's loudest peak when each in turn goes on the loudest
    /// point left, as a suppressor notches the howl of the moment: the gain after each of the
    /// first `n` (one per notch: its frequency in Hz, the gain in dB with it and those before).
    /// Achievable: not the best placement, which may do better.
    pub fn greedy_notches_db(&self, n: usize, width_oct: f32, depth_db: f32) -> Vec<(f32, f32)> {
        let power = power_spectrum(&self.ir);
        let bin_hz = self.sr / (2 * (power.len() - 1)) as f32;
        let level: Vec<f32> = power.iter().map(|&p| (10.0 * (p + 1e-30).log10()) as f32).collect();
        let top = level.iter().copied().fold(f32::MIN, f32::max);
        // The cut so far at each bin (dB, ≤ 0); 0 Hz and the Nyquist frequency left out, as the
        // detector leaves them.
        let mut cut = vec![0.0f32; level.len()];
        let loudest = |cut: &[f32]| (1..level.len() - 1).max_by(|&a, &b| (level[a] + cut[a]).total_cmp(&(level[b] + cut[b])));
        let mut gains = Vec::with_capacity(n);
        for _ in 0..n {
            let Some(k) = loudest(&cut) else { break };
            let hz = k as f32 * bin_hz;
            let mut notch = crate::dsp::feedback::notch::Notch::default();
            notch.place(hz, depth_db, width_oct, self.sr);
            notch.depth = depth_db;
            for (i, c) in cut.iter_mut().enumerate().skip(1) {
                *c += notch.db_at(i as f32 * bin_hz, self.sr);
            }
            let k = loudest(&cut).unwrap_or(k);
            gains.push((hz, top - (level[k] + cut[k])));
        }
        gains
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // h = 0.5 z^-1 − z^-2: loudest at the Nyquist frequency (1.5, the wrong phase), negative
        // at 0 Hz; the characteristic z² − 0.5 k z + k is stable (Jury) while k < 1, where its
        // roots reach the unit circle at cos θ = 1/4 (10.07 kHz), H = 1 there: a crossing of
        // the axis between the bins, 20 log10(1.5) = 3.52 dB under the peak.
        let ir = vec![0.0, 0.5, -1.0];
        let room = Room { name: "two taps", sr, peak_gain_db: peak_gain(&ir), ir, delay_ms: 0.0, rt60: 0.0 };
        let m = room.phase_margin_db();
        assert!((m - 20.0 * 1.5f32.log10()).abs() < 0.01, "margin {m} dB");
        // H = −1 at every frequency (an inverted path with no delay: y = x − k y): never on the
        // positive axis, and no positive gain makes it howl. (Delayed by a sample it is −e^{−jω},
        // +1 at the Nyquist frequency, and howls there at unity.)
        let ir = vec![-1.0];
        let room = Room { name: "inverted", sr, peak_gain_db: peak_gain(&ir), ir, delay_ms: 0.0, rt60: 0.0 };
        assert!(room.phase_margin_db().is_infinite());
        let ir = vec![0.0, -1.0];
        let room = Room { name: "inverted", sr, peak_gain_db: peak_gain(&ir), ir, delay_ms: 0.0, rt60: 0.0 };
        assert!(room.phase_margin_db().abs() < 0.01, "margin {} dB", room.phase_margin_db());
    }

    #[test]
    fn greedy_notches_take_a_lone_resonance_down_by_their_depth_and_a_comb_not_at_all() {
        let sr = 48_000.0;
        // A resonance (a decaying 1 kHz sine, Q about 50) standing some 46 dB over a weak direct
        // sound: one 18 dB bell on its peak takes it down by nearly the bell's depth (less what
        // the bell leaves of the resonance's skirt).
        let ir: Vec<f32> = (0..24_000)
            .map(|i| {
                let t = i as f32 / sr;
                (if i == 0 { 0.1 } else { 0.0 }) + 0.05 * (std::f32::consts::TAU * 1000.0 * t).sin() * (-t * 60.0).exp()
            })
            .collect();
        let room = Room { name: "resonance", sr, ir, delay_ms: 0.0, rt60: 0.0, peak_gain_db: 0.0 };
        let g: Vec<f32> = room.greedy_notches_db(2, 1.0 / 20.0, 18.0).into_iter().map(|(_, g)| g).collect();
        assert!(g[0] > 12.0 && g[0] <= 18.0 + 1e-3, "one bell on a resonance: {g:?}");
        assert!(g[1] >= g[0], "a second bell takes nothing back: {g:?}");
        // A comb of equal teeth 200 Hz apart: a bell on one tooth leaves the others as loud.
        let mut ir = vec![0.0f32; 480];
        ir[0] = 1.0;
        ir[240] = 0.5;
        let room = Room { name: "comb", sr, ir, delay_ms: 0.0, rt60: 0.0, peak_gain_db: 0.0 };
        let g: Vec<f32> = room.greedy_notches_db(8, 1.0 / 20.0, 18.0).into_iter().map(|(_, g)| g).collect();
        assert!(g.iter().all(|v| v.abs() < 0.01), "comb: {g:?}");
    }
}
