//! Sample-peak metering: the audio thread publishes the largest absolute sample of each channel
//! since the editor last looked; the editor turns that into a bar with hold and fall-back.

use atomic_float::AtomicF32;
use std::sync::atomic::Ordering;

pub use crate::dsp::max_abs;
use crate::dsp::MAX_CH;

/// Per-channel "largest |sample| since last read", written by the audio thread with `fetch_max`
/// so no peak between two editor frames is ever lost.
#[derive(Debug, Default)]
pub struct PeakTap {
    peaks: [AtomicF32; MAX_CH],
}

impl PeakTap {
    /// Audio thread: records the absolute peak of each channel of a block.
    #[inline]
    pub fn feed(&self, channel: usize, block: &[f32]) {
        if channel >= MAX_CH {
            return;
        }
        self.peaks[channel].fetch_max(max_abs(block), Ordering::Relaxed);
    }

    /// Editor thread: takes the peak since the last call and starts a new interval.
    pub fn take(&self, channel: usize) -> f32 {
        self.peaks[channel].swap(0.0, Ordering::Relaxed)
    }
}

/// The standard meter fall-back rate.
pub const FALL_DB_PER_S: f32 = 20.0;
/// How long the peak-hold line stays before it falls.
pub const HOLD_S: f32 = 1.5;
/// The meter's floor.
pub const FLOOR_DB: f32 = -90.0;

/// Meter ballistics, run in the editor at its own frame rate: instant attack, linear fall in dB,
/// and a held maximum.
#[derive(Debug, Clone, Copy)]
pub struct PeakBallistics {
    pub level_db: f32,
    pub hold_db: f32,
    hold_left_s: f32,
    pub clipped: bool,
}

impl Default for PeakBallistics {
    fn default() -> Self {
        Self { level_db: FLOOR_DB, hold_db: FLOOR_DB, hold_left_s: 0.0, clipped: false }
    }
}

impl PeakBallistics {
    /// Advances by `dt` seconds during which the largest |sample| was `peak`.
    pub fn update(&mut self, peak: f32, dt: f32) {
        let db = crate::dsp::gain_to_db(peak).max(FLOOR_DB);
        let fallen = (self.level_db - FALL_DB_PER_S * dt).max(FLOOR_DB);
        self.level_db = db.max(fallen);
        if peak >= 1.0 {
            self.clipped = true;
        }
        if db >= self.hold_db {
            self.hold_db = db;
            self.hold_left_s = HOLD_S;
        } else if self.hold_left_s > 0.0 {
            self.hold_left_s -= dt;
        } else {
            self.hold_db = (self.hold_db - FALL_DB_PER_S * dt).max(self.level_db);
        }
    }

    pub fn reset_clip(&mut self) {
        self.clipped = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `max_abs` is the plain fold of |x| for every length and position of the loudest sample,
    /// and passes over NaNs.
    #[test]
    fn max_abs_is_the_plain_fold() {
        let mut seed = 6u32;
        for len in 0..40usize {
            for loud in 0..len.max(1) {
                let mut x: Vec<f32> = (0..len).map(|_| crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5).collect();
                if len > 0 {
                    x[loud] = -0.9;
                }
                assert_eq!(max_abs(&x), x.iter().fold(0.0f32, |m, &v| m.max(v.abs())));
                if len > 1 {
                    x[(loud + 1) % len] = f32::NAN;
                    assert_eq!(max_abs(&x), x.iter().fold(0.0f32, |m, &v| m.max(v.abs())), "{len} {loud}");
                }
            }
        }
    }

    #[test]
    fn peak_is_per_channel_absolute_not_the_mean() {
        let tap = PeakTap::default();
        // Left a full-scale negative spike, right quiet: a mean of signed samples would read ~0.
        tap.feed(0, &[0.0, -1.0, 0.2]);
        tap.feed(1, &[0.0, 0.1, -0.05]);
        assert_eq!(tap.take(0), 1.0);
        assert!((tap.take(1) - 0.1).abs() < 1e-7);
        assert_eq!(tap.take(0), 0.0, "taking starts a new interval");
    }

    #[test]
    fn ballistics_fall_at_20_db_per_second() {
        let mut m = PeakBallistics::default();
        m.update(1.0, 0.01);
        assert!(m.level_db.abs() < 1e-4);
        for _ in 0..50 {
            m.update(0.0, 0.01);
        }
        // 0.5 s of silence: 10 dB down.
        assert!((m.level_db + 10.0).abs() < 1e-3, "{}", m.level_db);
        assert!(m.clipped);
        assert!(m.hold_db > -1e-4, "held for 1.5 s");
    }
}
