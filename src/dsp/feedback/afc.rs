//! An adaptive feedback canceller (the suppressor's mode "canceller"): it learns the path from
//! the plugin's output back to its input (the host's round trip, the speaker, the room, the
//! microphone) as an FIR filter and subtracts its estimate of what comes back from the input, so
//! the loop's gain falls at every frequency at once instead of at a few notched ones.
//!
//! A partitioned-block frequency-domain NLMS filter (overlap-save, 64-sample partitions, FFTs of
//! 128), the partitions covering lags from one block (64 samples) to `LENGTH_S`: the estimate for
//! a block needs only the output of the blocks before it, so the canceller adds no latency. The
//! step is normalised per frequency bin by the output's smoothed power; the gradient's
//! time-domain constraint (no wrap-around) is applied to one partition per block, round robin.
//! The closed loop makes the source and the output correlated, which biases a plain NLMS
//! estimate toward cancelling the source itself. Three things keep it off the source: the
//! prediction-error method (both signals whitened by a model of the source before they are
//! correlated), the suppressor's frequency shift (2 Hz, Schroeder's decorrelating shift), and
//! learning only while the loop threatens: the filter adapts for `URGENT_S` (8 s of input that is
//! not digitally silent) after the detector finds a howl building or has one in sight, however
//! quiet, growing fast (`urge`; `detect::SIGHT_DB`), or after its fast
//! guard finds that the path changed under it (below), and holds still otherwise. A filter that
//! adapted all the time learnt part of any source from its own past even with no loop at all
//! (its misadjustment cost 3 to 5 dB of spectral distortion on speech and vowels with the loop
//! open); one that learns only with a howl in sight learns the loop, which is then what
//! correlates most.
//!
//! Two guards keep a wrong estimate from doing harm: a stretch of `SHORT_S` it made 6 dB louder
//! than its input (the path changed under an estimate that holds still, so that the estimate makes
//! a loop of its own with the chain: the speaker turned down or off) urges it to learn again, and
//! while the cancelled input's energy over `LONG_S` is above the input's (an estimate that puts in
//! more than it takes out is no real path's) the filter shrinks by `SHRINK` per block. Neither acts while the input is under
//! −60 dBFS (`HUSHED`), and the filter does not adapt on a digitally silent one, nor on a hushed
//! one its estimate took nothing out of: a muted microphone must not wipe the learnt path. And
//! after a hushed block whose estimate was 6 dB louder than the block itself (a microphone
//! muted, to silence or to its preamp's noise, while the output still plays), the estimate is not
//! taken out until it is no louder than the input again: it is not in there, and taken out it
//! would go round the chain as a loop of its own. The same holds under a live input after three
//! blocks in a row whose estimate was more than 12 dB louder than it (the speaker switched off
//! under a loop the canceller held); after either, a live input takes the estimate back once it
//! is within 6 dB of it (no louder than a hushed one) and, after a stop of `GONE_S` or more,
//! the long-term guard finds it doing no harm.
//!
//! Mono: the estimate is of the channels' mean and is subtracted from every channel (a live
//! microphone on a stereo track carries the same signal on both).

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Samples per partition (and per adaptation step).
pub const B: usize = 64;
const N: usize = 2 * B;
const BINS: usize = B + 1;
/// The longest lag modelled, seconds: the round trip of a host and an interface plus the room's
/// first 100-odd ms.
pub const LENGTH_S: f32 = 0.16;
/// The normalised step size: the a-posteriori error of a block shrinks by about this share (the
/// per-partition step is this over the partition count). Chosen with `URGENT_S` in the
/// closed-loop bench (`cargo xtask howl --canceller --seeds`: 6 speech rows, 48 vowel rows):
/// 0.35 for 8 s after each howl met the goals (10 dB on speech, 8 on a vowel) in every row;
/// 0.25 or 0.3 left 3 to 5 vowel rows short, 0.5 ran away on speech (1.4 dB in a row). While
/// the filter adapted all the time it had to be 0.15 (0.2 moved held notes by up to 1 dB with
/// no loop at all).
const MU: f32 = 0.35;
/// The output power's smoothing per block.
const POWER_SMOOTH: f32 = 0.1;
/// The step's floor, as a share of the unwhitened output's mean bin power: low, so the filter
/// learns on a vowel or a held note, which the source model predicts almost wholly, nearly as
/// fast as on speech.
const FLOOR: f32 = 0.0003;
/// The fast guard compares the cancelled input's and the input's energies over this long (s):
/// long enough that the mere sum of source and feedback in the microphone, which cancel each
/// other for a moment now and then in a loop near its edge, is not taken for a wrong estimate.
/// (It halved the filter on a single 64-sample block once: in a loop held 6 dB over its
/// unsuppressed MSG that fired 130 to 200 times a minute, put the loop back at its edge each
/// time, and one held loop of six ran away; `cargo xtask howl --canceller`.)
const SHORT_S: f32 = 0.03;
/// The long-term guard's energies are compared over this long (s) ...
const LONG_S: f32 = 0.3;
/// ... and the filter shrinks by this share per block (at 48 kHz; the same rate in time at any
/// other) while the first is the larger.
const SHRINK: f32 = 0.01;
/// A block whose input's mean square is under this (−60 dB re full scale: a muted microphone's
/// preamp noise is under it) is not guarded, holds too little feedback for an estimate 6 dB
/// louder than it to be in it (the estimate is not taken out after such a block), and is not
/// learnt from if the estimate took nothing out of it (see `block`). (The guards' bound was
/// −80 dB until a mute to a −70 dBFS floor let the canceller ring on by itself and its guards
/// wipe the path.)
const HUSHED: f32 = 1e-6;
/// An estimate more than this many times a hushed block's energy (6 dB) is not in it.
const HUSHED_OVER: f32 = 4.0;
/// An input over `HUSHED` holds feedback, and an estimate a little louder than it may be right
/// (source and feedback cancel each other in the microphone now and then). But an estimate more
/// than 12 dB louder than the input (this factor, in energy) for `PHANTOM_BLOCKS` blocks in a
/// row is not in there: the path went away (the speaker switched off or unplugged, its channel
/// muted) and the estimate alone goes round the chain, a loop of its own (`block`). It is taken
/// out again once it is no more than 6 dB louder than the input (`PHANTOM_BACK`).
const PHANTOM: f32 = 16.0;
const PHANTOM_BLOCKS: usize = 3;
const PHANTOM_BACK: f32 = 4.0;
/// A stop that has lasted this long (s) is not a moment where source and feedback cancel in
/// the microphone but a path that went away: from then on the estimate is taken out again only
/// if the long-term guard also finds it doing no harm (`block`). (The guard alone, from a stop's
/// first block, kept stops going in loops held over their edge with the path still there: two
/// held loops of six ran away, `cargo xtask howl --canceller --seeds`; from 11 ms on, a vowel
/// row fell to 6.2 dB; from 21 ms on, no figure of the bench moved.)
const GONE_S: f32 = 0.04;
/// How long the filter learns after a howl was found or came in sight (s): a howl says the loop is near its
/// edge, and it stays there for a while (with the step at 0.35: 2 s left 4 of the bench's 48
/// vowel rows short of 8 dB, 3 and 4 s three, 5 s one, 8 and 12 s none).
const URGENT_S: f32 = 8.0;
/// The source model's order and the stretch of signal it is fitted to (samples).
pub const ORDER: usize = 20;
pub const FIT: usize = 1024;
/// The model is refitted every this many blocks (8 blocks: 10.7 ms at 48 kHz).
const REFIT_BLOCKS: usize = 8;
/// The history kept of the cancelled input and of the output.
const HIST: usize = FIT + ORDER + B;
/// The pitch predictor's lag range (samples at any rate: 48 kHz gives 80 to 400 Hz) and the
/// stretch of residual its correlation runs over.
const LAG_MIN: usize = 120;
const LAG_MAX: usize = 600;
const PITCH_FIT: usize = 512;
/// The short-term residual's history kept for the pitch predictor (its three taps reach one
/// sample past the longest lag).
const RHIST: usize = LAG_MAX + 1 + PITCH_FIT;

