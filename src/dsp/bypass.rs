//! The click-free bypass: an equal-power crossfade between the processed and the untouched
//! signal, with the fade position advancing per sample so any block split gives the same output.

use std::f32::consts::FRAC_PI_2;

/// Crossfade length: short enough to feel instant, long enough not to click.
pub const BYPASS_FADE_MS: f32 = 10.0;

#[derive(Debug, Clone, Default)]
pub struct BypassFade {
    /// 0 = fully processed, 1 = fully bypassed.
    pos: f32,
    step: f32,
}

impl BypassFade {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.step = 1.0 / (BYPASS_FADE_MS * 0.001 * sample_rate).max(1.0);
    }

    /// Jumps to the target without fading (used on activation, when there is nothing to fade).
    pub fn snap(&mut self, bypassed: bool) {
        self.pos = if bypassed { 1.0 } else { 0.0 };
    }

    pub fn is_settled(&self, bypassed: bool) -> bool {
        self.pos == if bypassed { 1.0 } else { 0.0 }
    }

    /// Writes the per-sample gains of the processed and of the dry signal for the next
    /// `wet_gain.len()` samples, moving toward `bypassed`. Called once per block for all channels.
    pub fn fill_gains(&mut self, bypassed: bool, wet_gain: &mut [f32], dry_gain: &mut [f32]) {
        let target = if bypassed { 1.0 } else { 0.0 };
        for (w, d) in wet_gain.iter_mut().zip(dry_gain.iter_mut()) {
            if self.pos != target {
                self.pos = if bypassed {
                    (self.pos + self.step).min(1.0)
                } else {
                    (self.pos - self.step).max(0.0)
                };
            }
            // Exact endpoints, so that a settled bypass passes the input bit for bit.
            (*w, *d) = if self.pos == 0.0 {
                (1.0, 0.0)
            } else if self.pos == 1.0 {
                (0.0, 1.0)
            } else {
                let theta = self.pos * FRAC_PI_2;
                (theta.cos(), theta.sin())
            };
        }
    }

    /// Gains (processed, dry) at the current position, for tests and meters.
    pub fn gains(&self) -> (f32, f32) {
        let theta = self.pos * FRAC_PI_2;
        (theta.cos(), theta.sin())
    }
}
