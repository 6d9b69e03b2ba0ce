//! The vocoder's two filter banks, run band-parallel: every band is a lane of the same arrays, so
//! one pass over the arrays per sample runs all bands on SIMD lanes.
//!
//! Each band is two identical Simper state-variable band-passes in series (4th order, unity gain
//! at the centre). The second section's band and low outputs are in exact quadrature at every
//! frequency (its trapezoidal integrator turns v1 into v2 with the phase of −j) and equal at the
//! centre, so k²(v1² + v2²) is the band's power envelope without the ripple at twice the
//! frequency that rectifying leaves: a 100 Hz band needs no long smoothing to read steady.
//!
//! Modulator band k sets the level of carrier band k: out = Σ ±√(Pm_k / Pc_k) · c_k, the
//! carrier band normalised by its own power envelope (so the voice's spectrum comes out whatever
//! the carrier's tilt; a saw's −6 dB per octave would otherwise bury the consonants). Adjacent
//! bands alternate in sign: in phase, two neighbours cancel at their crossover (notches 10 to 30
//! dB deep); alternated, the bank's sum is flat within about ±1.5 dB.

use std::f32::consts::PI;
use wide::f32x8;

/// The most bands.
pub const MAX_BANDS: usize = 64;

/// Bands are run in groups of this many lanes (padded with silent bands).
const LANES: usize = 8;

/// The carrier's power floor: a carrier band quieter than −100 dBFS is not lifted further.
const CARRIER_FLOOR: f32 = 1e-10;

/// One set of band-pass sections: per band g, k and the Simper map's a1, a2, a3.
#[derive(Clone, Copy)]
struct Sections {
    a1: [f32; MAX_BANDS],
    a2: [f32; MAX_BANDS],
    a3: [f32; MAX_BANDS],
    k: [f32; MAX_BANDS],
}

impl Default for Sections {
    fn default() -> Self {
        // A silent band: a1 = 1, a2 = a3 = 0 keeps its states at zero, k = 0 mutes it.
        Self { a1: [1.0; MAX_BANDS], a2: [0.0; MAX_BANDS], a3: [0.0; MAX_BANDS], k: [0.0; MAX_BANDS] }
    }
}

impl Sections {
    fn set(&mut self, band: usize, freq: f32, q: f32, fs: f32) {
        let g = portable_tan(PI as f64 * freq as f64 / fs as f64);
        let k = 1.0 / q;
        let a1 = 1.0 / (1.0 + g * (g + k));
        self.a1[band] = a1;
        self.a2[band] = g * a1;
        self.a3[band] = g * g * a1;
        self.k[band] = k;
    }
}

/// The states of a band-pass pair: (s1, s2) of the first and of the second section.
#[derive(Clone, Copy)]
struct States {
    s1: [f32; MAX_BANDS],
    s2: [f32; MAX_BANDS],
    t1: [f32; MAX_BANDS],
    t2: [f32; MAX_BANDS],
}

impl Default for States {
    fn default() -> Self {
        let z = [0.0; MAX_BANDS];
        Self { s1: z, s2: z, t1: z, t2: z }
    }
}

/// Where the bands sit: `count` centres log-spaced from `lo` to `hi`, each section's −3 dB width
/// `width` times the spacing, the carrier's centres moved by `shift` semitones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    pub count: usize,
    pub lo: f32,
    pub hi: f32,
    pub width: f32,
    pub shift: f32,
}

impl Default for Layout {
    fn default() -> Self {
        Self { count: 16, lo: 100.0, hi: 10_000.0, width: 1.0, shift: 0.0 }
    }
}

impl Layout {
    /// The highest centre the bank places: 0.45 fs (the band nearest Nyquist keeps its shape).
    pub fn top(fs: f32) -> f32 {
        0.45 * fs
    }