pub struct Canceller {
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    parts: usize,
    /// The output's block spectra, newest at `head`, `parts + 1` of them (the adaptation reaches
    /// one block further back than the estimate).
    xs: Vec<Complex32>,
    /// The same of the prewhitened output (what the adaptation correlates with).
    ws: Vec<Complex32>,
    /// The source model: the prediction-error filter a[0] = 1, a[1..=ORDER], refitted from the
    /// cancelled input every `REFIT_BLOCKS` blocks.
    a: [f32; ORDER + 1],
    /// The last `HIST` samples of the cancelled input and of the output, oldest first.
    e_hist: Vec<f32>,
    y_hist: Vec<f32>,
    /// The fit's Hann window, worked out once (in f64, so every platform's build has the same
    /// bits: Windows' `cosf` is not glibc's).
    fit_window: Vec<f32>,
    /// The prewhitened output's previous block.
    yw_prev: [f32; B],
    /// The short-term residuals (after `a`) of the cancelled input and of the output, and the
    /// pitch predictor on them: the lag and the gains of its three taps, at the lag less one,
    /// the lag and the lag plus one (all 0: none). Three taps follow a period that is not a
    /// whole number of samples, and one that glides (a vibrato), where one tap leaves the
    /// upper harmonics unpredicted.
    re_hist: Vec<f32>,
    ry_hist: Vec<f32>,
    lag: usize,
    beta: [f32; 3],
    blocks: usize,
    /// Blocks left of the urge, and how many one lasts.
    urgent: usize,
    urgent_blocks: usize,
    /// The current urge came from the fast guard (the path changed under the filter), not from
    /// a howl: `calm` leaves it.
    guard_urged: bool,
    /// Blocks in a row, up to the current one, whose estimate was more than `PHANTOM` times the
    /// input's energy (an input over `HUSHED`).
    phantom_run: usize,
    /// Blocks in a row, up to the current one, whose next block's estimate is not taken out;
    /// and that many blocks make `GONE_S`.
    stopped_run: usize,
    gone_blocks: usize,
    /// The path is to be forgotten at the current block's end (`forget`).
    forgetting: bool,
    /// The current block's input and cancelled-input energies.
    x_energy: f32,
    e_energy: f32,
    /// The input's and the cancelled input's block energies, smoothed over `LONG_S` and over
    /// `SHORT_S`.
    x_long: f32,
    e_long: f32,
    x_short: f32,
    e_short: f32,
    /// Their smoothings per block, and the filter's factor per block while the long-term guard
    /// holds.
    long_smooth: f32,
    short_smooth: f32,
    shrink: f32,
    /// The step size and its floor (`MU`, `FLOOR` unless `set_step` changed them).
    mu: f32,
    floor: f32,
    head: usize,
    /// The filter, partition after partition (partition k: lags k·B .. (k+1)·B, k = 1..=parts).
    w: Vec<Complex32>,
    power: [f32; BINS],
    /// The unwhitened output's mean bin power, smoothed like `power`.
    raw_power: f32,
    y_prev: [f32; B],
    y_cur: [f32; B],
    e_cur: [f32; B],
    /// The estimate of what comes back during the current block, and the share of it taken out
    /// of the input (`yhat`, what `cancel` subtracts): all of it unless the estimate has nothing
    /// to cancel (`block`).
    estimate: [f32; B],
    yhat: [f32; B],
    /// The estimate's energy (its sum of squares).
    estimate_energy: f32,
    /// The share taken out at the end of the current block (1 or 0; a block glides between), and
    /// whether all of the estimate is taken out over the whole block (`yhat` is `estimate`).
    taken: f32,
    whole: bool,
    /// Position in the current block.
    pos: usize,
    /// The partition whose gradient gets the constraint next.
    next_constrained: usize,
    time: Vec<f32>,
    spec: Vec<Complex32>,
    acc: Vec<Complex32>,
    scratch_f: Vec<Complex32>,
    scratch_i: Vec<Complex32>,
}

impl Default for Canceller {
    fn default() -> Self {
        Self::new(48_000.0)
    }
}

