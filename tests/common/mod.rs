//! Signals and measurements shared by the integration tests.
#![allow(dead_code)]

/// Deterministic white noise in [-amp, amp] (xorshift32), so tests need no randomness crate.
pub fn noise(frames: usize, amp: f32, seed: u32) -> Vec<f32> {
    let mut s = seed.max(1);
    (0..frames)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32 * 2.0 - 1.0) * amp
        })
        .collect()
}

pub fn sine(frames: usize, freq: f32, sr: f32, amp: f32) -> Vec<f32> {
    (0..frames).map(|i| amp * (std::f32::consts::TAU * freq * i as f32 / sr).sin()).collect()
}

pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

pub fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

/// A small deterministic generator for block sizes and values.
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.next_u32() as usize % (hi - lo + 1)
    }
    pub fn unit(&mut self) -> f32 {
        self.next_u32() as f32 / u32::MAX as f32
    }
}
pub mod jack;
pub mod clap;
pub mod xwd;
pub mod xvfb;