    /// The band count within 4..=64, the range within 20 Hz..0.45 fs and at least a third of an
    /// octave wide.
    // (Not `clamp`: see below; its NaN behaviour is the point.)
    #[allow(clippy::manual_clamp)]
    pub fn clamped(self, fs: f32) -> Layout {
        // `max` then `min` rather than `clamp`: a NaN (a parameter read while another thread
        // writes it) becomes the lower bound instead of a panic (`clamp` panics when its upper
        // bound is NaN, as `hi / 1.26` is for a NaN `hi`); other values are clamped alike.
        let count = self.count.clamp(4, MAX_BANDS);
        let hi = self.hi.max(40.0).min(Self::top(fs));
        // A third of an octave: 2^(1/3).
        let lo = self.lo.max(20.0).min(hi / 1.259_921_1);
        Layout { count, lo, hi, width: self.width.max(0.25).min(4.0), shift: self.shift.max(-24.0).min(24.0) }
    }

    /// Band `k`'s centre, Hz.
    pub fn centre(&self, k: usize) -> f32 {
        (self.lo as f64 * (self.hi as f64 / self.lo as f64).powf(k as f64 / (self.count - 1) as f64)) as f32
    }

    /// Each section's Q: its −3 dB band `width` × the spacing of the centres.
    pub fn q(&self) -> f32 {
        let octaves = (self.hi as f64 / self.lo as f64).log2() / (self.count - 1) as f64 * self.width as f64;
        let r = 2f64.powf(octaves);
        (r.sqrt() / (r - 1.0)) as f32
    }

    /// Band `k`'s carrier centre: its centre moved by the shift, kept below 0.45 fs.
    pub fn carrier_centre(&self, k: usize, fs: f32) -> f32 {
        (self.centre(k) * 2f64.powf(self.shift as f64 / 12.0) as f32).clamp(10.0, Self::top(fs))
    }
}

/// The analysis (modulator) and synthesis (carrier) banks with their envelopes.
pub struct Bank {
    fs: f32,
    layout: Layout,
    /// Bands rounded up to whole lane groups.
    lanes: usize,
    m: Sections,
    c: Sections,
    ms: States,
    cs: States,
    /// The modulator's power envelopes (attack/release follower).
    env: [f32; MAX_BANDS],
    /// The carrier's power envelopes, by the same follower as the modulator's: a voice and a
    /// carrier alike (noise on noise, an /s/ on the unvoiced swap's hiss) then come out at the
    /// voice's level, the follower's lean toward peaks cancelling.
    cpow: [f32; MAX_BANDS],
    /// ±1 by band, and the bank's level calibration folded in.
    sign: [f32; MAX_BANDS],
}

impl Default for Bank {
    fn default() -> Self {
        let mut bank = Self {
            fs: 48_000.0,
            layout: Layout::default(),
            lanes: 0,
            m: Sections::default(),
            c: Sections::default(),
            ms: States::default(),
            cs: States::default(),
            env: [0.0; MAX_BANDS],
            cpow: [0.0; MAX_BANDS],
            sign: [0.0; MAX_BANDS],
        };
        bank.prepare(48_000.0);
        bank
    }
}

/// Lanes `g·8 .. g·8 + 8` of a per-band array.
#[inline(always)]
fn load(a: &[f32; MAX_BANDS], g: usize) -> f32x8 {
    f32x8::from(<[f32; LANES]>::try_from(&a[g * LANES..(g + 1) * LANES]).unwrap_or([0.0; LANES]))
}

#[inline(always)]
fn store(a: &mut [f32; MAX_BANDS], g: usize, v: f32x8) {
    a[g * LANES..(g + 1) * LANES].copy_from_slice(&v.to_array());
}