impl Canceller {
    /// Allocates everything for `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(N);
        let ifft = planner.plan_fft_inverse(N);
        let parts = ((LENGTH_S * sample_rate) / B as f32).ceil().max(1.0) as usize;
        let scratch_f = fft.make_scratch_vec();
        let scratch_i = ifft.make_scratch_vec();
        Self {
            fft,
            ifft,
            parts,
            xs: vec![Complex32::default(); (parts + 1) * BINS],
            ws: vec![Complex32::default(); (parts + 1) * BINS],
            a: unit_filter(),
            e_hist: vec![0.0; HIST],
            y_hist: vec![0.0; HIST],
            fit_window: fit_window(),
            yw_prev: [0.0; B],
            re_hist: vec![0.0; RHIST],
            ry_hist: vec![0.0; RHIST],
            lag: LAG_MIN,
            beta: [0.0; 3],
            blocks: 0,
            urgent: 0,
            guard_urged: false,
            urgent_blocks: (URGENT_S * sample_rate / B as f32) as usize,
            phantom_run: 0,
            stopped_run: 0,
            gone_blocks: (GONE_S * sample_rate / B as f32).ceil() as usize,
            forgetting: false,
            x_energy: 0.0,
            e_energy: 0.0,
            x_long: 0.0,
            e_long: 0.0,
            x_short: 0.0,
            e_short: 0.0,
            long_smooth: (B as f32 / (LONG_S * sample_rate)).min(1.0),
            short_smooth: (B as f32 / (SHORT_S * sample_rate)).min(1.0),
            // (Exactly 1 − SHRINK at 48 kHz; in f64 elsewhere, so every platform's build has the
            // same bits.)
            shrink: if sample_rate == 48_000.0 { 1.0 - SHRINK } else { (1.0 - SHRINK as f64).powf(48_000.0 / sample_rate as f64) as f32 },
            mu: MU,
            floor: FLOOR,
            head: 0,
            w: vec![Complex32::default(); parts * BINS],
            power: [0.0; BINS],
            raw_power: 0.0,
            y_prev: [0.0; B],
            y_cur: [0.0; B],
            e_cur: [0.0; B],
            estimate: [0.0; B],
            yhat: [0.0; B],
            estimate_energy: 0.0,
            taken: 1.0,
            whole: true,
            pos: 0,
            next_constrained: 0,
            time: vec![0.0; N],
            spec: vec![Complex32::default(); BINS],
            acc: vec![Complex32::default(); BINS],
            scratch_f,
            scratch_i,
        }
    }

    /// Everything as new: the learnt path too (switched on, or a filter that diverged).
    pub fn reset(&mut self) {
        self.w.fill(Complex32::default());
        self.power = [0.0; BINS];
        self.raw_power = 0.0;
        self.restart();
    }

    /// A discontinuity in the audio (the host's reset, the plugin activated again with nothing
    /// changed): everything the canceller holds of the signal goes (what it heard and played, the
    /// source model, the guards, the urge), but the path it learnt is the room's, and stays,
    /// with the output's power its step is normalised by (else the first steps of an urge would
    /// be up to ten times too long). A loop held over its edge by the canceller would run away
    /// while it learnt the path again.
    pub fn restart(&mut self) {
        // A filter that diverged is no path (its estimate is zeroed sample by sample, so nothing
        // else would find it): it starts empty.
        if !self.w.iter().all(|w| w.re.is_finite() && w.im.is_finite()) {
            self.reset();
            return;
        }
        self.xs.fill(Complex32::default());
        self.ws.fill(Complex32::default());
        self.a = unit_filter();
        self.e_hist.fill(0.0);
        self.y_hist.fill(0.0);
        self.yw_prev = [0.0; B];
        self.re_hist.fill(0.0);
        self.ry_hist.fill(0.0);
        self.lag = LAG_MIN;
        self.beta = [0.0; 3];
        self.blocks = 0;
        self.urgent = 0;
        self.guard_urged = false;
        // A "clear" still waiting for its block's end is not lost to the reset.
        if self.forgetting {
            self.w.fill(Complex32::default());
        }
        self.forgetting = false;
        self.x_energy = 0.0;
        self.e_energy = 0.0;
        self.clear_guards();
        self.y_prev = [0.0; B];
        self.y_cur = [0.0; B];
        self.e_cur = [0.0; B];
        self.estimate = [0.0; B];
        self.yhat = [0.0; B];
        self.estimate_energy = 0.0;
        self.taken = 1.0;
        self.whole = true;
        self.pos = 0;
        self.head = 0;
        self.next_constrained = 0;
    }

    /// A howl was found building, or came in sight (the suppressor's detector): the loop is near its edge, and the
    /// filter learns the path for the next `URGENT_S` of input (digital silence does not count).
    /// Without a howl in sight it holds still (its long-term guard still shrinks an estimate
    /// that does harm, and its fast guard urges it when the path changed under it), so music
    /// with no loop moves it not at all.
    pub fn urge(&mut self) {
        self.urgent = self.urgent_blocks;
        self.guard_urged = false;
    }

    /// The howl that last urged it was the source's own after all (its notch did not slow it):
    /// that urge ends, unless the fast guard urged it since (what it learnt meanwhile stays, as
    /// any learning does). The suppressor calls for this only when no other howl urged it since.
    pub fn calm(&mut self) {
        if !self.guard_urged {
            self.urgent = 0;
        }
    }

    /// Forgets the learnt path (the user's "clear"): at the current block's end the next block's
    /// estimate glides out over that block (no click, whatever the estimate was taking out), and
    /// the filter starts empty, as when switched on; the output's power its step is normalised
    /// by stays, and so does an urge to learn (a howl in sight is learnt from again).
    pub fn forget(&mut self) {
        self.forgetting = true;
    }

    /// Learns with another step size and floor than the canceller's (`MU`, `FLOOR`): for
    /// measuring what the estimator can learn (`howl::shadow`), not for the chain.
    pub fn set_step(&mut self, mu: f32, floor: f32) {
        self.mu = mu;
        self.floor = floor;
    }

    /// The learnt path as an impulse response (lag 0 first; the lags under one block are 0):
    /// for analysis off the audio thread (it allocates).
    pub fn path(&self) -> Vec<f32> {
        let mut ir = vec![0.0f32; (self.parts + 1) * B];
        let ifft = RealFftPlanner::<f32>::new().plan_fft_inverse(N);
        let mut time = vec![0.0f32; N];
        for k in 0..self.parts {
            let mut spec = self.w[k * BINS..(k + 1) * BINS].to_vec();
            spec[0].im = 0.0;
            spec[BINS - 1].im = 0.0;
            let _ = ifft.process(&mut spec, &mut time);
            for (d, t) in ir[(k + 1) * B..(k + 2) * B].iter_mut().zip(&time[..B]) {
                *d = t / N as f32;
            }
        }
        ir
    }

    /// Samples left in the current block: a caller's chunk must not run past it (the next
    /// block's estimate needs this block's output).
    pub fn room(&self) -> usize {
        B - self.pos
    }

    /// The input sample `i` samples into the current block, the estimated feedback taken out
    /// (the error the filter adapts on is the channels' mean of these).
    #[inline]
    pub fn cancel(&self, i: usize, x: f32) -> f32 {
        x - self.yhat[(self.pos + i).min(B - 1)]
    }

    /// Hands over what the chain did with the next `e.len()` samples: `x` the input and `e` the
    /// input after cancelling (channels' means), `y` the output (channels' mean). At a block's
    /// end the filter adapts and estimates the next block.
    pub fn feed(&mut self, x: &[f32], e: &[f32], y: &[f32]) {
        for ((&x, &e), &y) in x.iter().zip(e).zip(y) {
            // What the whole estimate would have left (the filter adapts on it, and the guards
            // judge it), where the chain took out less.
            let e = if self.whole { e } else { x - self.estimate[self.pos] };
            self.x_energy += x * x;
            self.e_energy += e * e;
            self.e_cur[self.pos] = e;
            self.y_cur[self.pos] = y;
            self.pos += 1;
            if self.pos == B {
                self.pos = 0;
                self.block();
            }
        }
    }

    fn forward(&mut self) {
        // (Lengths are fixed at construction: the transform cannot fail.)
        let _ = self.fft.process_with_scratch(&mut self.time, &mut self.spec, &mut self.scratch_f);
    }

    fn inverse(&mut self) {
        let _ = self.ifft.process_with_scratch(&mut self.spec, &mut self.time, &mut self.scratch_i);
    }

    /// The output block's spectrum into the ring, the adaptation on the error block, the next
    /// block's estimate.
    fn block(&mut self) {
        // Silence says nothing of the path (a muted microphone, a pause between takes): the
        // estimate's own tail, taken out of a silent input for up to `LENGTH_S`, looked like
        // harm, and the guards wiped the path. Under `HUSHED` they do not act; on digital silence
        // (a muted channel) the filter does not adapt either, and the learnt path waits for
        // sound. (A room's decaying tail in a pause, the clearest view of the path there is, is
        // still learnt from: an experiment that froze the filter in every block under −80 dB
        // took a bench row from 10.7 to 9.2 dB. Only hushed blocks the estimate took nothing out
        // of are not learnt from, below.)
        let silent = self.x_energy == 0.0;
        // An input under −60 dBFS (`HUSHED`) holds at most as much feedback as it holds at all.
        // An estimate louder than that (6 dB over it) is of a path that is not there now: the
        // microphone muted (to digital silence or its preamp's noise) or the speaker gone while
        // the output still plays. Taken out, it would be all the chain gets; it goes out and
        // comes back through the estimate, a loop of the filter's own, over unity wherever the
        // loop it learnt was (a muted microphone made the chain howl, 70 dB over its source
        // within a second). So after a hushed block whose own estimate was 6 dB louder than it,
        // the next block's estimate is not taken out, and none is again until the next block's
        // is no louder than the last input, or within `PHANTOM_BACK` of a live one (below: an
        // echo of the output may make it jump, and
        // the lower bound to start again keeps it from switching on and off every few blocks on
        // a noise floor). (The next block's alone is not the test while it is taken out: output
        // that grows loud after a hushed input sends back feedback that is there.) And a hushed
        // block the estimate took nothing out of (the cancelled input as loud as the input or
        // louder) is not learnt from: learning there would unlearn the path, which is kept for
        // when sound is back.
        let x_energy = self.x_energy;
        let hushed = self.x_energy <= HUSHED * B as f32;
        // The same for a path that went away under a live input (the speaker switched off while
        // the canceller held a loop over its edge): the estimate's own loop then grows like a
        // howl, and the guards, which judge smoothed energies and unlearn the path over half a
        // second or more, let it reach 22 to 29 dB over the source in the bench's rooms, or run
        // away (`cargo xtask howl --switched-off`). So an estimate more than `PHANTOM`
        // times the input's energy for `PHANTOM_BLOCKS` blocks in a row (rarely so while the path
        // is there: one block's can be, where source and feedback cancel in the microphone) is
        // not taken out either, until the next block's is within `PHANTOM_BACK` of the last
        // input. The path is not unlearnt by this: the guards see the whole estimate and act as
        // before.
        self.phantom_run = if !hushed && self.estimate_energy > PHANTOM * x_energy { self.phantom_run.saturating_add(1) } else { 0 };
        let own_louder = if hushed { self.estimate_energy > HUSHED_OVER * x_energy } else { self.phantom_run >= PHANTOM_BLOCKS };
        let misfit = hushed && self.e_energy > x_energy;
        // Hushed blocks leave the guards' energies alone: with the microphone muted or gated the
        // estimate of what the still playing output sends back is all there is in the cancelled
        // input, and the first block with sound again looked like a path gone wrong (the
        // long-term guard shrank the filter for a second after a mute, losing most of the path).
        if !hushed {
            // The fast guard: 30 ms the canceller made 6 dB louder than what came in mean its
            // estimate no longer fits the path (turned down or gone, it makes a loop of its own
            // through the chain): it learns again, as after a howl. (In the closed loop the
            // input is (1 + F̂·G) times the cancelled input, G the chain's gain, whatever the
            // true path does: what this sees is the estimate's own loop, not a microphone that
            // moved, which shows only as a howl building; docs/benchmarks.md.) Cutting the
            // filter instead (by half, on one block) put a loop held well over its unsuppressed
            // MSG back at its edge.
            self.x_short += (self.x_energy - self.x_short) * self.short_smooth;
            self.e_short += (self.e_energy - self.e_short) * self.short_smooth;
            if self.e_short > 4.0 * self.x_short + 1e-9 {
                self.urgent = self.urgent_blocks;
                self.guard_urged = true;
            }
            // The softer guard: over `LONG_S`, an estimate that takes out less than it puts in
            // (the cancelled input louder than the input) is no path's: it shrinks until it is
            // not.
            self.x_long += (self.x_energy - self.x_long) * self.long_smooth;
            self.e_long += (self.e_energy - self.e_long) * self.long_smooth;
            if self.long_harm() {
                for w in &mut self.w {
                    *w *= self.shrink;
                }
            }
        }
        self.x_energy = 0.0;
        self.e_energy = 0.0;
        // X_j = FFT([y_{j-1}, y_j]).
        self.time[..B].copy_from_slice(&self.y_prev);
        self.time[B..].copy_from_slice(&self.y_cur);
        self.y_prev = self.y_cur;
        self.forward();
        let ring = self.parts + 1;
        self.head = (self.head + 1) % ring;
        let at = self.head * BINS;
        self.xs[at..at + BINS].copy_from_slice(&self.spec);
        let raw = self.spec.iter().map(|x| x.norm_sqr()).sum::<f32>() / BINS as f32;
        self.raw_power += (raw - self.raw_power) * POWER_SMOOTH;
        // The prediction-error method: the output and the cancelled input go through the
        // source's prediction-error filter before they are correlated, so what the source
        // itself makes predictable (a held note, a vowel) does not steer the filter.
        self.e_hist.copy_within(B.., 0);
        self.e_hist[HIST - B..].copy_from_slice(&self.e_cur);
        self.y_hist.copy_within(B.., 0);
        self.y_hist[HIST - B..].copy_from_slice(&self.y_cur);
        let (mut ew, mut yw) = ([0.0f32; B], [0.0f32; B]);
        for i in 0..B {
            let t = HIST - B + i;
            for (j, &c) in self.a.iter().enumerate() {
                ew[i] += c * self.e_hist[t - j];
                yw[i] += c * self.y_hist[t - j];
            }
        }
        // Then the pitch predictor: a vowel's or a note's periodicity is predictable too.
        self.re_hist.copy_within(B.., 0);
        self.re_hist[RHIST - B..].copy_from_slice(&ew);
        self.ry_hist.copy_within(B.., 0);
        self.ry_hist[RHIST - B..].copy_from_slice(&yw);
        for i in 0..B {
            let t = RHIST - B + i;
            for (k, &b) in self.beta.iter().enumerate() {
                ew[i] -= b * self.re_hist[t + 1 - self.lag - k];
                yw[i] -= b * self.ry_hist[t + 1 - self.lag - k];
            }
        }
        self.time[..B].copy_from_slice(&self.yw_prev);
        self.time[B..].copy_from_slice(&yw);
        self.yw_prev = yw;
        self.forward();
        self.ws[at..at + BINS].copy_from_slice(&self.spec);
        for (p, x) in self.power.iter_mut().zip(&self.spec) {
            *p += (x.norm_sqr() - *p) * POWER_SMOOTH;
        }

        // The filter learns only while urged, and not from digital silence or a hushed input its
        // estimate does not fit, which use up none of the urge either: a microphone muted at a
        // howl (to silence, or to its noise floor) leaves the learning for when it is back, and
        // the path learnt is not unlearnt from the mute.
        let muted = silent || misfit;
        let learning = self.urgent > 0 && !muted;
        if !muted {
            self.urgent = self.urgent.saturating_sub(1);
        }
        if learning {
            // E = FFT([0, e_j]) of the prewhitened error; the block's estimate came from
            // X_{j-1} .. X_{j-parts}.
            self.time[..B].fill(0.0);
            self.time[B..].copy_from_slice(&ew);
            self.forward();
            // The step's floor follows the output before whitening: where the source model
            // predicts nearly all of it (a whistle, a held tone), what is left is too little to
            // learn from, and the filter barely moves rather than chasing it at full step.
            let floor = self.floor * self.raw_power + 1e-10;
            let mu = self.mu / self.parts as f32;
            for (s, p) in self.spec.iter_mut().zip(&self.power) {
                *s *= mu / (p + floor);
            }
            for k in 0..self.parts {
                // Partition k + 1 saw X_{j-1-k}.
                let x = ((self.head + 2 * ring - 1 - k) % ring) * BINS;
                let w = k * BINS;
                // (Slices zipped: no bounds check per bin, the same arithmetic bin by bin.)
                for ((w, x), s) in self.w[w..w + BINS].iter_mut().zip(&self.ws[x..x + BINS]).zip(&self.spec[..BINS]) {
                    *w += x.conj() * *s;
                }
            }
        }
        if !silent {
            // One partition kept to a linear correlation, round robin: its taps' second half
            // zeroed. (It goes on while the filter holds still: a learning spell ends with
            // partitions that took gradients since their last turn, and leaving those
            // half-constrained cost up to 5 dB of stable gain on the bench's vowels.)
            let w = self.next_constrained * BINS;
            self.spec.copy_from_slice(&self.w[w..w + BINS]);
            self.spec[0].im = 0.0;
            self.spec[BINS - 1].im = 0.0;
            self.inverse();
            self.time[B..].fill(0.0);
            for t in &mut self.time[..B] {
                *t *= 1.0 / N as f32;
            }
            self.forward();
            self.w[w..w + BINS].copy_from_slice(&self.spec);
        }
        self.next_constrained = (self.next_constrained + 1) % self.parts;

        // Next block: Σ_k W_{k+1} · X_{j-k}, its last B samples.
        self.acc.fill(Complex32::default());
        for k in 0..self.parts {
            let x = ((self.head + ring - k) % ring) * BINS;
            let w = k * BINS;
            for ((a, w), x) in self.acc[..BINS].iter_mut().zip(&self.w[w..w + BINS]).zip(&self.xs[x..x + BINS]) {
                *a += *w * *x;
            }
        }
        self.spec.copy_from_slice(&self.acc);
        self.spec[0].im = 0.0;
        self.spec[BINS - 1].im = 0.0;
        self.inverse();
        for (h, t) in self.estimate.iter_mut().zip(&self.time[B..]) {
            let v = t * (1.0 / N as f32);
            // A diverged filter must not poison the chain: its estimate is bounded like input.
            *h = if v.is_finite() { v.clamp(-crate::dsp::INPUT_LIMIT, crate::dsp::INPUT_LIMIT) } else { 0.0 };
        }
        if !self.estimate.iter().all(|v| v.abs() < crate::dsp::INPUT_LIMIT) {
            self.reset();
        } else {
            self.estimate_energy = self.estimate.iter().map(|v| v * v).sum::<f32>();
            // (Under a live input, within `PHANTOM_BACK`, after either rule stopped it: else
            // speech's pauses, hushed, stopped it and its next syllable let it in again at once.
            // And after a stop of `GONE_S` or more, not while the long-term guard finds it doing
            // harm (in a hushed block, by its energies as the last live block left them): an
            // estimate of a path that went away, let in again because it happened to be within
            // 6 dB of the input, went round the chain once more before it was stopped again,
            // and a quiet vowel came out 12 dB over itself 1.2 s after a switch-off; and speech's
            // pauses, hushed, let it in again at each next syllable.)
            let gone = self.long_harm() && self.stopped_run >= self.gone_blocks;
            let next_louder = gone || if hushed { self.estimate_energy > x_energy } else { self.estimate_energy > PHANTOM_BACK * x_energy };
            let stop = own_louder || (self.taken == 0.0 && next_louder);
            // (The share taken out at the current block's end, where a forget's glide starts.)
            let now = self.taken;
            self.take(if stop { 0.0 } else { 1.0 });
            self.stopped_run = if stop { self.stopped_run.saturating_add(1) } else { 0 };
            if self.forgetting {
                self.forgetting = false;
                self.fade_out(if stop { 0.0 } else { now });
            }
        }
        self.blocks += 1;
        if self.blocks.is_multiple_of(REFIT_BLOCKS) {
            self.refit();
        }
    }

    /// The next block's share of the estimate to take out: `to`. Taking out again glides in
    /// over the block (linearly: no click); stopping is at once, as the estimate it stops for
    /// may have jumped far over the input (an echo of the output arriving), and a glide would
    /// take most of it out in the block's first samples. (Stopping at once is what a mute does
    /// to the feedback itself.)
    fn take(&mut self, to: f32) {
        let from = if to < self.taken { to } else { self.taken };
        self.whole = from == 1.0 && to == 1.0;
        if self.whole {
            self.yhat = self.estimate;
        } else {
            for (i, (h, &v)) in self.yhat.iter_mut().zip(&self.estimate).enumerate() {
                *h = v * (from + (to - from) * (i + 1) as f32 / B as f32);
            }
        }
        self.taken = to;
    }

    /// `forget`: what the next block takes out glides from `from`, the share the current block
    /// ends on (none where the next is stopped anyway), to nothing (and is what
    /// the guards and the learning judge there), and the filter, the guards' energies and the
    /// stops' counts start again from nothing.
    fn fade_out(&mut self, from: f32) {
        for (i, (h, &v)) in self.yhat.iter_mut().zip(&self.estimate).enumerate() {
            *h = v * from * (1.0 - (i + 1) as f32 / B as f32);
        }
        // (What the guards and the learning judge in that block is what is taken out.)
        self.estimate = self.yhat;
        self.estimate_energy = self.estimate.iter().map(|v| v * v).sum::<f32>();
        self.taken = 0.0;
        self.whole = false;
        self.w.fill(Complex32::default());
        self.clear_guards();
    }

    /// The long-term guard finds the estimate doing harm: over `LONG_S` the cancelled input is
    /// louder than the input (its energies as the last live block left them).
    fn long_harm(&self) -> bool {
        self.e_long > self.x_long + 1e-12
    }

    /// The guards' smoothed energies and the stops' counts, from nothing.
    fn clear_guards(&mut self) {
        self.x_short = 0.0;
        self.e_short = 0.0;
        self.x_long = 0.0;
        self.e_long = 0.0;
        self.phantom_run = 0;
        self.stopped_run = 0;
    }

    /// Fits the source model to the last `FIT` samples of the cancelled input (`source_model`),
    /// then the pitch predictor.
    fn refit(&mut self) {
        match source_model(&self.e_hist[HIST - FIT..], &self.fit_window) {
            Some(a) => self.a = a,
            None => {
                self.a = unit_filter();
                return;
            }
        }
        self.refit_pitch();
    }

    /// The lag (`LAG_MIN..LAG_MAX`) at which the short-term residual of the cancelled input best
    /// predicts itself (one tap's normalised correlation; none when it is under 0.3), then the
    /// three taps around it that predict it best (least squares; one tap if the three are
    /// ill-conditioned or predict no better).
    fn refit_pitch(&mut self) {
        let r = &self.re_hist;
        let at = RHIST - PITCH_FIT;
        let now = &r[at..];
        let past = |lag: usize| &r[at - lag..RHIST - lag];
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum::<f64>();
        let e0: f32 = now.iter().map(|v| v * v).sum();
        let (mut best, mut best_lag, mut best_cross, mut best_e) = (0.0f32, LAG_MIN, 0.0f32, 0.0f32);
        // `LANES` lags at a time: each lag's sums run in the same order as one lag alone would
        // (the same bits), but the lanes are independent, so they go side by side instead of
        // waiting on one running sum (the search was most of the canceller's time, all of it in
        // the one block in `REFIT_BLOCKS` that refits).
        const LANES: usize = 8;
        let mut lag0 = LAG_MIN;
        while lag0 <= LAG_MAX {
            let lanes = (LAG_MAX + 1 - lag0).min(LANES);
            let (mut cross, mut e1) = ([0.0f32; LANES], [0.0f32; LANES]);
            if lanes == LANES {
                // past(lag0 + j)[i] = r[at - lag0 - j + i]: the lanes read one stretch backwards.
                let base = at - lag0 - (LANES - 1);
                for (b, &a) in r[base..base + PITCH_FIT + LANES - 1].windows(LANES).zip(now) {
                    for j in 0..LANES {
                        let v = b[LANES - 1 - j];
                        cross[j] += a * v;
                        e1[j] += v * v;
                    }
                }
            } else {
                for j in 0..lanes {
                    for (a, b) in now.iter().zip(past(lag0 + j)) {
                        cross[j] += a * b;
                        e1[j] += b * b;
                    }
                }
            }
            for j in 0..lanes {
                let (cross, e1) = (cross[j], e1[j]);
                let score = if cross > 0.0 { cross * cross / (e1 * e0 + 1e-20) } else { 0.0 };
                if score > best {
                    (best, best_lag, best_cross, best_e) = (score, lag0 + j, cross, e1);
                }
            }
            lag0 += lanes;
        }
        self.beta = [0.0; 3];
        if best <= 0.09 || best_e <= 0.0 {
            return;
        }
        self.lag = best_lag;
        let one = (best_cross / best_e).clamp(0.0, 1.0);
        // The three taps: the normal equations R·b = c over lags best_lag - 1, best_lag,
        // best_lag + 1 (in f64, so every platform's build has the same bits).
        let lags = [best_lag - 1, best_lag, best_lag + 1];
        let mut m = [[0.0f64; 4]; 3];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] = dot(past(lags[i]), past(lags[j]));
            }
            m[i][3] = dot(now, past(lags[i]));
        }
        let c = [m[0][3], m[1][3], m[2][3]];
        let taps = solve3(m);
        // What each predicts of `now`'s energy: one tap c·b = cross²/e1, three taps c·b.
        let gain_one = (best_cross as f64) * (one as f64);
        match taps {
            Some(b) if b.iter().all(|v| v.abs() <= 2.0) && c.iter().zip(&b).map(|(c, b)| c * b).sum::<f64>() > gain_one => {
                self.beta = [b[0] as f32, b[1] as f32, b[2] as f32];
            }
            _ => self.beta = [0.0, one, 0.0],
        }
    }
}

