//! Signals and measurements shared by the integration tests.
#![allow(dead_code)]

/// A file of the test bundle: what `cargo xtask test` bundles (the debug build that aborts on an
/// allocation in `process()`) before it runs the system tests, which are `#[ignore]`d under plain
/// `cargo test`. `LIVECHAIN_BUNDLE_DIR` points elsewhere.
pub fn bundled(name: &str) -> std::path::PathBuf {
    let dir = std::env::var_os("LIVECHAIN_BUNDLE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-bundle"));
    let p = dir.join(name);
    assert!(p.exists(), "{} is missing: run `cargo xtask test`, which bundles it first", p.display());
    p
}

/// The runs `livechain latency` printed ("  run 1:   256.000 samples   5.333 ms"), in samples.
pub fn latency_runs(stdout: &str) -> Vec<f64> {
    stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("run "))
        .filter_map(|l| l.split(':').nth(1)?.split_whitespace().next()?.parse().ok())
        .collect()
}

/// Deterministic white noise in [-amp, amp] (xorshift32), so tests need no randomness crate.
pub fn noise(frames: usize, amp: f32, seed: u32) -> Vec<f32> {
    let mut s = seed.max(1);
    (0..frames).map(|_| (livechain::dsp::xorshift32(&mut s) as f32 / u32::MAX as f32 * 2.0 - 1.0) * amp).collect()
}

pub fn sine(frames: usize, freq: f32, sr: f32, amp: f32) -> Vec<f32> {
    (0..frames).map(|i| amp * (std::f32::consts::TAU * freq * i as f32 / sr).sin()).collect()
}

pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

pub fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

/// Reverberation time (to −60 dB) from an impulse response, all channels' energy summed:
/// Schroeder's backward-integrated energy decay curve, with a least-squares line through it from
/// −5 dB down to `to_db` (−35 for T30, −25 for T20), extrapolated to 60 dB.
pub fn schroeder_decay_time(channels: &[&[f32]], sr: f64, to_db: f64) -> f64 {
    let len = channels[0].len();
    let mut edc = vec![0.0f64; len];
    let mut acc = 0.0;
    for n in (0..len).rev() {
        acc += channels.iter().map(|c| (c[n] as f64).powi(2)).sum::<f64>();
        edc[n] = acc;
    }
    let total = edc[0];
    let db: Vec<f64> = edc.iter().map(|&e| 10.0 * (e / total).log10()).collect();
    let start = db.iter().position(|&d| d <= -5.0).unwrap();
    let end = db.iter().position(|&d| d <= to_db).expect("the IR is long enough for the fit");
    let n = (end - start) as f64;
    let (mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0);
    for i in start..end {
        let t = i as f64 / sr;
        sx += t;
        sy += db[i];
        sxx += t * t;
        sxy += t * db[i];
    }
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    -60.0 / slope
}

/// A small deterministic generator for block sizes and values.
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.next_u32() as usize % (hi - lo + 1)
    }
    pub fn unit(&mut self) -> f32 {
        self.next_u32() as f32 / u32::MAX as f32
    }
}
pub mod clap;
pub mod editor;
pub mod jack;
pub mod pipewire;
pub mod wine;
pub mod xvfb;
pub mod xwd;

/// Sets its flag when dropped: a test's loop on another thread (an audio thread running until
/// `done`) ends however the test's own thread leaves its scope. A panic there (an editor that
/// did not paint in time) would otherwise leave `std::thread::scope` waiting for that loop
/// forever, a failure turned into a hang.
pub struct StopOnDrop<'a>(pub &'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
