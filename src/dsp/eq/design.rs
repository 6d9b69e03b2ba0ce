//! The EQ's band designs: analog prototypes (the responses the bands promise) and their matched
//! digital biquads, run as trapezoidal state-variable filters so they stay stable and quiet
//! while their settings move every sample.
//!
//! The match: the digital poles are the analog poles mapped exactly (z = e^{sT}, no warping),
//! and the numerator's magnitude is fitted to the analog response times the poles' own
//! magnitude at DC, at the band's centre and at Nyquist (Vicanek's idea, "Matched Second Order
//! Digital Filters", 2016), then factored to its minimum-phase biquad. The version of the band
//! whose poles are the lower or sharper ones (a boost bell, a boosting low shelf, a cutting high
//! shelf) is the one designed; its inverse is the other (every prototype here is its own mirror:
//! H(−g) = 1/H(g)), so no pole ever lies near Nyquist where mapping them would alias. At rates
//! from 88.2 kHz up this lands within 0.1 dB of the analog curve from 20 Hz to 20 kHz; below,
//! the EQ runs at twice the rate (`super::halfband`).

/// What a band is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LowShelf,
    Bell,
    HighShelf,
}

/// A band's settings: its centre (or shelf midpoint) in Hz, its gain in dB, its Q.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub kind: Kind,
    pub freq: f64,
    pub gain_db: f64,
    pub q: f64,
}

/// The analog prototype's squared magnitude at `f` Hz (the RBJ cookbook's s-domain bell and
/// shelves; A = 10^(gain/40)).
pub fn analog_mag2(b: &Band, f: f64) -> f64 {
    let a = 10f64.powf(b.gain_db / 40.0);
    let w = f / b.freq;
    let w2 = w * w;
    match b.kind {
        Kind::Bell => {
            let num = (1.0 - w2).powi(2) + (w * a / b.q).powi(2);
            let den = (1.0 - w2).powi(2) + (w / (a * b.q)).powi(2);
            num / den
        }
        Kind::LowShelf => {
            let m = (a.sqrt() * w / b.q).powi(2);
            a * a * ((a - w2).powi(2) + m) / ((1.0 - a * w2).powi(2) + m)
        }
        Kind::HighShelf => {
            let m = (a.sqrt() * w / b.q).powi(2);
            a * a * ((1.0 - a * w2).powi(2) + m) / ((a - w2).powi(2) + m)
        }
    }
}

/// The analog magnitude in dB.
pub fn analog_db(b: &Band, f: f64) -> f64 {
    10.0 * analog_mag2(b, f).log10()
}

/// A digital biquad, b0 + b1 z⁻¹ + b2 z⁻² over 1 + a1 z⁻¹ + a2 z⁻².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    pub b: [f64; 3],
    pub a: [f64; 2],
}

impl Biquad {
    pub const IDENTITY: Biquad = Biquad { b: [1.0, 0.0, 0.0], a: [0.0, 0.0] };

    /// Its magnitude in dB at `f` Hz for rate `fs`.
    pub fn db(&self, f: f64, fs: f64) -> f64 {
        let w = std::f64::consts::TAU * f / fs;
        let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
        let (nr, ni) = (self.b[0] + self.b[1] * c1 + self.b[2] * c2, -(self.b[1] * s1 + self.b[2] * s2));
        let (dr, di) = (1.0 + self.a[0] * c1 + self.a[1] * c2, -(self.a[0] * s1 + self.a[1] * s2));
        10.0 * ((nr * nr + ni * ni) / (dr * dr + di * di)).log10()
    }
}

/// The squared magnitude of a real polynomial c0 + c1 z⁻¹ + c2 z⁻² at angle w, in Vicanek's
/// basis: |P|² = P0·φ0 + P1·φ1 + P2·φ2 with φ1 = sin²(w/2), φ0 = 1 − φ1, φ2 = 4·φ0·φ1, where
/// P0 = |P(1)|², P1 = |P(−1)|², P2 = −4·c0·c2.
fn phis(w: f64) -> [f64; 3] {
    let s = (w * 0.5).sin();
    let p1 = s * s;
    let p0 = 1.0 - p1;
    [p0, p1, 4.0 * p0 * p1]
}

