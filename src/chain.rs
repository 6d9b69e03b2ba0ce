//! The effect chain: owns the stages and runs them in order over a block, reading the smoothed
//! parameters sample by sample: input gain → the stages of `stage_list!` (high-pass → low-pass →
//! feedback suppressor → gate → EQ → AGC → compressor → de-esser → vocoder → delay →
//! reverb) → dry/wet → output gain → safety
//! ceiling → bypass.

use crate::bridge::Bridge;
use crate::dsp::agc::Agc;
use crate::dsp::bypass::BypassFade;
use crate::dsp::compressor::Compressor;
use crate::dsp::deesser::DeEsser;
use crate::dsp::delay::Delay;
use crate::dsp::delay_line::IntegerDelay;
use crate::dsp::eq::Eq;
use crate::dsp::feedback::afc::Canceller;
use crate::dsp::gate::Gate;
use crate::dsp::reverb::Reverb;
use crate::dsp::vocoder::Vocoder;
use crate::dsp::{db_to_gain, flush_tiny, is_garbage, sanitize, MAX_CH};
use crate::params::LivechainParams;
use crate::stages::feedback::Feedback;
use crate::stages::feedback::FeedbackMode;
use crate::stages::filters::Filters;
use crate::stages::{fill, Ctx, Runner, Slot, StageInfo};
use nice_plug::prelude::*;

/// Work is done in chunks of this many samples so that all scratch space is fixed-size. The
/// result does not depend on it: everything advances per sample.
pub const CHUNK: usize = crate::dsp::BLOCK;

/// The most latency the stages may add together, in seconds (the gate's 5 ms lookahead and the
/// compressor's 10 ms, plus margin).
pub const MAX_LATENCY_S: f32 = 0.017;

/// Declares the chain's stages in signal order, `field: Runner`, each field named as its
/// parameter group in `LivechainParams`: the struct that holds them and the walks over them all
/// come from this one list.
macro_rules! stage_list {
    ($($field:ident: $runner:ty),+ $(,)?) => {
        /// The chain's stages, in signal order.
        #[derive(Default)]
        pub struct Stages {
            $(pub $field: $runner,)+
        }

        impl Stages {
            /// Every stage's description, in signal order.
            pub fn infos() -> impl Iterator<Item = &'static StageInfo> {
                [$(<$runner as Runner>::INFOS),+].into_iter().flatten()
            }
            fn prepare(&mut self, sample_rate: f32) {
                $(self.$field.prepare(sample_rate);)+
            }
            fn snap(&mut self, p: &LivechainParams) {
                $(self.$field.snap(&p.$field);)+
            }
            fn reset(&mut self) {
                $(self.$field.reset();)+
            }
            fn sync_latency(&mut self, p: &LivechainParams) -> usize {
                0 $(+ self.$field.sync_latency(&p.$field))+
            }
            fn tail_seconds(&self, p: &LivechainParams, ctx: &Ctx, depth_db: f32) -> f32 {
                0.0f32 $(.max(self.$field.tail_seconds(&p.$field, ctx, depth_db)))+
            }
            #[inline]
            fn chunk(&mut self, chans: &mut [&mut [f32]], p: &LivechainParams, ctx: &Ctx) {
                $(self.$field.chunk(chans, &p.$field, ctx);)+
            }
            fn publish(&mut self, bridge: &Bridge) {
                $(self.$field.publish(bridge);)+
            }
            fn quiet_after(&self, p: &LivechainParams, ctx: &Ctx) -> f32 {
                0.0f32 $(.max(self.$field.quiet_after(&p.$field, ctx)))+
            }
            fn settled(&self, p: &LivechainParams) -> bool {
                true $(&& self.$field.settled(&p.$field))+
            }
            fn skip_silence(&mut self, frames: u64) {
                $(self.$field.skip_silence(frames);)+
            }
        }
    };
}

