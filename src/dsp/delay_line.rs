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
        let read = if self.write >= self.delay {
            self.write - self.delay
        } else {
            self.write + len - self.delay
        };
        let y = self.buf[read];
        self.write += 1;
        if self.write == len {
            self.write = 0;
        }
        y
    }

    /// Delays a block in place.
    pub fn process(&mut self, block: &mut [f32]) {
        if self.delay == 0 {
            // Still feed the buffer so that a later change of delay reads real history.
            for &x in block.iter() {
                self.tick(x);
            }
            return;
        }
        for x in block.iter_mut() {
            *x = self.tick(*x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impulse_comes_back_after_exactly_the_delay() {
        for d in [0usize, 1, 7, 64, 100] {
            let mut line = IntegerDelay::new(128);
            line.set_delay(d);
            let mut x = vec![0.0f32; 300];
            x[5] = 1.0;
            // Odd block sizes to cross the ring's wrap point at different offsets.
            for chunk in x.chunks_mut(13) {
                line.process(chunk);
            }
            let peak = x.iter().position(|&v| v == 1.0).unwrap();
            assert_eq!(peak, 5 + d);
            assert_eq!(x.iter().filter(|&&v| v != 0.0).count(), 1);
        }
    }
}
