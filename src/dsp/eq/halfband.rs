//! Twice the rate and back, with no reported latency: polyphase IIR half-band filters (two
//! chains of first-order allpass sections in z², the elliptic design of Valenzuela and
//! Constantinides), which are flat in the pass band to within a millionth of a dB and phase-only
//! there. What they cost is a little group delay near the top of the band (measured in the EQ's
//! tests) instead of an FIR's fixed delay.

/// Allpass sections in all (alternating between the two branches).
pub const SECTIONS: usize = 8;

/// The half-band's coefficients for `n` sections whose pass band ends `transition` below a
/// quarter of the (high) rate, both as fractions of it. Elliptic filter theory gives the
/// section frequencies in closed form, as ratios of theta series in the nome `q`.
pub fn coefficients(n: usize, transition: f64) -> Vec<f64> {
    use std::f64::consts::PI;
    let k = ((1.0 - 4.0 * transition) * PI / 4.0).tan().powi(2);
    let kk = (1.0 - k * k).powf(0.25);
    let e = 0.5 * (1.0 - kk) / (1.0 + kk);
    let e4 = e.powi(4);
    let q = e * (1.0 + e4 * (2.0 + e4 * (15.0 + 150.0 * e4)));
    let order = (2 * n + 1) as f64;
    (1..=n)
        .map(|c| {
            let c = c as f64;
            let mut num = 0.0;
            let mut den = 0.0;
            for i in 0..12 {
                let fi = i as f64;
                let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
                num += sign * q.powf(fi * (fi + 1.0)) * ((2.0 * fi + 1.0) * c * PI / order).sin();
                if i > 0 {
                    den += sign * q.powf(fi * fi) * (2.0 * fi * c * PI / order).cos();
                }
            }
            let ww = 2.0 * q.powf(0.25) * num / (1.0 + 2.0 * den);
            let ww2 = ww * ww;
            let x = ((1.0 - ww2 * k) * (1.0 - ww2 / k)).sqrt() / (1.0 + ww2);
            (1.0 - x) / (1.0 + x)
        })
        .collect()
}

/// One branch: a chain of first-order allpass sections (a + z⁻¹) / (1 + a·z⁻¹) at the low rate.
#[derive(Debug, Clone, Copy)]
struct Branch<const N: usize> {
    a: [f32; N],
    x: [f32; N],
    y: [f32; N],
}

impl<const N: usize> Default for Branch<N> {
    fn default() -> Self {
        Self { a: [0.0; N], x: [0.0; N], y: [0.0; N] }
    }
}

impl<const N: usize> Branch<N> {
    #[inline(always)]
    fn tick(&mut self, mut v: f32) -> f32 {
        for i in 0..N {
            let out = self.x[i] + self.a[i] * (v - self.y[i]);
            self.x[i] = v;
            self.y[i] = out;
            v = out;
        }
        v
    }

    fn reset(&mut self) {
        self.x = [0.0; N];
        self.y = [0.0; N];
    }
}

const HALF: usize = SECTIONS / 2;

/// A 2× up-sampler and a 2× down-sampler for one channel.
#[derive(Debug, Clone, Copy, Default)]
pub struct Oversampler {
    up: [Branch<HALF>; 2],
    down: [Branch<HALF>; 2],
    /// The odd branch's output, one low-rate sample late (the z⁻¹ between the branches).
    late: f32,
}

impl Oversampler {
    /// The half-band for rates from 44.1 kHz: flat up to 20 kHz, 44.1 kHz's top of the band.
    pub fn new() -> Self {
        let c = coefficients(SECTIONS, 0.25 - 20_000.0 / 88_200.0);
        let mut s = Self::default();
        for (i, &a) in c.iter().enumerate() {
            for b in [&mut s.up[i % 2], &mut s.down[i % 2]] {
                b.a[i / 2] = a as f32;
            }
        }
        s
    }

    pub fn reset(&mut self) {
        for b in self.up.iter_mut().chain(self.down.iter_mut()) {
            b.reset();
        }
        self.late = 0.0;
    }

    /// One low-rate sample in, two high-rate samples out.
    #[inline(always)]
    pub fn up(&mut self, x: f32) -> [f32; 2] {
        [self.up[0].tick(x), self.up[1].tick(x)]
    }

    /// Two high-rate samples in, one low-rate sample out.
    #[inline(always)]
    pub fn down(&mut self, pair: [f32; 2]) -> f32 {
        let even = self.down[0].tick(pair[0]);
        let out = 0.5 * (even + self.late);
        self.late = self.down[1].tick(pair[1]);
        out
    }
}