/// Solves the 3×3 system in `m` (its fourth column the right-hand side) by Gaussian elimination
/// with partial pivoting; None when it is (nearly) singular.
fn solve3(mut m: [[f64; 4]; 3]) -> Option<[f64; 3]> {
    let scale = m[0][0].abs().max(m[1][1].abs()).max(m[2][2].abs());
    if scale <= 0.0 {
        return None;
    }
    for col in 0..3 {
        let piv = (col..3).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[piv][col].abs() <= 1e-9 * scale {
            return None;
        }
        m.swap(col, piv);
        for row in col + 1..3 {
            let f = m[row][col] / m[col][col];
            for k in col..4 {
                m[row][k] -= f * m[col][k];
            }
        }
    }
    let mut b = [0.0f64; 3];
    for row in (0..3).rev() {
        let acc: f64 = (row + 1..3).map(|k| m[row][k] * b[k]).sum();
        b[row] = (m[row][3] - acc) / m[row][row];
    }
    Some(b)
}

/// The source model's Hann window over `FIT` samples (worked out in f64, so every platform's
/// build has the same bits: Windows' `cosf` is not glibc's).
pub fn fit_window() -> Vec<f32> {
    (0..FIT).map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * (i as f64 + 0.5) / FIT as f64).cos()) as f32).collect()
}