/// One sample of `x` through lane group `g` of a band-pass pair: the band (unity gain at the
/// centre) and its power from the second section's quadrature outputs, k²(v1² + v2²).
#[inline(always)]
fn pair(sec: &Sections, st: &mut States, g: usize, x: f32x8) -> (f32x8, f32x8) {
    let two = f32x8::splat(2.0);
    let (a1, a2, a3, k) = (load(&sec.a1, g), load(&sec.a2, g), load(&sec.a3, g), load(&sec.k, g));
    let (s1, s2) = (load(&st.s1, g), load(&st.s2, g));
    let v3 = x - s2;
    let v1 = a1 * s1 + a2 * v3;
    let v2 = s2 + a2 * s1 + a3 * v3;
    store(&mut st.s1, g, two * v1 - s1);
    store(&mut st.s2, g, two * v2 - s2);
    let x = k * v1;
    let (t1, t2) = (load(&st.t1, g), load(&st.t2, g));
    let w3 = x - t2;
    let w1 = a1 * t1 + a2 * w3;
    let w2 = t2 + a2 * t1 + a3 * w3;
    store(&mut st.t1, g, two * w1 - t1);
    store(&mut st.t2, g, two * w2 - t2);
    (k * w1, k * k * (w1 * w1 + w2 * w2))
}

/// The analog prototype of one band (two sections), at `f` Hz for a centre `fc` and Q `q`.
/// `tan` worked out in double precision and rounded: the platforms' single-precision `tanf`,
/// `powf` and `expf` differ in their last bits (glibc's against mingw's), and the vocoder's
/// coefficients are worked out in f64 so that Windows and Linux builds give the same samples
/// (tests/windows.rs).
pub(super) fn portable_tan(x: f64) -> f32 {
    x.tan() as f32
}

fn band_response(f: f32, fc: f32, q: f32) -> (f32, f32) {
    // H(s) = (s/q) / (s² + s/q + 1) with s = j f/fc, squared.
    let w = f / fc;
    let (re, im) = (1.0 - w * w, w / q);
    let den = re * re + im * im;
    // (j w/q) / (re + j im) = (w/q)(im + j re) / den
    let (hr, hi) = (w / q * im / den, w / q * re / den);
    (hr * hr - hi * hi, 2.0 * hr * hi)
}

impl Bank {
    pub fn prepare(&mut self, fs: f32) {
        self.fs = fs;
        let layout = self.layout;
        self.layout = Layout { count: 0, ..layout };
        self.set_layout(layout);
        self.reset();
    }