/// The digital poles of s² + (ω/Qp)s + ω² (ω = 2π·fp), mapped by z = e^{sT}: (a1, a2).
fn matched_poles(fp: f64, qp: f64, fs: f64) -> [f64; 2] {
    let w = std::f64::consts::TAU * fp / fs;
    let zeta = 0.5 / qp;
    let r = (-zeta * w).exp();
    let a1 =
        if zeta <= 1.0 { -2.0 * r * ((1.0 - zeta * zeta).sqrt() * w).cos() } else { -2.0 * r * ((zeta * zeta - 1.0).sqrt() * w).cosh() };
    [a1, r * r]
}

/// Points of the least-squares fit on the log grid.
const FIT_POINTS: usize = 16;

/// The band as digital biquads at rate `fs` (see the module's note): one for a bell, two for a
/// shelf (its zeros' resonance and its poles', each designed on matched poles, so a resonant
/// shelf's two features are both exact).
pub fn design(band: &Band, fs: f64) -> [Biquad; 2] {
    design_on(band, &Grid::new(fs))
}

/// The fit's log grid at one rate: its frequencies and their φ, worked out once per rate (the EQ
/// keeps one), so a band redesigned every sample of a glide pays only for its own points.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    fs: f64,
    top: f64,
    pts: [(f64, [f64; 3]); FIT_POINTS],
}

impl Grid {
    pub fn new(fs: f64) -> Self {
        let top = (fs * 0.45).min(20_000.0);
        let pts = std::array::from_fn(|k| {
            let f = 500.0 * (top / 500.0).powf(k as f64 / (FIT_POINTS - 1) as f64);
            (f, phis(std::f64::consts::TAU * f / fs))
        });
        Self { fs, top, pts }
    }
}

/// `design` on a grid made for the rate.
pub fn design_on(band: &Band, grid: &Grid) -> [Biquad; 2] {
    let fs = grid.fs;
    if band.gain_db == 0.0 {
        return [Biquad::IDENTITY; 2];
    }
    let top = fs * 0.45;
    let a = 10f64.powf(band.gain_db.abs() / 40.0);
    match band.kind {
        Kind::Bell => {
            // The boost's poles are its sharp part; a cut is the boost inverted.
            let proto = Band { gain_db: band.gain_db.abs(), ..*band };
            let f0 = band.freq.min(top);
            let sa = a.sqrt();
            let h = fit(matched_poles(f0, band.q * a, fs), |f| analog_mag2(&proto, f), &[f0, f0 * sa, f0 / sa, f0 * 0.8, f0 * 1.25], grid);
            [if band.gain_db < 0.0 { invert_biquad(&h) } else { h }, Biquad::IDENTITY]
        }
        Kind::LowShelf | Kind::HighShelf => {
            // H = G·Z(s)·P(s): Z's zeros and P's poles are resonances at ωz and ωp with the
            // band's Q (A = 10^(|gain|/40); for a low shelf ωz = √A·ω0, ωp = ω0/√A, G = A²,
            // a high shelf the mirror, G = 1; a cut swaps Z and P and divides by G).
            let (mut fz, mut fp, mut g) = match band.kind {
                Kind::LowShelf => (band.freq * a.sqrt(), band.freq / a.sqrt(), a * a),
                _ => (band.freq / a.sqrt(), band.freq * a.sqrt(), 1.0),
            };
            if band.gain_db < 0.0 {
                std::mem::swap(&mut fz, &mut fp);
                g = 1.0 / g;
            }
            let p = resonance(fp.min(top), band.q, grid);
            let mut z = invert_biquad(&resonance(fz.min(top), band.q, grid));
            for b in &mut z.b {
                *b *= g;
            }
            [z, p]
        }
    }
}

/// ω² / (s² + s·ω/Q + ω²) at `fp` Hz as a digital biquad: matched poles, fitted numerator.
fn resonance(fp: f64, q: f64, grid: &Grid) -> Biquad {
    let target = |f: f64| {
        let w = f / fp;
        1.0 / ((1.0 - w * w).powi(2) + (w / q).powi(2))
    };
    fit(matched_poles(fp, q, grid.fs), target, &[fp, fp * 0.8, fp * 1.25, fp * 0.5, fp * 2.0], grid)
}

