//! The one ring buffer of the processors: a power-of-two length, so every index is masked rather
//! than compared, written one sample (or one run of samples) after another and read by age.
//! The compressor's lookahead, the chain's latency compensation (`delay_line`), the delay's
//! lines and the reverb's pre-delay and diffusers all keep their past here. (The reverb's eight
//! FDN lines share one buffer laid out for four-lane loads, `reverb::Lines`: another shape.)

#[derive(Debug, Clone)]
pub struct Ring {
    buf: Vec<f32>,
    mask: usize,
    write: usize,
}

impl Default for Ring {
    fn default() -> Self {
        Self::new(1)
    }
}

impl Ring {
    /// A ring of at least `min_len` samples (rounded up to a power of two), silent.
    pub fn new(min_len: usize) -> Self {
        let len = min_len.max(1).next_power_of_two();
        Self { buf: vec![0.0; len], mask: len - 1, write: 0 }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Never: a ring holds at least one sample.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Where the next sample will be written.
    #[inline(always)]
    pub fn write_pos(&self) -> usize {
        self.write
    }

    pub fn reset(&mut self) {
        self.buf.fill(0.0);
        self.write = 0;
    }

    /// The sample at ring index `i`, taken modulo the length.
    #[inline(always)]
    pub fn at(&self, i: usize) -> f32 {
        // SAFETY: the index is masked to the buffer's power-of-two length.
        unsafe { *self.buf.get_unchecked(i & self.mask) }
    }

    /// The sample written `d` pushes ago (d ≥ 1; d = 1 is the last one).
    #[inline(always)]
    pub fn tap(&self, d: usize) -> f32 {
        self.at(self.write.wrapping_sub(d))
    }

    #[inline(always)]
    pub fn push(&mut self, x: f32) {
        // SAFETY: `write` is always masked.
        unsafe { *self.buf.get_unchecked_mut(self.write) = x };
        self.write = (self.write + 1) & self.mask;
    }

    /// Moves on by `n` samples without writing them (what they hold stays as it was).
    #[inline]
    pub fn advance(&mut self, n: usize) {
        self.write = (self.write + n) & self.mask;
    }

    /// Copies `out.len()` consecutive samples, oldest first: `out[i]` is the sample written
    /// `age − i` pushes ago (`out.len()` ≤ age ≤ the ring's length).
    #[inline]
    pub fn read_run(&self, age: usize, out: &mut [f32]) {
        let start = self.write.wrapping_sub(age) & self.mask;
        let first = out.len().min(self.buf.len() - start);
        let (head, tail) = out.split_at_mut(first);
        head.copy_from_slice(&self.buf[start..start + first]);
        tail.copy_from_slice(&self.buf[..tail.len()]);
    }

    /// Pushes `xs` in order (no more than the ring's length).
    #[inline]
    pub fn push_run(&mut self, xs: &[f32]) {
        let first = xs.len().min(self.buf.len() - self.write);
        let (head, tail) = xs.split_at(first);
        self.buf[self.write..self.write + first].copy_from_slice(head);
        self.buf[..tail.len()].copy_from_slice(tail);
        self.write = (self.write + xs.len()) & self.mask;
    }

    /// The samples in ring order (index 0 first), for reads that know they do not wrap.
    #[inline(always)]
    pub fn as_slice(&self) -> &[f32] {
        &self.buf
    }

    pub fn has_subnormal(&self) -> bool {
        self.buf.iter().any(|x| x.is_subnormal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs pushed and read at once are the same as sample-by-sample pushes and taps, at every
    /// offset across the wrap.
    #[test]
    fn runs_equal_single_pushes_and_taps() {
        let mut seed = 3u32;
        let mut next = move || crate::dsp::xorshift32(&mut seed);
        let (mut a, mut b) = (Ring::new(16), Ring::new(16));
        assert_eq!(a.len(), 16);
        for _ in 0..500 {
            let n = next() as usize % 17;
            let xs: Vec<f32> = (0..n).map(|_| next() as f32).collect();
            a.push_run(&xs);
            for &x in &xs {
                b.push(x);
            }
            assert_eq!(a.write_pos(), b.write_pos());
            let age = n + next() as usize % (17 - n);
            let mut run = vec![0.0; n];
            a.read_run(age, &mut run);
            let taps: Vec<f32> = (0..n).map(|i| b.tap(age - i)).collect();
            assert_eq!(run, taps, "{n} samples {age} back");
        }
    }
}