// The order, as a mixing engineer would patch a channel strip: the filters first (rumble opens
// no gate and feeds no detector); the gate before anything that raises the noise floor (EQ
// boosts, AGC and compressor make-up); the EQ before the dynamics, so they react to the
// corrected tone; the de-esser after the compressor, whose make-up lifts sibilance, and before
// the delay and the reverb, which would spread it into their tails.
stage_list! {
    filters: Filters,
    feedback: Slot<Feedback>,
    gate: Slot<Gate>,
    eq: Slot<Eq>,
    agc: Slot<Agc>,
    comp: Slot<Compressor>,
    deess: Slot<DeEsser>,
    vocoder: Slot<Vocoder>,
    delay: Slot<Delay>,
    reverb: Slot<Reverb>,
}

/// The settings with every stage on (and the safety ceiling), as the benches, the sweep and the
/// output-hash test use them.
pub fn all_on() -> Vec<(&'static str, f32)> {
    let mut settings: Vec<_> = Stages::infos().flat_map(StageInfo::on).collect();
    settings.push(("ceiling_on", 1.0));
    settings
}

/// Input at or below this (−150 dBFS) is silence, for going idle.
pub const SILENT_INPUT: f32 = 3.162_277_7e-8;

/// Whether `process` ran the chain on a block or skipped it as idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    Processed,
    /// Silent input after every tail had rung out: the output is exact zeros.
    Idle,
}

/// Per-sample values of the chain's own continuous parameters (the stages keep theirs).
struct Lanes {
    in_gain: [f32; CHUNK],
    out_gain: [f32; CHUNK],
    mix: [f32; CHUNK],
    ceiling: [f32; CHUNK],
    wet_gain: [f32; CHUNK],
    dry_gain: [f32; CHUNK],
}

impl Default for Lanes {
    fn default() -> Self {
        let z = [0.0; CHUNK];
        Self { in_gain: z, out_gain: z, mix: z, ceiling: z, wet_gain: z, dry_gain: z }
    }
}

/// The smoothed value of a decibel `param` as a linear gain, for each of the next `out.len()`
/// samples: one conversion for a steady value, one per sample only while it glides.
fn fill_gain(param: &FloatParam, out: &mut [f32]) {
    if param.smoothed.is_smoothing() {
        let n = out.len();
        param.smoothed.next_block(out, n);
        for g in out.iter_mut() {
            *g = db_to_gain(*g);
        }
    } else {
        out.fill(db_to_gain(param.smoothed.next()));
    }
}

pub struct Chain {
    sample_rate: f32,
    channels: usize,
    latency: usize,
    tempo: Option<f64>,
    /// The untouched input, delayed by the latency, for the bypass.
    bypass_delay: [IntegerDelay; MAX_CH],
    /// The input after input gain, delayed by the latency, for the dry/wet mix.
    dry_delay: [IntegerDelay; MAX_CH],
    bypass: BypassFade,
    pub stages: Box<Stages>,
    lanes: Box<Lanes>,
    in_rms: crate::analysis::rms::RmsMeter,
    /// The input RMS meter runs only while the editor shows it.
    in_rms_live: crate::analysis::meters::Reopened,
    raw: [[f32; CHUNK]; MAX_CH],
    dry: [[f32; CHUNK]; MAX_CH],
    /// The sidechain's current chunk (sanitised), and how many channels it has.
    side: [[f32; CHUNK]; MAX_CH],
    /// Samples since the last reset, processed or skipped: the clock the note events are timed on.
    clock: u64,
    /// The feedback suppressor's adaptive canceller (its mode "canceller"), run here because it
    /// needs the chain's input and its final output; and whether it ran in the last chunk.
    afc: Box<Canceller>,
    afc_on: bool,
    /// Whether the input is live and the host's largest block (`set_host`), and what the last
    /// `prepare` was for (rate, channels, largest block).
    live: bool,
    max_block: u32,
    prepared: Option<(f32, usize, u32)>,
    /// The input, the input after cancelling and the output (channels' means), per chunk.
    afc_x: [f32; CHUNK],
    afc_e: [f32; CHUNK],
    afc_y: [f32; CHUNK],
    /// The microphone before cancellation, after the input gain (the channels' mean): what the
    /// feedback suppressor's detector hears while the canceller is on.
    afc_listen: [f32; CHUNK],
    /// The feedback suppressor's count of howls in sight the canceller last saw, of its "clear"
    /// presses, and of the pardons that end the canceller's urge (the source's crescendos).
    afc_heard: u32,
    afc_clears: u32,
    afc_calms: u32,
    /// Consecutive silent input samples processed so far.
    silent_run: u64,
    /// Silent samples skipped while idle, not yet handed to the stages (`skip_silence`).
    skipped: u64,
    /// Every sample skipped since `prepare` (for the tests and the benches).
    idle_total: u64,
    idle_enabled: bool,
}