/// The prediction-error filter (a[0] = 1, then `ORDER` taps) of the `FIT` samples `x` through
/// `window` (`fit_window`): autocorrelation method, Levinson-Durbin, a −40 dB noise floor to keep
/// it well-conditioned. None when `x` is all but silent.
pub fn source_model(x: &[f32], window: &[f32]) -> Option<[f32; ORDER + 1]> {
    let mut r = [0.0f64; ORDER + 1];
    let w = |i: usize| window[i];
    for (lag, r) in r.iter_mut().enumerate() {
        let mut acc = 0.0f64;
        for i in lag..FIT {
            acc += (x[i] * w(i) * x[i - lag] * w(i - lag)) as f64;
        }
        *r = acc;
    }
    if r[0] <= 1e-12 {
        return None;
    }
    r[0] *= 1.0 + 1e-4;
    let mut a = [0.0f64; ORDER + 1];
    a[0] = 1.0;
    let mut err = r[0];
    for m in 1..=ORDER {
        let acc: f64 = (0..m).map(|j| a[j] * r[m - j]).sum();
        let k = -acc / err;
        let prev = a;
        for j in 1..m {
            a[j] = prev[j] + k * prev[m - j];
        }
        a[m] = k;
        err *= 1.0 - k * k;
        if err <= 0.0 {
            break;
        }
    }
    let mut out = [0.0f32; ORDER + 1];
    for (d, s) in out.iter_mut().zip(&a) {
        *d = *s as f32;
    }
    Some(out)
}

