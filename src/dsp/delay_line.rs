//! A fixed integer delay, used to keep dry paths aligned with the chain's latency.

/// A ring buffer delaying one channel by a whole number of samples, changeable without
/// reallocating up to the capacity fixed in `new`.
#[derive(Debug, Clone, Default)]
pub struct IntegerDelay {
    buf: Vec<f32>,
    write: usize,
    delay: usize,
}

impl IntegerDelay {
    pub fn new(max_delay: usize) -> Self {
        Self { buf: vec![0.0; max_delay.max(1) + 1], write: 0, delay: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.buf.len() - 1
    }

    /// Sets the delay, clamped to the capacity.
    pub fn set_delay(&mut self, delay: usize) {
        self.delay = delay.min(self.capacity());
    }

    pub fn delay(&self) -> usize {
        self.delay
    }

    pub fn reset(&mut self) {
        self.buf.fill(0.0);
        self.write = 0;
    }

    /// Pushes `x` and returns the sample from `delay` samples ago.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        let len = self.buf.len();
        self.buf[self.write] = x;
        let read = if self.write >= self.delay { self.write - self.delay } else { self.write + len - self.delay };
        let y = self.buf[read];
        self.write += 1;
        if self.write == len {
            self.write = 0;
        }
        y
    }

    /// Delays a block in place.
    /// The same as `tick` on every sample, done as at most two copies in and two out of the
    /// ring. Writing the whole block first is only right while it cannot overwrite a sample the
    /// block still has to read (n + delay ≤ ring length); otherwise, sample by sample.
    pub fn process(&mut self, block: &mut [f32]) {
        let len = self.buf.len();
        let n = block.len();
        if n + self.delay > len {
            for x in block.iter_mut() {
                *x = self.tick(*x);
            }
            return;
        }
        // Where the block's first output comes from: `delay` samples before its first input.
        let read = (self.write + len - self.delay) % len;
        // In first: a sample written here may be read back in the same block when delay < n.
        let first = n.min(len - self.write);
        self.buf[self.write..self.write + first].copy_from_slice(&block[..first]);
        self.buf[..n - first].copy_from_slice(&block[first..]);
        self.write = (self.write + n) % len;
        if self.delay == 0 {
            return;
        }
        let first = n.min(len - read);
        block[..first].copy_from_slice(&self.buf[read..read + first]);
        block[first..].copy_from_slice(&self.buf[..n - first]);
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