impl Default for Chain {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            channels: 2,
            latency: 0,
            tempo: None,
            bypass_delay: Default::default(),
            dry_delay: Default::default(),
            bypass: BypassFade::default(),
            stages: Box::default(),
            lanes: Box::default(),
            in_rms: Default::default(),
            in_rms_live: Default::default(),
            raw: [[0.0; CHUNK]; MAX_CH],
            dry: [[0.0; CHUNK]; MAX_CH],
            side: [[0.0; CHUNK]; MAX_CH],
            clock: 0,
            afc: Box::default(),
            afc_on: false,
            afc_x: [0.0; CHUNK],
            afc_e: [0.0; CHUNK],
            afc_y: [0.0; CHUNK],
            afc_listen: [0.0; CHUNK],
            afc_heard: 0,
            afc_clears: 0,
            afc_calms: 0,
            live: true,
            max_block: 0,
            prepared: None,
            silent_run: 0,
            skipped: 0,
            idle_total: 0,
            idle_enabled: true,
        }
    }
}

impl Chain {
    /// Allocates everything for this sample rate and channel count.
    pub fn prepare(&mut self, sample_rate: f32, channels: usize) {
        self.sample_rate = sample_rate;
        self.channels = channels.clamp(1, MAX_CH);
        let cap = (MAX_LATENCY_S * sample_rate).ceil() as usize + 1;
        for d in self.bypass_delay.iter_mut().chain(self.dry_delay.iter_mut()) {
            *d = IntegerDelay::new(cap);
            d.set_delay(self.latency);
        }
        self.bypass.prepare(sample_rate);
        self.stages.prepare(sample_rate);
        // Activated again live with nothing changed (a VST3 host's setActive off and on): the
        // learnt path stays, as on a reset (`Canceller::restart`). It starts empty at another
        // rate (its partitions are other lengths), at another channel count or block size (the
        // host's round trip, part of the path, changes with the buffer; a shifted estimate can
        // double the loop's gain where an empty one leaves it alone), and for an offline render
        // (`set_host`: there is no loop to keep).
        let now = (sample_rate, channels, self.max_block);
        if self.live && self.prepared == Some(now) {
            self.afc.restart();
        } else {
            *self.afc = Canceller::new(sample_rate);
        }
        self.in_rms = crate::analysis::rms::RmsMeter::new(sample_rate as f64);
        self.prepared = Some(now);
    }

    /// How the host runs the chain, set before `prepare`: `live`, whether it processes in real
    /// time (a plugin activated for an offline render, a bounce, is not), and its largest block.
    /// Only a live chain's canceller keeps the path it learnt through a reset, or through an
    /// activation with the same rate, channels and largest block; offline it starts empty, so a
    /// bounce is the same whatever was learnt before it (a learnt path with no loop to cancel
    /// subtracts an echo that is not there, a loop of the estimate's own).
    pub fn set_host(&mut self, live: bool, max_block: u32) {
        self.live = live;
        self.max_block = max_block;
    }

    /// Clears every state and jumps the switches to their current positions.
    pub fn reset(&mut self, params: &LivechainParams) {
        self.update_latency(params);
        for d in self.bypass_delay.iter_mut().chain(self.dry_delay.iter_mut()) {
            d.reset();
        }
        self.bypass.snap(params.output.bypass.value());
        self.stages.snap(params);
        self.stages.reset();
        self.silent_run = 0;
        self.skipped = 0;
        self.clock = 0;
        // The canceller, on and staying on with a live input, keeps the path it learnt (a reset is
        // a discontinuity in the audio, not another room; a loop it held over its edge ran away at
        // once when a reset emptied it); switched on, or rendering offline, it starts empty.
        let afc = Self::afc_wanted(params);
        if afc && self.afc_on && self.live {
            self.afc.restart();
        } else {
            self.afc.reset();
        }
        self.afc_on = afc;
    }

