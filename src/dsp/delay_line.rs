//! A fixed integer delay, used to keep dry paths aligned with the chain's latency.

use super::ring::Ring;

/// Delays one channel by a whole number of samples, changeable without reallocating up to the
/// capacity fixed in `new`.
#[derive(Debug, Clone, Default)]
pub struct IntegerDelay {
    ring: Ring,
    capacity: usize,
    delay: usize,
}

impl IntegerDelay {
    pub fn new(max_delay: usize) -> Self {
        let capacity = max_delay.max(1);
        // The input sample and `capacity` before it.
        Self { ring: Ring::new(capacity + 1), capacity, delay: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sets the delay, clamped to the capacity.
    pub fn set_delay(&mut self, delay: usize) {
        self.delay = delay.min(self.capacity);
    }

    pub fn delay(&self) -> usize {
        self.delay
    }

    pub fn reset(&mut self) {
        self.ring.reset();
    }

    /// Pushes `x` and returns the sample from `delay` samples ago.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        self.ring.push(x);
        self.ring.tap(self.delay + 1)
    }

    /// Delays a block in place: the same as `tick` on every sample, done as one run in and one
    /// out of the ring. Pushing the whole block first is only right while it cannot overwrite a
    /// sample the block still has to read (n + delay ≤ ring length); otherwise, sample by sample.
    pub fn process(&mut self, block: &mut [f32]) {
        let n = block.len();
        if n + self.delay > self.ring.len() {
            for x in block.iter_mut() {
                *x = self.tick(*x);
            }
            return;
        }
        self.ring.push_run(block);
        if self.delay > 0 {
            // Output i is input i − delay: pushed n + delay − i pushes ago.
            self.ring.read_run(n + self.delay, block);
        }
    }
}

/// A stage's lookahead: every channel's audio delayed by a whole number of samples (at most
/// `max_ms`), which is the stage's latency. The compressor and the gate each keep one.
#[derive(Debug, Clone, Default)]
pub struct Lookahead {
    lines: [IntegerDelay; super::MAX_CH],
    samples: usize,
    sample_rate: f32,
    max_ms: f32,
}

impl Lookahead {
    pub fn new(max_ms: f32) -> Self {
        Self { max_ms, sample_rate: 48_000.0, ..Self::default() }
    }

    /// Allocates the lines for this rate, keeping the delay set.
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        let cap = (self.max_ms * 0.001 * sample_rate).ceil() as usize + 1;
        for d in &mut self.lines {
            *d = IntegerDelay::new(cap);
            d.set_delay(self.samples);
        }
    }

    pub fn reset(&mut self) {
        for d in &mut self.lines {
            d.reset();
        }
    }

    /// The delay in samples for a time in ms at this rate (clamped to the maximum).
    pub fn samples_for(&self, ms: f32) -> usize {
        (ms.clamp(0.0, self.max_ms) * 0.001 * self.sample_rate).round() as usize
    }

    pub fn set(&mut self, samples: usize) {
        self.samples = samples;
        for d in &mut self.lines {
            d.set_delay(samples);
        }
    }

    pub fn latency(&self) -> usize {
        self.samples
    }

    #[inline]
    pub fn tick(&mut self, ch: usize, x: f32) -> f32 {
        self.lines[ch].tick(x)
    }

    /// Delays channel `ch`'s block in place. Without a delay the block still goes into the line,
    /// so a lookahead switched on mid-stream starts from the latest audio, not from stale samples.
    #[inline]
    pub fn process(&mut self, ch: usize, block: &mut [f32]) {
        self.lines[ch].process(block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Block processing equals sample-by-sample ticking for every delay and block size, the
    /// ring's edge cases (n + delay around the ring length, wrap-around) included.
    #[test]
    fn block_processing_equals_ticking() {
        let mut seed = 1u32;
        let mut next = move || crate::dsp::xorshift32(&mut seed);
        for capacity in [1usize, 7, 64, 100] {
            for delay in [0, 1, capacity / 2, capacity] {
                let (mut a, mut b) = (IntegerDelay::new(capacity), IntegerDelay::new(capacity));
                a.set_delay(delay);
                b.set_delay(delay);
                for _ in 0..200 {
                    let n = next() as usize % (2 * capacity + 3);
                    let input: Vec<f32> = (0..n).map(|_| next() as f32).collect();
                    let mut x = input.clone();
                    a.process(&mut x);
                    let y: Vec<f32> = input.iter().map(|&v| b.tick(v)).collect();
                    let want = if delay == 0 { input.clone() } else { y };
                    assert_eq!(x, want, "capacity {capacity}, delay {delay}, block {n}");
                }
            }
        }
    }
}