/// The biquad with poles (a1, a2) whose magnitude best follows `target` (a squared magnitude):
/// exact at DC, least squares of the relative error over a log grid up to 20 kHz (or 0.45 of
/// the rate) and over the `features` given (a response's own turning points).
fn fit(poles: [f64; 2], target: impl Fn(f64) -> f64, features: &[f64], grid: &Grid) -> Biquad {
    let [a1, a2] = poles;
    // The poles' squared magnitude in the φ basis.
    let den = [(1.0 + a1 + a2).powi(2), (1.0 - a1 + a2).powi(2), -4.0 * a2];
    let (fs, top) = (grid.fs, grid.top);
    let b0 = target(0.0) * den[0];
    // In powers of φ1 the numerator is B0 + D1·φ1 + D2·φ1²: the two unknowns' columns then
    // differ by a factor φ1 instead of being nearly equal at low frequencies, and each is scaled
    // to unit size before solving.
    let own = features.iter().copied().filter(|&f| f < top && f > 0.0).map(|f| (f, phis(std::f64::consts::TAU * f / fs)));
    let mut pts = [(0.0f64, 0.0f64, 0.0f64); FIT_POINTS + 8];
    let mut m = 0;
    for (f, p) in grid.pts.iter().copied().chain(own).take(pts.len()) {
        let t = target(f) * (den[0] * p[0] + den[1] * p[1] + den[2] * p[2]);
        // Residual (B0 + D1·φ1 + D2·φ1² − t) / t, linear in D1 and D2.
        pts[m] = (p[1] / t, p[1] * p[1] / t, (b0 - t) / t);
        m += 1;
    }
    let n1 = pts[..m].iter().map(|p| p.0 * p.0).sum::<f64>().sqrt().max(1e-300);
    let n2 = pts[..m].iter().map(|p| p.1 * p.1).sum::<f64>().sqrt().max(1e-300);
    let (mut s11, mut s12, mut s22, mut r1, mut r2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(u, v, c) in &pts[..m] {
        let (u, v) = (u / n1, v / n2);
        s11 += u * u;
        s12 += u * v;
        s22 += v * v;
        r1 -= u * c;
        r2 -= v * c;
    }
    let det = s11 * s22 - s12 * s12;
    let d1 = (r1 * s22 - r2 * s12) / det / n1;
    let d2 = (s11 * r2 - s12 * r1) / det / n2;
    // Back to the φ basis: B0·φ0 + B1·φ1 + B2·4·φ0·φ1 = B0 + (B1 − B0 + 4·B2)·φ1 − 4·B2·φ1².
    let b2 = -d2 / 4.0;
    let b1 = d1 + b0 - 4.0 * b2;
    factor([b0, b1, b2], poles)
}

/// The minimum-phase biquad whose numerator has the squared magnitude [B0, B1, B2] (φ basis)
/// over the poles (a1, a2). B2 is kept where it leaves the factoring real.
fn factor(bb: [f64; 3], a: [f64; 2]) -> Biquad {
    let (s0, s1) = (bb[0].max(0.0).sqrt(), bb[1].max(0.0).sqrt());
    let w = 0.5 * (s0 + s1);
    let b2 = bb[2].max(-w * w);
    let c0 = 0.5 * (w + (w * w + b2).sqrt());
    let c1 = 0.5 * (s0 - s1);
    let c2 = -b2 / (4.0 * c0);
    Biquad { b: [c0, c1, c2], a }
}

/// 1/H: numerator and denominator swapped and normalised (the numerator is minimum-phase, so
/// the inverse is stable).
fn invert_biquad(h: &Biquad) -> Biquad {
    let n = h.b[0];
    Biquad { b: [1.0 / n, h.a[0] / n, h.a[1] / n], a: [h.b[1] / n, h.b[2] / n] }
}

/// A biquad as a trapezoidal state-variable filter (its g and k give the poles, a mix of its
/// high-, band- and low-pass outputs the zeros), written as the linear map it is per sample:
/// the two integrator states and the input give the new states and the output,
/// [s1, s2]' = A·[s1, s2] + b·x and y = d·x + e·[s1, s2]. The input reaches the output through one
/// multiply and one add (what a cascade of sections waits for). Valid for any stable biquad with
/// poles away from z = ±1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvfCoefs {
    pub a11: f32,
    pub a12: f32,
    pub a21: f32,
    pub a22: f32,
    pub b1: f32,
    pub b2: f32,
    pub d: f32,
    pub e1: f32,
    pub e2: f32,
}

