//! The reverb's line modulation: eight slow sines, computed once per control period.

use super::*;

/// The eight lines' modulation: sines at `MOD_HZ`, each starting at its own phase, computed once
/// per control period and drawn as a straight line between (the LFOs run below 1 Hz: over a
/// period the line departs from the sine by under 1e-5 at 8 kHz).
#[derive(Debug, Clone, Default)]
pub(super) struct Lfo {
    /// The phases (0..1) at the end of the current period, and their advance per period (f64:
    /// in f32 the sum of ten thousand small advances drifts audibly far from the frequency).
    pub(super) phase: [f64; LINES],
    pub(super) inc: [f64; LINES],
    /// The current period's line: its start, its end (the sine at `phase`), its step per sample.
    pub(super) from: [f32; LINES],
    pub(super) to: [f32; LINES],
    pub(super) step: [f32; LINES],
    /// Samples of the current period already given.
    pub(super) filled: usize,
}

impl Lfo {
    pub(super) fn reset(&mut self) {
        for (i, p) in self.phase.iter_mut().enumerate() {
            *p = i as f64 / LINES as f64;
        }
        // The period before the first ends at the starting phases.
        self.to = fast_sin8(f32x8::new(self.phase.map(|p| p as f32))).to_array();
        self.from = self.to;
        self.step = [0.0; LINES];
        self.filled = CONTROL;
    }

    /// Moves on by `frames` samples without giving them: where `frames` calls of `next` would
    /// leave it (the phases of the periods passed over are added at once).
    pub(super) fn advance(&mut self, frames: u64) {
        let in_period = (CONTROL - self.filled) as u64;
        if frames <= in_period {
            self.filled += frames as usize;
            return;
        }
        let rest = frames - in_period;
        let periods = rest.div_ceil(CONTROL as u64);
        // Every period but the last passes whole: only its phase advance matters.
        for (p, &inc) in self.phase.iter_mut().zip(&self.inc) {
            *p = (*p + (periods - 1) as f64 * inc).rem_euclid(1.0);
        }
        self.to = fast_sin8(f32x8::new(self.phase.map(|p| p as f32))).to_array();
        self.filled = CONTROL;
        // The last one starts as `next` starts a period, and this many of its samples pass.
        for _ in 0..rest - (periods - 1) * CONTROL as u64 {
            self.next();
        }
    }

    /// The eight LFO values (−1..1) for the next sample.
    #[inline(always)]
    pub(super) fn next(&mut self) -> f32x8 {
        if self.filled == CONTROL {
            // A new period: the line from where the last one ended to the sine at this one's end.
            for (p, &inc) in self.phase.iter_mut().zip(&self.inc) {
                *p += inc;
                if *p >= 1.0 {
                    *p -= 1.0;
                }
            }
            let to = fast_sin8(f32x8::new(self.phase.map(|p| p as f32)));
            self.from = self.to;
            self.step = ((to - f32x8::new(self.from)) * f32x8::splat(1.0 / CONTROL as f32)).to_array();
            self.to = to.to_array();
            self.filled = 0;
        }
        let k = self.filled;
        self.filled += 1;
        f32x8::new(self.from) + f32x8::new(self.step) * f32x8::splat(RAMP[k])
    }
}

/// `fast_sin` on eight lanes, in the same order of operations.
#[inline(always)]
pub(super) fn fast_sin8(phase: f32x8) -> f32x8 {
    let one = f32x8::splat(1.0);
    let x = phase * f32x8::splat(2.0) - one;
    let y = f32x8::splat(4.0) * x * (one - x.abs());
    let s = f32x8::splat(0.225) * (y * y.abs() - y) + y;
    -s
}

#[cfg(test)]
/// sin(2π·phase) for phase in [0, 1), a parabolic approximation (error ≤ 0.0011 of full scale), plenty for an
/// LFO and far cheaper than `sin`. The reverb runs `fast_sin8`; this scalar form is its reference.
#[inline]
pub(super) fn fast_sin(phase: f32) -> f32 {
    let x = phase * 2.0 - 1.0; // -1..1 ↔ -π..π
    let y = 4.0 * x * (1.0 - x.abs());
    let s = 0.225 * (y * y.abs() - y) + y;
    -s
}