/// The prediction-error filter of a white source: passes everything.
pub fn unit_filter() -> [f32; ORDER + 1] {
    let mut a = [0.0; ORDER + 1];
    a[0] = 1.0;
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::xorshift32;

    const FS: f32 = 48_000.0;
    /// The known path the tests learn: 300 samples of delay and two echoes (delay, gain).
    const PATH: [(usize, f32); 3] = [(300, 0.5), (900, -0.3), (2_000, 0.2)];

    /// White noise of peak `a`.
    fn white(st: &mut u32, a: f32) -> f32 {
        (xorshift32(st) as i32) as f32 / 2_147_483_648.0 * a
    }

    /// What comes back at sample `t` of the output `y` through `path`, scaled by `k`.
    fn heard(path: &[(usize, f32)], k: f32, y: &[f32], t: usize) -> f32 {
        path.iter().map(|&(d, g)| if t >= d { k * g * y[t - d] } else { 0.0 }).sum()
    }

    /// White noise at 0.3 of full scale as the output (silent over `quiet`) and the input it
    /// makes through a known path (300 samples of delay and two echoes), through a fresh
    /// canceller urged (as by a howl found) at every block within `urged`: the input and what
    /// the canceller left of it.
    fn through_a_known_path(n: usize, quiet: std::ops::Range<usize>, urged: std::ops::Range<usize>) -> (Vec<f32>, Vec<f32>) {
        let mut st = 0x1234_5678u32;
        let y: Vec<f32> = (0..n).map(|t| if quiet.contains(&t) { 0.0 } else { white(&mut st, 0.3) }).collect();
        let x: Vec<f32> = (0..n).map(|t| heard(&PATH, 1.0, &y, t)).collect();
        let e = open_loop(&x, &y, urged, |_, _| {});
        (x, e)
    }

    /// The input `x` through a fresh canceller with the output `y` (the loop open: `y` does not
    /// depend on what it leaves), urged at every block that starts within `urged`; `each` sees
    /// the canceller and the samples done after every block. Returns what it left of `x`.
    fn open_loop(x: &[f32], y: &[f32], urged: std::ops::Range<usize>, mut each: impl FnMut(usize, &mut Canceller)) -> Vec<f32> {
        let mut c = Canceller::new(FS);
        let n = x.len();
        let mut e = vec![0.0f32; n];
        let mut t = 0;
        while t < n {
            let m = c.room().min(n - t);
            if urged.contains(&t) {
                c.urge();
            }
            for i in 0..m {
                e[t + i] = c.cancel(i, x[t + i]);
            }
            c.feed(&x[t..t + m], &e[t..t + m], &y[t..t + m]);
            t += m;
            each(t, &mut c);
        }
        e
    }

    /// What is left of `x` in `e` over `span` (dB).
    fn residual_db(x: &[f32], e: &[f32], span: std::ops::Range<usize>) -> f64 {
        let pow = |s: &[f32]| s.iter().map(|v| (v * v) as f64).sum::<f64>() / s.len() as f64;
        10.0 * (pow(&e[span.clone()]) / pow(&x[span])).log10()
    }

    /// The canceller, urged, learns a known path: what is left of the input falls more than
    /// 30 dB under it within 11 s. The urging over (it learns on for `URGENT_S` after the last
    /// urge), it holds what it learnt: 5 s after it stopped learning the path is cancelled as
    /// well as when it stopped (within 1 dB).
    #[test]
    fn it_learns_a_known_path_while_urged_and_keeps_it() {
        let urged = (12.0 * FS) as usize;
        let stopped = urged + (URGENT_S * FS) as usize;
        let n = stopped + (6.0 * FS) as usize;
        let (x, e) = through_a_known_path(n, 0..0, 0..urged);
        let early = residual_db(&x, &e, urged - FS as usize..urged);
        let learnt = residual_db(&x, &e, stopped - FS as usize..stopped);
        let kept = residual_db(&x, &e, n - FS as usize..n);
        println!("residual after 11 s: {early:.1} dB, when learning stopped: {learnt:.1} dB, 5 s later: {kept:.1} dB");
        assert!(early < -30.0, "residual {early:.1} dB after 11 s");
        assert!((kept - learnt).abs() < 1.0, "residual {kept:.1} dB 5 s after learning stopped (was {learnt:.1} dB)");
    }

    /// Never urged (no howl found or in sight: no loop), the filter holds still: the input passes
    /// exactly as it came, however long the output and the input are correlated.
    #[test]
    fn without_an_urge_it_learns_nothing() {
        let n = (12.0 * FS) as usize;
        let (x, e) = through_a_known_path(n, 0..0, 0..0);
        assert!(x.iter().zip(&e).all(|(a, b)| a == b), "the canceller moved without an urge");
        // Urged for its last 4 s, it learns (the same path, the same signals).
        let (x, e) = through_a_known_path(n, 0..0, n - (4.0 * FS) as usize..n);
        let db = residual_db(&x, &e, n - FS as usize..n);
        println!("residual after a 4 s urge: {db:.1} dB");
        assert!(db < -10.0, "residual {db:.1} dB after a 4 s urge");
    }

    /// A silence (a muted microphone) leaves the learnt path alone: with the input silent the
    /// estimate's own tail makes the cancelled input louder than the input for up to 160 ms,
    /// which the guards had taken for harm (the path was wiped: −0.6 dB after the silence). After
    /// 2 s of silence the path is cancelled at once again.
    #[test]
    fn a_silence_leaves_the_learnt_path_alone() {
        let (learn, quiet, after) = ((12.0 * FS) as usize, (2.0 * FS) as usize, (0.2 * FS) as usize);
        let n = learn + quiet + after;
        let (x, e) = through_a_known_path(n, learn..learn + quiet, 0..n);
        // From 50 ms after the sound is back (the path's longest lag is 42 ms).
        let db = residual_db(&x, &e, learn + quiet + (0.05 * FS) as usize..n);
        println!("residual 50-200 ms after 2 s of silence: {db:.1} dB");
        assert!(db < -30.0, "residual {db:.1} dB: the silence undid the learnt path");
    }

    /// A host's reset (`restart`: a discontinuity in the audio) keeps the learnt path, and a full
    /// `reset` (switched on again) does not. The path learnt for 12 s, then the canceller
    /// restarted, not urged again: 50 to 300 ms later (the path's longest lag is 42 ms, what it
    /// needs of the output again) what is left of the input is more than 30 dB under it; reset
    /// instead, the input passes as it came (within 0.1 dB).
    #[test]
    fn a_restart_keeps_the_learnt_path_and_a_reset_does_not() {
        let mut st = 0x0bad_cafeu32;
        let learn = (12.0 * FS) as usize;
        let n = learn + (0.3 * FS) as usize;
        let y: Vec<f32> = (0..n).map(|_| white(&mut st, 0.3)).collect();
        let x: Vec<f32> = (0..n).map(|t| heard(&PATH, 1.0, &y, t)).collect();
        let after = learn + (0.05 * FS) as usize..n;
        assert!(learn.is_multiple_of(B), "the restart must fall between blocks");
        let restarted = open_loop(&x, &y, 0..learn, |t, c| {
            if t == learn {
                c.restart();
            }
        });
        let reset = open_loop(&x, &y, 0..learn, |t, c| {
            if t == learn {
                c.reset();
            }
        });
        let (kept, lost) = (residual_db(&x, &restarted, after.clone()), residual_db(&x, &reset, after));
        println!("residual 50-300 ms after a restart: {kept:.1} dB, after a reset: {lost:.1} dB");
        assert!(kept < -30.0, "residual {kept:.1} dB after a restart: the path was lost");
        assert!(lost.abs() < 0.1, "residual {lost:.1} dB after a reset: it kept something");
        // A diverged filter is not kept.
        let mut c = Canceller::new(FS);
        c.w[5] = Complex32::new(f32::NAN, 0.0);
        c.restart();
        assert!(c.w.iter().all(|w| *w == Complex32::default()), "a diverged filter survived a restart");
    }

    /// A microphone muted after the canceller learnt a loop over unity (the known path made
    /// twice as loud), the chain passing on what it leaves (the output is the cancelled input):
    /// the estimate has nothing to cancel, and taken out it would be a loop of the filter's own
    /// (the chain howled, 70 dB over its source within a second). Muted to digital silence, the
    /// output is silent after the first blocks (the test allows three); muted to a −90 or
    /// −70 dBFS noise floor (a muted microphone's preamp), it stays within 6 dB of the floor.
    /// Either way the path is kept: with the sound back through the path, what is left of it 50
    /// to 200 ms later is more than 30 dB under it.
    #[test]
    fn a_muted_microphone_does_not_make_the_estimate_a_loop_of_its_own() {
        for floor in [0.0f32, 10f32.powf(-90.0 / 20.0) * 3f32.sqrt(), 10f32.powf(-70.0 / 20.0) * 3f32.sqrt()] {
            let mut c = Canceller::new(FS);
            let mut st = 0x1357_9bdfu32;
            let (muted, back) = ((12.0 * FS) as usize, (14.0 * FS) as usize);
            let n = back + (0.2 * FS) as usize;
            let (mut x, mut y, mut e) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
            let mut t = 0;
            while t < n {
                let m = c.room().min(n - t);
                if t < muted {
                    c.urge();
                }
                for i in 0..m {
                    let k = t + i;
                    if (muted..back).contains(&k) {
                        x[k] = white(&mut st, floor);
                    } else {
                        y[k] = white(&mut st, 0.3);
                        x[k] = heard(&PATH, 2.0, &y, k);
                    }
                    e[k] = c.cancel(i, x[k]);
                    if (muted..back).contains(&k) {
                        y[k] = e[k];
                    }
                }
                c.feed(&x[t..t + m], &e[t..t + m], &y[t..t + m]);
                t += m;
            }
            let pow = |s: &[f32]| s.iter().map(|v| (v * v) as f64).sum::<f64>() / s.len() as f64;
            let after = muted + 3 * B;
            if floor == 0.0 {
                let loudest = e[after..back].iter().fold(0.0f32, |a, v| a.max(v.abs()));
                assert!(loudest == 0.0, "muted to silence: the output reached {loudest}");
            } else {
                let over_db = 10.0 * (pow(&e[after..back]) / pow(&x[after..back])).log10();
                println!("muted to a floor of {floor}: the output {over_db:+.1} dB over it");
                assert!(over_db < 6.0, "muted to a floor of {floor}: the output {over_db:+.1} dB over it");
            }
            let db = residual_db(&x, &e, back + (0.05 * FS) as usize..n);
            println!("floor {floor}: residual 50-200 ms after the mute: {db:.1} dB");
            assert!(db < -30.0, "floor {floor}: residual {db:.1} dB after the mute: the path was lost");
        }
    }

    /// The path goes away while the filter holds still (the speaker turned down after the
    /// canceller learnt a loop whose gain is over unity at places): its estimate alone is then a
    /// loop through the chain, growing 6 dB every 300 samples. Learnt with the known path made
    /// twice as loud, the urge over, then the loop closed (the output is the cancelled input)
    /// with nothing coming back but a noise source: the fast guard urges the filter to learn
    /// again (nothing else would while no howl is in sight), what the estimate adds to the source
    /// is 10 dB under it within half a second, and once the urge is over the long-term guard
    /// takes out what the learning left (30 dB under the source). Meanwhile an estimate 12 dB
    /// louder than the input for three blocks is not taken out (`PHANTOM`): what it adds to the
    /// source stays within about that (its loudest 10 ms 11.9 dB over the source; 16.0 without
    /// the rule).
    #[test]
    fn a_path_that_goes_away_is_unlearnt() {
        let mut c = Canceller::new(FS);
        let mut st = 0x2468_ace1u32;
        let learn = (12.0 * FS) as usize;
        let gone = learn + (URGENT_S * FS) as usize + (1.0 * FS) as usize;
        let (half, relearnt) = (gone + (0.5 * FS) as usize, gone + ((URGENT_S + 1.0) * FS) as usize);
        let n = relearnt + (1.0 * FS) as usize;
        let (mut y, mut s, mut e) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
        let (mut t, mut urged_at_gone, mut urged_after) = (0, true, false);
        while t < n {
            let m = c.room().min(n - t);
            if t < learn {
                c.urge();
            }
            if (gone..gone + m).contains(&t) {
                urged_at_gone = c.urgent > 0;
            }
            if (half..half + m).contains(&t) {
                urged_after = c.urgent > 0;
            }
            let mut x = [0.0f32; B];
            for i in 0..m {
                let k = t + i;
                if k < gone {
                    // Open loop: the output is noise of its own, heard through the path.
                    y[k] = white(&mut st, 0.3);
                    x[i] = heard(&PATH, 2.0, &y, k);
                } else {
                    s[k] = white(&mut st, 0.1);
                    x[i] = s[k];
                }
                e[k] = c.cancel(i, x[i]);
                if k >= gone {
                    y[k] = e[k];
                }
            }
            c.feed(&x[..m], &e[t..t + m], &y[t..t + m]);
            t += m;
        }
        assert!(e.iter().all(|v| v.is_finite()), "the canceller's own loop blew up");
        let added: Vec<f32> = (0..n).map(|k| e[k] - s[k]).collect();
        let (burst, soon, late) = (
            residual_db(&s, &added, gone..gone + (0.25 * FS) as usize),
            residual_db(&s, &added, half..gone + FS as usize),
            residual_db(&s, &added, relearnt..n),
        );
        // The loudest 10 ms of what the estimate adds, over the source's level.
        let ten = (0.01 * FS) as usize;
        let loudest = (gone..gone + (0.25 * FS) as usize).step_by(B).map(|k| residual_db(&s, &added, k..k + ten)).fold(f64::MIN, f64::max);
        println!(
            "after the path went away, what the estimate adds re the source: {burst:+.1} dB in the first 250 ms (its loudest 10 ms {loudest:+.1} dB), {soon:.1} dB 0.5-1 s on, {late:.1} dB once the urge was over"
        );
        assert!(!urged_at_gone && urged_after, "the fast guard did not urge the filter to learn again");
        assert!(loudest < 13.0, "the estimate's own loop reached {loudest:+.1} dB over the source (`PHANTOM` stops it past 12 dB)");
        assert!(soon < -10.0, "{soon:.1} dB left of the estimate's own loop 0.5-1 s after the path went away");
        assert!(late < -30.0, "{late:.1} dB left after the urge");
    }

    /// A muted microphone while the output plays on (its last notes, a backing track) is no
    /// changed path: the cancelled input is then the estimate alone, 60 dB and more over the
    /// silent input, and the first block with the microphone back must not urge the filter to
    /// learn (8 s of learning with no loop in sight). The path learnt and the urge over, 0.5 s of
    /// digital silence in the input while the output's noise goes on, then the input back:
    /// no urge, and the path is still cancelled by 30 dB (the long-term guard, whose energies
    /// ran on through the mute, had shrunk it to 2.6 dB).
    #[test]
    fn a_muted_microphone_under_a_playing_output_does_not_urge() {
        let mut st = 0x1357_9bdfu32;
        let learn = (12.0 * FS) as usize;
        let muted = learn + (URGENT_S * FS) as usize + (1.0 * FS) as usize;
        let back = muted + (0.5 * FS) as usize;
        let n = back + (0.5 * FS) as usize;
        let y: Vec<f32> = (0..n).map(|_| white(&mut st, 0.3)).collect();
        let x: Vec<f32> = (0..n).map(|t| if (muted..back).contains(&t) { 0.0 } else { heard(&PATH, 1.0, &y, t) }).collect();
        let mut urged_back = false;
        let e = open_loop(&x, &y, 0..learn, |t, c| urged_back |= t > back && c.urgent > 0);
        let db = residual_db(&x, &e, back + (0.1 * FS) as usize..n);
        println!("after 0.5 s of a muted input under a playing output: urged {urged_back}, residual {db:.1} dB");
        assert!(!urged_back, "the microphone coming back urged the filter to learn");
        assert!(db < -30.0, "residual {db:.1} dB after the mute");
    }

    /// "Clear" (`forget`) lets go of a learnt path without a click: what is taken out glides to
    /// nothing over one block (its largest step from one sample to the next at most 4 times what
    /// it was before: 1.1 times; a cut steps by the whole estimate, 55 times), after which the
    /// input passes untouched and the filter is empty. The same where the forget lands on a block
    /// that took nothing out and the next would let the estimate back in: the glide starts from
    /// nothing (it started from the whole estimate once, a cut again).
    #[test]
    fn forgetting_the_path_glides_out_and_empties_the_filter() {
        for stopped in [false, true] {
            forget_across(stopped);
        }
    }

    /// A "clear" still waiting for its block's end when the host resets the plugin (a DAW's stop
    /// and play right after it) is not lost: the filter is empty after the restart, where a
    /// restart alone keeps the path.
    #[test]
    fn a_forget_is_not_lost_to_a_reset() {
        let learn = (4.0 * FS) as usize;
        let n = learn + (0.5 * FS) as usize / B * B;
        let (mut forgot, mut kept) = (Vec::new(), Vec::new());
        for forget in [true, false] {
            let mut st = 0x0bad_f00du32;
            let y: Vec<f32> = (0..n).map(|_| white(&mut st, 0.3)).collect();
            let x: Vec<f32> = (0..n).map(|t| heard(&PATH, 1.0, &y, t)).collect();
            open_loop(&x, &y, 0..learn, |t, c| {
                if t == learn {
                    if forget {
                        c.forget();
                    }
                    c.restart();
                }
                if t == n {
                    *(if forget { &mut forgot } else { &mut kept }) = c.path();
                }
            });
        }
        let energy = |p: &[f32]| p.iter().map(|v| v * v).sum::<f32>();
        println!("the path's energy after a restart: {:.3} kept, {:.3} with a forget pending", energy(&kept), energy(&forgot));
        assert!(energy(&kept) > 0.1, "the restart alone did not keep the path learnt ({:.3})", energy(&kept));
        assert!(!forgot.is_empty() && forgot.iter().all(|&v| v == 0.0), "the forget was lost to the restart");
    }

    fn forget_across(stopped: bool) {
        let learn = (12.0 * FS) as usize;
        // A 100 Hz tone after the urge is over (nothing learns from it), and half a second into
        // it the forget, on a block's start.
        let tone = learn + ((URGENT_S + 0.5) * FS) as usize;
        let at = (tone + (0.5 * FS) as usize) / B * B;
        let n = at + (0.5 * FS) as usize / B * B;
        let mut st = 0x9e37_79b9u32;
        // Noise while it learns, then the tone: a smooth estimate, which a cut would step.
        let y: Vec<f32> = (0..n)
            .map(|t| if t < tone { white(&mut st, 0.3) } else { 0.3 * (std::f32::consts::TAU * 100.0 * t as f32 / FS).sin() })
            .collect();
        let x: Vec<f32> = (0..n).map(|t| heard(&PATH, 1.0, &y, t)).collect();
        let mut left = Vec::new();
        let e = open_loop(&x, &y, 0..learn, |t, c| {
            if t == at {
                if stopped {
                    // The block from `at` takes nothing out (as after a stop); its end lets the
                    // estimate, which fits, back in.
                    c.yhat = [0.0; B];
                    c.taken = 0.0;
                    c.whole = false;
                }
                c.forget();
            }
            if t == n {
                left = c.path();
            }
        });
        let taken: Vec<f32> = x.iter().zip(&e).map(|(x, e)| x - e).collect();
        let step = |r: std::ops::Range<usize>| r.map(|k| (taken[k] - taken[k - 1]).abs()).fold(0.0f32, f32::max);
        let before = step(at - (0.1 * FS) as usize..at);
        // (Where the block from `at` was made to take nothing out, from its end on.)
        let across = step(if stopped { at + B..at + 3 * B } else { at..at + 3 * B });
        let cut = taken[at + B - 1].abs();
        let db = residual_db(&x, &e, at - (0.1 * FS) as usize..at);
        println!(
            "before the forget: residual {db:.1} dB, largest step {before:.5}; across it {across:.5} (a cut: {cut:.4}; stopped {stopped})"
        );
        assert!(db < -20.0, "the path was not learnt: residual {db:.1} dB");
        assert!(
            across <= 4.0 * before,
            "what is taken out stepped by {across:.5} across the forget ({before:.5} before; stopped {stopped})"
        );
        assert!((at + 2 * B..n).all(|k| e[k] == x[k]), "the input does not pass untouched after the forget");
        assert!(!left.is_empty() && left.iter().all(|&v| v == 0.0), "the filter is not empty after the forget");
    }
}
