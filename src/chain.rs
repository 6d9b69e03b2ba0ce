//! The effect chain: owns the stages and runs them in order over a block, reading the smoothed
//! parameters sample by sample. Input gain → stages → dry/wet → output gain → bypass.

use crate::bridge::Bridge;
use crate::dsp::bypass::BypassFade;
use crate::dsp::delay_line::IntegerDelay;
use crate::dsp::{db_to_gain, flush_tiny, sanitize};
use crate::params::LivechainParams;
use nice_plug::prelude::*;

/// Work is done in chunks of this many samples so that all scratch space is fixed-size. The
/// result does not depend on it: everything advances per sample.
pub const CHUNK: usize = 128;
pub const MAX_CHANNELS: usize = crate::analysis::peak::MAX_CHANNELS;

/// The most latency any stage may add, in seconds (the compressor's 10 ms lookahead plus margin).
pub const MAX_LATENCY_S: f32 = 0.012;

pub struct Chain {
    sample_rate: f32,
    channels: usize,
    latency: usize,
    /// The untouched input, delayed by the latency, for the bypass.
    bypass_delay: [IntegerDelay; MAX_CHANNELS],
    /// The input after input gain, delayed by the latency, for the dry/wet mix.
    dry_delay: [IntegerDelay; MAX_CHANNELS],
    bypass: BypassFade,
    gain_in: [f32; CHUNK],
    gain_out: [f32; CHUNK],
    mix: [f32; CHUNK],
    wet_gain: [f32; CHUNK],
    dry_gain: [f32; CHUNK],
    raw: [[f32; CHUNK]; MAX_CHANNELS],
    dry: [[f32; CHUNK]; MAX_CHANNELS],
}

impl Default for Chain {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            channels: 2,
            latency: 0,
            bypass_delay: Default::default(),
            dry_delay: Default::default(),
            bypass: BypassFade::default(),
            gain_in: [0.0; CHUNK],
            gain_out: [0.0; CHUNK],
            mix: [0.0; CHUNK],
            wet_gain: [0.0; CHUNK],
            dry_gain: [0.0; CHUNK],
            raw: [[0.0; CHUNK]; MAX_CHANNELS],
            dry: [[0.0; CHUNK]; MAX_CHANNELS],
        }
    }
}

/// Fills `out` with the smoothed value of a dB parameter as linear gain.
fn smoothed_gain(param: &FloatParam, out: &mut [f32]) {
    let n = out.len();
    if param.smoothed.is_smoothing() {
        param.smoothed.next_block(out, n);
        for g in out.iter_mut() {
            *g = db_to_gain(*g);
        }
    } else {
        out.fill(db_to_gain(param.smoothed.next()));
    }
}

impl Chain {
    /// Allocates everything for this sample rate and channel count.
    pub fn prepare(&mut self, sample_rate: f32, channels: usize) {
        self.sample_rate = sample_rate;
        self.channels = channels.clamp(1, MAX_CHANNELS);
        let cap = (MAX_LATENCY_S * sample_rate).ceil() as usize + 1;
        for d in self.bypass_delay.iter_mut().chain(self.dry_delay.iter_mut()) {
            *d = IntegerDelay::new(cap);
        }
        self.bypass.prepare(sample_rate);
        self.update_latency();
    }

    pub fn reset(&mut self, params: &LivechainParams) {
        for d in self.bypass_delay.iter_mut().chain(self.dry_delay.iter_mut()) {
            d.reset();
        }
        self.bypass.snap(params.output.bypass.value());
    }

    fn update_latency(&mut self) {
        // No stage adds latency yet; the dry paths follow whatever the stages report.
        let latency = 0;
        self.latency = latency;
        for d in self.bypass_delay.iter_mut().chain(self.dry_delay.iter_mut()) {
            d.set_delay(latency);
        }
    }

    /// Total latency in samples, as reported to the host.
    pub fn latency(&self) -> usize {
        self.latency
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Processes one block in place. `buffer` holds one slice per channel, all the same length.
    pub fn process(&mut self, buffer: &mut [&mut [f32]], params: &LivechainParams, bridge: &Bridge) {
        let channels = buffer.len().min(self.channels);
        let len = buffer.first().map_or(0, |c| c.len());
        let mut start = 0;
        while start < len {
            let n = CHUNK.min(len - start);
            self.process_chunk(buffer, channels, start, n, params, bridge);
            start += n;
        }
        // Channels past what the chain handles get silence rather than stale host memory.
        for extra in buffer.iter_mut().skip(channels) {
            extra.fill(0.0);
        }
    }

    fn process_chunk(
        &mut self,
        buffer: &mut [&mut [f32]],
        channels: usize,
        start: usize,
        n: usize,
        params: &LivechainParams,
        bridge: &Bridge,
    ) {
        smoothed_gain(&params.input.gain, &mut self.gain_in[..n]);
        smoothed_gain(&params.output.gain, &mut self.gain_out[..n]);
        let mix = &mut self.mix[..n];
        if params.output.mix.smoothed.is_smoothing() {
            params.output.mix.smoothed.next_block(mix, n);
        } else {
            mix.fill(params.output.mix.smoothed.next());
        }
        for m in mix.iter_mut() {
            *m *= 0.01;
        }
        let bypassed = params.output.bypass.value();
        self.bypass.fill_gains(bypassed, &mut self.wet_gain[..n], &mut self.dry_gain[..n]);

        for ch in 0..channels {
            let block = &mut buffer[ch][start..start + n];
            let raw = &mut self.raw[ch][..n];
            let dry = &mut self.dry[ch][..n];
            for ((x, r), (d, g)) in
                block.iter_mut().zip(raw.iter_mut()).zip(dry.iter_mut().zip(&self.gain_in[..n]))
            {
                let clean = sanitize(*x);
                *r = clean;
                *x = clean * g;
                *d = *x;
            }
            bridge.input_peak.feed(ch, block);
            self.bypass_delay[ch].process(raw);
            self.dry_delay[ch].process(dry);
        }

        // The stages of the chain (filters, dynamics, delay, reverb) run here, in place.

        for ch in 0..channels {
            let block = &mut buffer[ch][start..start + n];
            let dry = &self.dry[ch][..n];
            for (i, x) in block.iter_mut().enumerate() {
                let m = self.mix[i];
                *x = (dry[i] * (1.0 - m) + *x * m) * self.gain_out[i];
            }
            if self.dry_gain[..n].iter().any(|&g| g != 0.0) {
                let raw = &self.raw[ch][..n];
                for (i, x) in block.iter_mut().enumerate() {
                    *x = *x * self.wet_gain[i] + raw[i] * self.dry_gain[i];
                }
            }
            for x in block.iter_mut() {
                *x = flush_tiny(sanitize(*x));
            }
            bridge.output_peak.feed(ch, block);
        }
    }
}
