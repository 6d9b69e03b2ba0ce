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

/// A response's magnitude, max over frequency, in dB (on a grid far finer than its peaks:
/// zero-padded to at least 2^20 points): the loop with a flat chain howls once the gain reaches
/// minus this.
fn peak_gain(ir: &[f32]) -> f32 {
    let n = (ir.len() * 8).next_power_of_two().max(1 << 20);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut x = fft.make_input_vec();
    for (a, &b) in x.iter_mut().zip(ir) {
        *a = b as f64;
    }
    let mut spec = fft.make_output_vec();
    fft.process(&mut x, &mut spec).expect("fft sizes");
    let peak = spec.iter().map(|c| c.norm_sqr()).fold(0.0f64, f64::max);
    (10.0 * peak.log10()) as f32
}
