//! The spectrum analyzer's measurement: a Hann-windowed 4096-point FFT (realfft) of the newest
//! output samples, in dB where a full-scale sine reads 0 dB, smoothed (instant rise, 150 ms fall)
//! and with a peak hold. It runs on the editor's thread from samples the audio thread queues
//! only while the editor is open; the plan and every buffer are made in `new`.

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

pub const FFT_SIZE: usize = 4096;
/// A new spectrum every this many samples (75 % overlap).
pub const HOP: usize = FFT_SIZE / 4;
pub const FLOOR_DB: f32 = -120.0;
/// Time constant of the display's fall, seconds.
const FALL_S: f32 = 0.15;
const HOLD_S: f32 = 2.0;
const HOLD_FALL_DB_PER_S: f32 = 12.0;

pub struct Analyzer {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// The newest FFT_SIZE samples, oldest first once `filled`.
    ring: Vec<f32>,
    pos: usize,
    pending: usize,
    input: Vec<f32>,
    output: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Amplitude scale: a sine of amplitude 1 centred on a bin reads 1.
    scale: f32,
    /// The latest raw spectrum, dB per bin.
    pub raw_db: Vec<f32>,
    /// What the display shows: rises at once, falls with a 150 ms time constant.
    pub level_db: Vec<f32>,
    pub hold_db: Vec<f32>,
    hold_left: Vec<f32>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE);
        let window: Vec<f32> = (0..FFT_SIZE).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / FFT_SIZE as f32).cos()).collect();
        let scale = 2.0 / window.iter().sum::<f32>();
        let bins = FFT_SIZE / 2 + 1;
        Self {
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
            ring: vec![0.0; FFT_SIZE],
            pos: 0,
            pending: 0,
            scale,
            raw_db: vec![FLOOR_DB; bins],
            level_db: vec![FLOOR_DB; bins],
            hold_db: vec![FLOOR_DB; bins],
            hold_left: vec![0.0; bins],
        }
    }

    /// The centre frequency of bin `k` at `sample_rate`.
    pub fn bin_hz(k: usize, sample_rate: f32) -> f32 {
        k as f32 * sample_rate / FFT_SIZE as f32
    }

    /// Queues samples (oldest first).
    pub fn push(&mut self, samples: &[f32]) {
        for &x in samples {
            self.ring[self.pos] = if x.is_finite() { x } else { 0.0 };
            self.pos = (self.pos + 1) % FFT_SIZE;
        }
        self.pending += samples.len();
    }

    /// Clears the display (after the editor reopens, or the stream restarts).
    pub fn clear(&mut self) {
        self.ring.fill(0.0);
        self.pending = 0;
        self.raw_db.fill(FLOOR_DB);
        self.level_db.fill(FLOOR_DB);
        self.hold_db.fill(FLOOR_DB);
        self.hold_left.fill(0.0);
    }

    /// Computes a new spectrum if a hop of new samples has arrived, and advances the display's
    /// ballistics by `dt` seconds. Returns whether a new spectrum was computed.
    pub fn update(&mut self, dt: f32) -> bool {
        let fresh = self.pending >= HOP;
        if fresh {
            self.pending = 0;
            for (i, (dst, w)) in self.input.iter_mut().zip(&self.window).enumerate() {
                *dst = self.ring[(self.pos + i) % FFT_SIZE] * w;
            }
            if self.fft.process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch).is_ok() {
                for (db, c) in self.raw_db.iter_mut().zip(&self.output) {
                    *db = (20.0 * (c.norm() * self.scale).max(1e-7).log10()).max(FLOOR_DB);
                }
            }
        }
        let fall = 1.0 - (-dt / FALL_S).exp();
        for k in 0..self.raw_db.len() {
            let raw = self.raw_db[k];
            let lvl = &mut self.level_db[k];
            *lvl = if raw >= *lvl { raw } else { *lvl + (raw - *lvl) * fall };
            if *lvl >= self.hold_db[k] {
                self.hold_db[k] = *lvl;
                self.hold_left[k] = HOLD_S;
            } else if self.hold_left[k] > 0.0 {
                self.hold_left[k] -= dt;
            } else {
                self.hold_db[k] = (self.hold_db[k] - HOLD_FALL_DB_PER_S * dt).max(*lvl);
            }
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, amp: f32, sr: f32, n: usize) -> Vec<f32> {
        (0..n).map(|i| amp * (std::f32::consts::TAU * freq * i as f32 / sr).sin()).collect()
    }

    #[test]
    fn a_sine_on_a_bin_reads_its_level_and_nothing_else() {
        let sr = 48_000.0;
        let k = 100; // 1171.9 Hz
        let mut a = Analyzer::new();
        a.push(&sine(Analyzer::bin_hz(k, sr), 0.5, sr, 2 * FFT_SIZE));
        assert!(a.update(0.03));
        assert!((a.raw_db[k] + 6.02).abs() < 0.05, "{}", a.raw_db[k]);
        // The Hann window's transform is zero at whole bins past the main lobe.
        for j in [k - 20, k - 2, k + 2, k + 50, 1500] {
            assert!(a.raw_db[j] < -90.0, "bin {j}: {}", a.raw_db[j]);
        }
    }

    #[test]
    fn between_bins_reads_the_hann_scalloping_loss() {
        // Half a bin off, the Hann window reads 20·log10(8/(3π)) = −1.42 dB lower in each of the
        // two neighbouring bins.
        let sr = 48_000.0;
        let mut a = Analyzer::new();
        a.push(&sine(Analyzer::bin_hz(200, sr) + sr / FFT_SIZE as f32 / 2.0, 1.0, sr, 2 * FFT_SIZE));
        a.update(0.03);
        let want = 20.0 * (8.0 / (3.0 * std::f32::consts::PI)).log10();
        for k in [200, 201] {
            assert!((a.raw_db[k] - want).abs() < 0.05, "bin {k}: {} vs {want}", a.raw_db[k]);
        }
    }

    #[test]
    fn display_rises_at_once_falls_smoothly_and_holds_peaks() {
        let sr = 48_000.0;
        let mut a = Analyzer::new();
        a.push(&sine(Analyzer::bin_hz(64, sr), 1.0, sr, FFT_SIZE));
        a.update(0.03);
        assert!(a.level_db[64] > -0.1);
        a.push(&vec![0.0; FFT_SIZE]);
        a.update(0.15);
        // One time constant of fall from 0 dB towards the floor: 63 % of the way.
        let want = FLOOR_DB * (1.0 - (-1.0f32).exp());
        assert!((a.level_db[64] - want).abs() < 0.5, "{} vs {want}", a.level_db[64]);
        assert!(a.hold_db[64] > -0.1, "held");
        assert!(!a.update(0.01), "no new hop, no new spectrum");
    }
}