    /// The feedback suppressor is on in its mode "canceller".
    fn afc_wanted(p: &LivechainParams) -> bool {
        p.feedback.on.value() && p.feedback.mode.value() == FeedbackMode::Canceller
    }

    /// A note event for the vocoder's synth, `offset` samples into the next block `process` gets.
    pub fn push_note(&mut self, offset: u32, msg: crate::dsp::vocoder::NoteMsg) {
        self.stages.vocoder.dsp.push_note(self.clock + offset as u64, msg);
    }

    /// Follows the settings that set the stages' latency; returns true when the total changed.
    pub fn update_latency(&mut self, params: &LivechainParams) -> bool {
        let latency = self.stages.sync_latency(params);
        if latency == self.latency {
            return false;
        }
        self.latency = latency;
        for d in self.bypass_delay.iter_mut().chain(self.dry_delay.iter_mut()) {
            d.set_delay(latency);
        }
        true
    }

    /// Total latency in samples, as reported to the host.
    pub fn latency(&self) -> usize {
        self.latency
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// The host's tempo in BPM, if it gives one (for the delay's tempo sync).
    pub fn set_tempo(&mut self, bpm: Option<f64>) {
        self.tempo = bpm.filter(|t| t.is_finite() && *t > 0.0);
    }

    /// The context for questions about the settings (tails, settling): no chunk, no sidechain.
    fn ctx(&self) -> Ctx<'static> {
        Ctx { sample_rate: self.sample_rate, tempo: self.tempo, clock: self.clock, side: &[], listen: &[] }
    }

    /// How long the output rings on after the input stops at the current settings, in seconds,
    /// until it has fallen `depth_db` (`stages::SILENCE_DB` for "gone"): the longest tail of
    /// the stages that are on (0 when none rings).
    pub fn tail_seconds(&self, params: &LivechainParams, depth_db: f32) -> f32 {
        self.stages.tail_seconds(params, &self.ctx(), depth_db)
    }

    /// The compressor's current gain reduction, dB (≤ 0).
    pub fn gain_reduction_db(&self) -> f32 {
        self.stages.comp.dsp.gain_reduction_db()
    }

    pub fn agc_gain_db(&self) -> f32 {
        self.stages.agc.dsp.gain_db()
    }

    /// True if the reverb's state holds a subnormal number (it never should).
    pub fn has_subnormal_state(&self) -> bool {
        self.stages.reverb.dsp.has_subnormal_state()
    }

    /// Lets the chain skip silent blocks once every tail has rung out (on by default; tests
    /// turn it off to compare with a chain that runs all along).
    pub fn set_idle_enabled(&mut self, on: bool) {
        self.idle_enabled = on;
    }

    /// Samples skipped as idle since `prepare`.
    pub fn idle_samples(&self) -> u64 {
        self.idle_total
    }

    /// How many samples of silent input the current settings need before the chain may stop
    /// processing: the longest tail (to −150 dB) or settling time of the stages that are on, and
    /// the latency lines' length.
    pub fn quiet_after_samples(&self, params: &LivechainParams) -> u64 {
        (self.stages.quiet_after(params, &self.ctx()) as f64 * self.sample_rate as f64).ceil() as u64 + self.latency as u64
    }