impl SvfCoefs {
    /// Passes the signal through unchanged.
    pub const IDENTITY: SvfCoefs = SvfCoefs { a11: 0.0, a12: 0.0, a21: 0.0, a22: 0.0, b1: 0.0, b2: 0.0, d: 1.0, e1: 0.0, e2: 0.0 };

    /// One sample through the map: the output, and `st` moved on. (The EQ's wavefront does the
    /// same arithmetic in the same order.)
    #[inline(always)]
    pub fn tick(&self, st: &mut [f32; 2], x: f32) -> f32 {
        let [s1, s2] = *st;
        let y = self.d * x + (self.e1 * s1 + self.e2 * s2);
        *st = [self.b1 * x + (self.a11 * s1 + self.a12 * s2), self.b2 * x + (self.a21 * s1 + self.a22 * s2)];
        y
    }

    /// Simper's trapezoidal state-variable filter with g = tan(π·f/fs) and damping k, its output
    /// the mix m0·x + m1·v1 + m2·v2 of its input, band and low outputs, as its linear map:
    /// v1 = a1·s1 + a2·(x − s2), v2 = s2 + a2·s1 + a3·(x − s2), s1' = 2·v1 − s1, s2' = 2·v2 − s2
    /// with a1 = 1/(1 + g(g + k)), a2 = g·a1, a3 = g·a2. (The de-esser's band: m = [0, k, 0]; a
    /// bell: m = [1, k(A² − 1), 0].)
    pub fn simper(g: f32, k: f32, m: [f32; 3]) -> SvfCoefs {
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        let a3 = g * a2;
        let [m0, m1, m2] = m;
        SvfCoefs {
            a11: 2.0 * a1 - 1.0,
            a12: -2.0 * a2,
            a21: 2.0 * a2,
            a22: 1.0 - 2.0 * a3,
            b1: 2.0 * a2,
            b2: 2.0 * a3,
            d: m0 + m1 * a2 + m2 * a3,
            e1: m1 * a1 + m2 * a2,
            e2: -m1 * a2 + m2 * (1.0 - a3),
        }
    }

    pub fn from_biquad(h: &Biquad) -> SvfCoefs {
        if *h == Biquad::IDENTITY {
            return SvfCoefs::IDENTITY;
        }
        let [a1, a2] = h.a;
        let (plus, minus) = (1.0 + a1 + a2, 1.0 - a1 + a2);
        let g = (plus / minus).max(0.0).sqrt();
        let k = 2.0 * (1.0 - a2) / (minus * g);
        let [b0, b1, b2] = h.b;
        let m_lp = (b0 + b1 + b2) / plus;
        let m_hp = (b0 - b1 + b2) / minus;
        let m_bp = 2.0 * (b0 - b2) / (g * minus);
        // Simper's update: v1 = d1·s1 + d2·(x − s2), v2 = s2 + d2·s1 + d3·(x − s2),
        // s1' = 2·v1 − s1, s2' = 2·v2 − s2, y = m_hp·(x − k·v1 − v2) + m_bp·v1 + m_lp·v2.
        let d1 = 1.0 / (1.0 + g * (g + k));
        let (d2, d3) = (g * d1, g * g * d1);
        let (c1, c2) = (m_bp - m_hp * k, m_lp - m_hp);
        SvfCoefs {
            a11: (2.0 * d1 - 1.0) as f32,
            a12: (-2.0 * d2) as f32,
            a21: (2.0 * d2) as f32,
            a22: (1.0 - 2.0 * d3) as f32,
            b1: (2.0 * d2) as f32,
            b2: (2.0 * d3) as f32,
            d: (m_hp + c1 * d2 + c2 * d3) as f32,
            e1: (c1 * d1 + c2 * d2) as f32,
            e2: (c2 * (1.0 - d3) - c1 * d2) as f32,
        }
    }
}
