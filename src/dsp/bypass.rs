//! The click-free bypass: an equal-power crossfade between the processed and the untouched
//! signal. Its position is a stage fade (`fade.rs`), advanced per sample so any block split gives
//! the same output.

use super::fade::Fade;
use std::f32::consts::FRAC_PI_2;

#[derive(Debug, Clone, Default)]
pub struct BypassFade {
    /// 0 = fully processed, 1 = fully bypassed.
    fade: Fade,
}

impl BypassFade {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.fade.prepare(sample_rate);
    }

    /// Jumps to the target without fading (used on activation, when there is nothing to fade).
    pub fn snap(&mut self, bypassed: bool) {
        self.fade.snap(bypassed);
    }

    /// No crossfade in progress.
    pub fn is_settled(&self, bypassed: bool) -> bool {
        self.fade.is_settled(bypassed)
    }

    /// Writes the per-sample gains of the processed and of the dry signal for the next
    /// `wet_gain.len()` samples, moving toward `bypassed`. Called once per block for all channels.
    /// Returns whether any of the dry signal is heard (bypassed, or fading).
    pub fn fill_gains(&mut self, bypassed: bool, wet_gain: &mut [f32], dry_gain: &mut [f32]) -> bool {
        self.fade.fill(bypassed, dry_gain);
        // The fade moves one way through a block, so when it starts and ends fully processed it
        // is fully processed throughout.
        if dry_gain.first().is_none_or(|&d| d == 0.0) && dry_gain.last().is_none_or(|&d| d == 0.0) {
            wet_gain.fill(1.0);
            return false;
        }
        for (w, d) in wet_gain.iter_mut().zip(dry_gain.iter_mut()) {
            // Exact endpoints, so that a settled bypass passes the input bit for bit.
            (*w, *d) = if *d == 0.0 {
                (1.0, 0.0)
            } else if *d == 1.0 {
                (0.0, 1.0)
            } else {
                let theta = *d * FRAC_PI_2;
                (theta.cos(), theta.sin())
            };
        }
        true
    }
}
