//! RMS metering over a 300 ms rectangular window, updated every 10 ms: the audio thread keeps
//! the sums of squares of thirty 10 ms slices per channel and publishes the window's RMS.

use crate::dsp::MAX_CH;
use atomic_float::AtomicF32;
use std::sync::atomic::Ordering;

/// The integration time of the RMS meter.
pub const WINDOW_S: f64 = 0.3;
const SLICES: usize = 30;

/// The published RMS of each channel (linear, full-scale sine = 0.707).
#[derive(Debug, Default)]
pub struct RmsTap {
    rms: [AtomicF32; MAX_CH],
}

impl RmsTap {
    pub fn get(&self, channel: usize) -> f32 {
        self.rms[channel].load(Ordering::Relaxed)
    }
}

/// Audio-thread side: no allocation, a few operations per sample.
#[derive(Debug, Clone)]
pub struct RmsMeter {
    slice_len: usize,
    pos: [usize; MAX_CH],
    acc: [f64; MAX_CH],
    slices: [[f64; SLICES]; MAX_CH],
    next: [usize; MAX_CH],
}

impl Default for RmsMeter {
    fn default() -> Self {
        Self::new(48_000.0)
    }
}

impl RmsMeter {
    pub fn new(sample_rate: f64) -> Self {
        Self {
            slice_len: ((sample_rate * WINDOW_S / SLICES as f64).round() as usize).max(1),
            pos: [0; MAX_CH],
            acc: [0.0; MAX_CH],
            slices: [[0.0; SLICES]; MAX_CH],
            next: [0; MAX_CH],
        }
    }

    pub fn reset(&mut self) {
        *self = Self { slice_len: self.slice_len, ..Self::new(1.0) };
    }

    /// Feeds one channel's samples; publishes the window's RMS each time a slice completes.
    #[inline]
    pub fn feed(&mut self, channel: usize, block: &[f32], tap: &RmsTap) {
        if channel >= MAX_CH {
            return;
        }
        let mut acc = self.acc[channel];
        let mut pos = self.pos[channel];
        let mut rest = block;
        while !rest.is_empty() {
            // Up to the end of the current slice at once (the same sum, in the same order).
            let (now, later) = rest.split_at((self.slice_len - pos).min(rest.len()));
            rest = later;
            for &x in now {
                acc += (x as f64) * (x as f64);
            }
            pos += now.len();
            if pos == self.slice_len {
                let slot = self.next[channel];
                self.slices[channel][slot] = acc;
                self.next[channel] = (slot + 1) % SLICES;
                // Summing 30 values every 10 ms keeps no running sum that rounding could drift.
                let sum: f64 = self.slices[channel].iter().sum();
                let rms = (sum / (SLICES * self.slice_len) as f64).sqrt();
                tap.rms[channel].store(rms as f32, Ordering::Relaxed);
                acc = 0.0;
                pos = 0;
            }
        }
        self.acc[channel] = acc;
        self.pos[channel] = pos;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(meter: &mut RmsMeter, tap: &RmsTap, x: &[f32]) {
        // Uneven block sizes: the result must not depend on them.
        let mut i = 0;
        let mut n = 1;
        while i < x.len() {
            let end = (i + n).min(x.len());
            meter.feed(0, &x[i..end], tap);
            i = end;
            n = n * 7 % 509 + 1;
        }
    }

    #[test]
    fn sine_reads_its_rms_and_square_reads_its_peak() {
        for sr in [44_100.0, 48_000.0, 96_000.0] {
            let tap = RmsTap::default();
            let mut m = RmsMeter::new(sr);
            // 997 Hz (no whole number of periods per slice), −6 dBFS peak: RMS = 0.5/√2.
            let x: Vec<f32> = (0..sr as usize).map(|i| (0.5 * (std::f64::consts::TAU * 997.0 * i as f64 / sr).sin()) as f32).collect();
            run(&mut m, &tap, &x);
            let want = 0.5 / 2f64.sqrt();
            assert!((tap.get(0) as f64 / want - 1.0).abs() < 2e-3, "{sr}: {} vs {want}", tap.get(0));
            let sq: Vec<f32> = (0..sr as usize).map(|i| if (i / 40) % 2 == 0 { 0.25 } else { -0.25 }).collect();
            run(&mut m, &tap, &sq);
            assert!((tap.get(0) - 0.25).abs() < 1e-6, "square: {}", tap.get(0));
        }
    }

    #[test]
    fn window_is_300_ms() {
        // A 150 ms burst of DC at 1.0 after silence: at its end the 300 ms window is half full
        // (RMS √0.5); 300 ms after it starts the window is full (1.0); 300 ms after it ends, 0.
        let sr = 48_000.0;
        let tap = RmsTap::default();
        let mut m = RmsMeter::new(sr);
        run(&mut m, &tap, &vec![0.0; 48_000]);
        run(&mut m, &tap, &vec![1.0; 7_200]);
        assert!((tap.get(0) - 0.5f32.sqrt()).abs() < 1e-6, "{}", tap.get(0));
        run(&mut m, &tap, &vec![1.0; 7_200]);
        assert!((tap.get(0) - 1.0).abs() < 1e-6, "{}", tap.get(0));
        run(&mut m, &tap, &vec![0.0; 14_400]);
        assert!(tap.get(0) < 1e-6, "{}", tap.get(0));
    }
}
