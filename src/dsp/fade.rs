//! A linear on/off fade for a stage's switch, advanced per sample so that switching a stage is
//! click-free and independent of the block size.

pub const STAGE_FADE_MS: f32 = 10.0;

#[derive(Debug, Clone, Default)]
pub struct Fade {
    pos: f32,
    step: f32,
}

impl Fade {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.step = 1.0 / (STAGE_FADE_MS * 0.001 * sample_rate).max(1.0);
    }

    pub fn snap(&mut self, on: bool) {
        self.pos = if on { 1.0 } else { 0.0 };
    }

    /// True when the fade rests where the switch says (no fade in progress).
    pub fn is_settled(&self, on: bool) -> bool {
        self.pos == if on { 1.0 } else { 0.0 }
    }

    /// True when off and settled: the stage can be skipped for this block.
    pub fn is_off(&self, on: bool) -> bool {
        !on && self.pos == 0.0
    }

    /// Fills `out` with the fade amount for each sample, moving toward `on`. Returns true when the
    /// stage rises from fully off: it must then be reset, so it starts from silence rather than
    /// from a stale tail (and so the result never depends on how blocks were split while off).
    pub fn fill(&mut self, on: bool, out: &mut [f32]) -> bool {
        let restart = on && self.pos == 0.0;
        let target = if on { 1.0 } else { 0.0 };
        if self.pos == target {
            out.fill(target);
            return restart;
        }
        for o in out.iter_mut() {
            self.pos = if on { (self.pos + self.step).min(1.0) } else { (self.pos - self.step).max(0.0) };
            *o = self.pos;
        }
        restart
    }
}