    pub fn reset(&mut self) {
        self.ms = States::default();
        self.cs = States::default();
        self.env = [0.0; MAX_BANDS];
        self.cpow = [0.0; MAX_BANDS];
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The band count in use.
    pub fn count(&self) -> usize {
        self.layout.count
    }

    /// Moves the bands (states kept: a gliding range or shift moves them smoothly). Returns
    /// whether anything changed.
    pub fn set_layout(&mut self, layout: Layout) -> bool {
        let layout = layout.clamped(self.fs);
        if layout == self.layout {
            return false;
        }
        let fs = self.fs;
        let q = layout.q();
        self.m = Sections::default();
        self.c = Sections::default();
        for k in 0..layout.count {
            self.m.set(k, layout.centre(k), q, fs);
            self.c.set(k, layout.carrier_centre(k, fs), q, fs);
        }
        if layout.count != self.layout.count {
            // Bands that went away must not ring on if they come back.
            for k in layout.count..MAX_BANDS {
                for a in [&mut self.ms, &mut self.cs] {
                    a.s1[k] = 0.0;
                    a.s2[k] = 0.0;
                    a.t1[k] = 0.0;
                    a.t2[k] = 0.0;
                }
                self.env[k] = 0.0;
                self.cpow[k] = 0.0;
            }
        }
        self.lanes = layout.count.div_ceil(LANES) * LANES;
        let cal = Self::calibration(&layout);
        self.sign = [0.0; MAX_BANDS];
        for k in 0..layout.count {
            self.sign[k] = if k % 2 == 0 { cal } else { -cal };
        }
        self.layout = layout;
        true
    }

    /// The gain that brings the bank's summed response to 0 dB on average (root mean square over
    /// a log-frequency grid between the outer centres), from the analog prototype: a flat carrier
    /// and a flat voice then come out at the voice's level.
    fn calibration(layout: &Layout) -> f32 {
        const POINTS: usize = 256;
        let q = layout.q();
        let (lo, hi) = (layout.centre(0), layout.centre(layout.count - 1));
        let mut acc = 0.0f64;
        for i in 0..POINTS {
            let f = (lo as f64 * (hi as f64 / lo as f64).powf((i as f64 + 0.5) / POINTS as f64)) as f32;
            let (mut re, mut im) = (0.0f32, 0.0f32);
            for k in 0..layout.count {
                let (r, j) = band_response(f, layout.centre(k), q);
                let s = if k % 2 == 0 { 1.0 } else { -1.0 };
                re += s * r;
                im += s * j;
            }
            acc += (re * re + im * im) as f64;
        }
        (1.0 / (acc / POINTS as f64).sqrt()) as f32
    }

    /// One sample: the modulator `m` and the carrier `c` in, the vocoded sample out. `att` and
    /// `rel` are the envelope follower's one-pole coefficients. Eight bands per vector.
    #[inline]
    pub fn tick(&mut self, m: f32, c: f32, att: f32, rel: f32) -> f32 {
        let (m, c, att, rel) = (f32x8::splat(m), f32x8::splat(c), f32x8::splat(att), f32x8::splat(rel));
        let floor = f32x8::splat(CARRIER_FLOOR);
        let mut acc = f32x8::ZERO;
        for g in 0..self.lanes / LANES {
            // Modulator: two sections, the second's quadrature pair gives the power.
            let (_, p) = pair(&self.m, &mut self.ms, g, m);
            let e = load(&self.env, g);
            let e = e + (p - e) * p.simd_gt(e).select(att, rel);
            store(&mut self.env, g, e);
            // Carrier: the same pair at the carrier's centre, normalised by its own envelope.
            let (band, q) = pair(&self.c, &mut self.cs, g, c);
            let cp = load(&self.cpow, g);
            let cp = cp + (q - cp) * q.simd_gt(cp).select(att, rel);
            store(&mut self.cpow, g, cp);
            acc += load(&self.sign, g) * band * (e / cp.max(floor)).sqrt();
        }
        acc.reduce_add()
    }

    /// The highest modulator power envelope of all bands.
    pub fn max_envelope(&self) -> f32 {
        self.env[..self.layout.count].iter().fold(0.0f32, |m, &e| m.max(e))
    }

    /// Band `k`'s modulator envelope as an amplitude (the level a sine at its centre would have).
    pub fn level(&self, k: usize) -> f32 {
        self.env.get(k).map_or(0.0, |e| e.sqrt())
    }

    /// True if a state holds a subnormal number.
    pub fn has_subnormal(&self) -> bool {
        [&self.ms, &self.cs]
            .iter()
            .flat_map(|s| s.s1.iter().chain(&s.s2).chain(&s.t1).chain(&s.t2))
            .chain(&self.env)
            .chain(&self.cpow)
            .any(|x| x.is_subnormal())
    }

    /// Band `k`'s impulse response (the modulator's sections, or the carrier's), run alone
    /// through the same arithmetic as `tick`.
    #[cfg(test)]
    pub fn band_impulse(&self, k: usize, carrier: bool, len: usize) -> Vec<f32> {
        let sec = if carrier { &self.c } else { &self.m };
        let (a1, a2, a3, kk) = (sec.a1[k], sec.a2[k], sec.a3[k], sec.k[k]);
        let (mut s, mut t) = ([0.0f32; 2], [0.0f32; 2]);
        (0..len)
            .map(|i| {
                let x0 = if i == 0 { 1.0 } else { 0.0 };
                let v1 = a1 * s[0] + a2 * (x0 - s[1]);
                let v2 = s[1] + a2 * s[0] + a3 * (x0 - s[1]);
                s = [2.0 * v1 - s[0], 2.0 * v2 - s[1]];
                let x = kk * v1;
                let w1 = a1 * t[0] + a2 * (x - t[1]);
                let w2 = t[1] + a2 * t[0] + a3 * (x - t[1]);
                t = [2.0 * w1 - t[0], 2.0 * w2 - t[1]];
                kk * w1
            })
            .collect()
    }
}