    /// Idle: the input has been silent for longer than every tail and settling time, no switch
    /// fades and no parameter glides, and the canceller is off. (Its loop through the chain, output
    /// to estimate to input, rings on after the input stops, and its adaptation carries residues
    /// far under −150 dB into what it learns next, through a guard that compares two nearly equal
    /// energies: a canceller that skipped a silence wakes up to −69 dB away from one that ran
    /// through it. With it on, the chain keeps running.) Then a silent block needs no processing:
    /// everything the chain holds has decayed below −150 dBFS (under any converter's floor), so its
    /// output would be zeros but for those residues, and the state the silence would leave is
    /// restored at once when input returns (`Stage::skip_silence`). The first non-silent sample is
    /// processed as if the chain had run all along, to within those residues.
    fn idle(&self, params: &LivechainParams) -> bool {
        self.idle_enabled
            && self.silent_run >= self.quiet_after_samples(params)
            && self.bypass.is_settled(params.output.bypass.value())
            && !self.gains_gliding(params)
            && self.stages.settled(params)
            && !self.afc_on
    }

    /// The chain's own parameters glide.
    fn gains_gliding(&self, p: &LivechainParams) -> bool {
        [&p.input.gain, &p.output.gain, &p.output.mix, &p.output.ceiling].iter().any(|f| f.smoothed.is_smoothing())
    }

    /// Processes one block in place. `buffer` holds one slice per channel, all the same length.
    /// A silent block while idle (see `idle`) is not processed: it comes out as exact zeros.
    pub fn process(&mut self, buffer: &mut [&mut [f32]], params: &LivechainParams, bridge: &Bridge) -> Ran {
        self.process_with(buffer, &[], params, bridge)
    }

    /// `process` with a sidechain input (`side`: 0 to 2 channels, each at least the block long;
    /// only the vocoder listens to it).
    pub fn process_with(&mut self, buffer: &mut [&mut [f32]], side: &[&[f32]], params: &LivechainParams, bridge: &Bridge) -> Ran {
        let channels = buffer.len().min(self.channels);
        let len = buffer.first().map_or(0, |c| c.len());
        if self.in_rms_live.update(bridge.editor_open.load(std::sync::atomic::Ordering::Relaxed)) {
            self.in_rms.reset();
        }
        // Stops at the first sample that is not silence (a NaN is not: `NaN <= x` is false), so
        // playing costs a sample's look; only silence is read through.
        let silent = buffer.iter().all(|c| c.iter().all(|x| x.abs() <= SILENT_INPUT));
        if silent && self.idle(params) {
            for c in buffer.iter_mut() {
                c.fill(0.0);
            }
            // An open editor's input meters see the silence and fall.
            if self.in_rms_live.is_open() {
                for (ch, c) in buffer.iter().enumerate().take(channels) {
                    bridge.input_peak.feed(ch, c);
                    self.in_rms.feed(ch, c, &bridge.input_rms);
                }
            }
            self.skipped += len as u64;
            self.idle_total += len as u64;
            self.clock += len as u64;
            // Notes still move the synth (a chord held through silence sounds when the voice returns).
            self.stages.vocoder.dsp.apply_notes(self.clock);
            return Ran::Idle;
        }
        if self.skipped > 0 {
            self.stages.skip_silence(self.skipped);
            self.skipped = 0;
        }
        self.silent_run = if silent { self.silent_run.saturating_add(len as u64) } else { 0 };
        let afc = Self::afc_wanted(params);
        if afc != self.afc_on {
            // Switched on: it learns from nothing (a path learnt long ago is no guide).
            self.afc.reset();
            self.afc_on = afc;
        }
        let mut start = 0;
        while start < len {
            // The canceller's blocks: a chunk ends where one does (the next one's estimate needs
            // this one's output).
            let n = if afc { CHUNK.min(len - start).min(self.afc.room()) } else { CHUNK.min(len - start) };
            self.process_chunk(buffer, side, channels, start, n, params, bridge);
            start += n;
        }
        self.clock += len as u64;
        // Channels past what the chain handles get silence rather than stale host memory.
        for extra in buffer.iter_mut().skip(channels) {
            extra.fill(0.0);
        }
        self.stages.publish(bridge);
        Ran::Processed
    }

    fn fill_lanes(&mut self, n: usize, p: &LivechainParams) {
        let l = &mut self.lanes;
        fill_gain(&p.input.gain, &mut l.in_gain[..n]);
        fill_gain(&p.output.gain, &mut l.out_gain[..n]);
        fill(&p.output.mix, &mut l.mix[..n]);
        fill_gain(&p.output.ceiling, &mut l.ceiling[..n]);
        for m in &mut l.mix[..n] {
            *m *= 0.01;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn process_chunk(
        &mut self,
        buffer: &mut [&mut [f32]],
        side: &[&[f32]],
        channels: usize,
        start: usize,
        n: usize,
        params: &LivechainParams,
        bridge: &Bridge,
    ) {
        self.fill_lanes(n, params);
        let p = params;
        let bypassed = p.output.bypass.value();
        let bypass_fading = self.bypass.fill_gains(bypassed, &mut self.lanes.wet_gain[..n], &mut self.lanes.dry_gain[..n]);

        // Input: sanitise, keep the untouched signal for the bypass, apply the input gain.
        let mut garbage = false;
        for ch in 0..channels {
            let block = &mut buffer[ch][start..start + n];
            let raw = &mut self.raw[ch][..n];
            let dry = &mut self.dry[ch][..n];
            // (Branch-free, with a count rather than a flag, so the loop runs on SIMD lanes.)
            let mut bad = 0u32;
            for (((x, raw), dry), &g) in block.iter_mut().zip(raw.iter_mut()).zip(dry.iter_mut()).zip(&self.lanes.in_gain[..n]) {
                bad += is_garbage(*x) as u32;
                let clean = sanitize(*x);
                *raw = clean;
                *x = clean * g;
                *dry = *x;
            }
            if self.afc_on {
                // What the canceller expects back from the speaker comes out before anything
                // else sees the input (the bypass keeps the untouched input).
                let inv = 1.0 / channels as f32;
                for (i, ((x, dry), &g)) in block.iter_mut().zip(dry.iter_mut()).zip(&self.lanes.in_gain[..n]).enumerate() {
                    let e = self.afc.cancel(i, raw[i]);
                    // The channels' means, accumulated channel by channel.
                    let (mx, me) = if ch == 0 { (0.0, 0.0) } else { (self.afc_x[i], self.afc_e[i]) };
                    self.afc_x[i] = mx + raw[i] * inv;
                    self.afc_e[i] = me + e * inv;
                    *x = e * g;
                    *dry = *x;
                }
            }
            garbage |= bad > 0;
            bridge.input_peak.feed(ch, block);
            if self.in_rms_live.is_open() {
                self.in_rms.feed(ch, block, &bridge.input_rms);
            }
            self.bypass_delay[ch].process(raw);
            self.dry_delay[ch].process(dry);
        }

        // The sidechain, sanitised like the input (only what the host gave: a short or missing
        // channel reads as silence).
        let side_channels = side.len().min(MAX_CH);
        for (dst, src) in self.side.iter_mut().zip(side) {
            for (i, d) in dst[..n].iter_mut().enumerate() {
                *d = sanitize(src.get(start + i).copied().unwrap_or(0.0));
            }
        }

        // The stages, in the list's order.
        let listen: &[f32] = if self.afc_on {
            for ((l, &x), &g) in self.afc_listen[..n].iter_mut().zip(&self.afc_x[..n]).zip(&self.lanes.in_gain[..n]) {
                *l = x * g;
            }
            &self.afc_listen[..n]
        } else {
            &[]
        };
        let ctx = Ctx {
            sample_rate: self.sample_rate,
            tempo: self.tempo,
            clock: self.clock + start as u64,
            side: &self.side[..side_channels],
            listen,
        };
        let mut chans = chunk_slices(buffer, channels, start, n);
        self.stages.chunk(&mut chans[..channels], p, &ctx);
        // A growing howl the suppressor's detector saw in this chunk, loud enough to notch or
        // not yet, urges the canceller to learn (the urge lands before the canceller's block
        // that holds the finding ends, whatever the host's block size: chunks never cross the
        // canceller's blocks). A count that fell is a reset, not a howl.
        let heard = self.stages.feedback.dsp.dsp.heard;
        if heard > self.afc_heard && self.afc_on {
            self.afc.urge();
        }
        self.afc_heard = heard;
        // A growth its notch did not slow was the source's (a crescendo): the urge it gave ends
        // (the suppressor counts such a pardon only when no other howl urged the canceller since).
        let calms = self.stages.feedback.dsp.dsp.calms;
        if calms > self.afc_calms && self.afc_on {
            self.afc.calm();
        }
        self.afc_calms = calms;
        // "Clear" forgets what the suppressor learnt: the fixed notches lift, and the canceller
        // lets go of the path (a take played back through the track, the loop gone, would
        // otherwise meet an echo of it taken out; docs/benchmarks.md).
        let clears = self.stages.feedback.dsp.clears;
        if clears != self.afc_clears && self.afc_on {
            self.afc.forget();
        }
        self.afc_clears = clears;

        // Output: dry/wet, output gain, ceiling, bypass, and a last guard on what leaves.
        let l = &self.lanes;
        let ceiling_on = p.output.ceiling_on.value();
        for ch in 0..channels {
            let block = &mut buffer[ch][start..start + n];
            let dry = &self.dry[ch][..n];
            let raw = &self.raw[ch][..n];
            // One pass per step, each the same arithmetic per sample as one loop doing all: the
            // mix, gain and guard passes run on SIMD lanes, the ceiling only when it is on.
            for (((x, &d), &m), &g) in block.iter_mut().zip(dry).zip(&l.mix[..n]).zip(&l.out_gain[..n]) {
                *x = (d * (1.0 - m) + *x * m) * g;
            }
            if ceiling_on {
                // Below half the ceiling the curve is the identity: a chunk that stays there (the
                // usual case, counted branch-free) is left as it is.
                let near = block.iter().zip(&l.ceiling[..n]).fold(0u32, |k, (x, &c)| k + !(x.abs() <= 0.5 * c) as u32);
                if near > 0 {
                    for (x, &c) in block.iter_mut().zip(&l.ceiling[..n]) {
                        *x = soft_ceiling(*x, c);
                    }
                }
            }
            if bypass_fading {
                for (((x, &r), &w), &d) in block.iter_mut().zip(raw).zip(&l.wet_gain[..n]).zip(&l.dry_gain[..n]) {
                    *x = *x * w + r * d;
                }
            }
            for x in block.iter_mut() {
                *x = flush_tiny(guard_output(*x));
            }
            bridge.output_peak.feed(ch, block);
        }
        if self.afc_on {
            let inv = 1.0 / channels as f32;
            for i in 0..n {
                self.afc_y[i] = (0..channels).map(|ch| buffer[ch][start + i]).sum::<f32>() * inv;
            }
            self.afc.feed(&self.afc_x[..n], &self.afc_e[..n], &self.afc_y[..n]);
        }
        // NaN, Inf or absurd input is a host fault: it was replaced by silence, and whatever the
        // stages built from the samples around it is cleared so no tail carries the damage on.
        if garbage {
            self.stages.reset();
        }
    }
}

/// The chunk `[start..start + n]` of each of the first `channels` (≤ MAX_CH) channels.
#[inline(always)]
fn chunk_slices<'a>(buffer: &'a mut [&mut [f32]], channels: usize, start: usize, n: usize) -> [&'a mut [f32]; MAX_CH] {
    let mut it = buffer.iter_mut().take(channels).map(|c| &mut c[start..start + n]);
    std::array::from_fn(|_| it.next().unwrap_or_default())
}

/// The last guard on what leaves the plugin: never non-finite, never beyond ±1000 (+60 dBFS).
#[inline]
fn guard_output(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-crate::dsp::INPUT_LIMIT, crate::dsp::INPUT_LIMIT)
    } else {
        0.0
    }
}

/// A safety ceiling: transparent below half the ceiling (−6 dB), then a tanh knee that
/// approaches but never reaches `ceiling`; a final clamp makes the promise exact.
#[inline]
pub fn soft_ceiling(x: f32, ceiling: f32) -> f32 {
    let knee = 0.5 * ceiling;
    let a = x.abs();
    if a <= knee {
        return x;
    }
    let room = ceiling - knee;
    let y = (knee + room * ((a - knee) / room).tanh()).min(ceiling);
    y.copysign(x)
}
