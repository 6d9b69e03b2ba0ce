//! Livechain: a real-time effect chain (input gain → filters → dynamics → delay → reverb →
//! output gain, with dry/wet and bypass) built as a CLAP plugin, a VST3 plugin and a standalone.
//! The layout and the rules are in `docs/architecture.md`.

use nice_plug::prelude::*;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub mod analysis;
pub mod bridge;
pub mod chain;
mod clap_entry;
pub mod devlog;
pub mod dsp;
pub mod editor;
pub mod host;
pub mod howl;
pub mod param_kinds;
pub mod params;
pub mod presets;
pub mod render;
pub mod stages;
pub mod state;
pub mod vst3_entry;

use bridge::Bridge;
use chain::Chain;
use dsp::denormal::DenormalGuard;
use dsp::vocoder::NoteMsg;
use nice_plug::midi::Key;
use params::LivechainParams;

/// Set by the standalone when there is no display to open a window on: the plugin then offers no
/// editor, so the standalone runs audio alone instead of failing to open a window.
pub static HEADLESS: AtomicBool = AtomicBool::new(false);

/// Plugin instances plus bridges alive in this process, exported from the plugin library so a
/// test host that loaded the `.clap` can read it.
#[no_mangle]
pub extern "C" fn livechain_live_objects() -> usize {
    bridge::live_objects()
}

/// Tasks nice-plug's wrappers dropped in this process because their main-thread queue was full
/// (`devlog::WRAPPER_DROPPED_TASKS`), exported like `livechain_live_objects` for the test hosts.
#[no_mangle]
pub extern "C" fn livechain_dropped_tasks() -> u32 {
    devlog::WRAPPER_DROPPED_TASKS.load(Ordering::Relaxed)
}

pub struct Livechain {
    params: Arc<LivechainParams>,
    bridge: Arc<Bridge>,
    chain: Chain,
    meters: analysis::meters::OutputMeters,
    probe: analysis::probe::LoopProbe,
    /// The audio thread's end of the spectrum analyzer's queue (the editor holds the other).
    spectrum_tx: rtrb::Producer<f32>,
    repaint: nice_plug_egui::RepaintNotifier,
    /// Every parameter, gathered once here so a reset can start their smoothers at their
    /// targets without allocating on the audio thread.
    param_ptrs: Vec<ParamPtr>,
    /// A latency change has been reported since the last activation. The host applies a new
    /// latency only by restarting the plugin (deactivate, activate), which the first report asks
    /// for; until then later changes need no report of their own (the next `activate` reports the
    /// latency as it is then), so a storm of lookahead automation posts one, not one per value.
    latency_reported: bool,
    /// Set by a reset: the first block after it starts every smoother at its target, changes the
    /// host sent for that block's first sample included (VST3 hosts send a change made while
    /// processing in the next block's queue; after a reset there is nothing to glide from).
    fresh: bool,
    _live: bridge::LiveToken,
}

impl Default for Livechain {
    fn default() -> Self {
        let (spectrum_tx, spectrum_rx) = rtrb::RingBuffer::new(analysis::meters::SPECTRUM_QUEUE);
        let bridge = Bridge::default();
        if let Ok(mut rx) = bridge.spectrum_rx.lock() {
            *rx = Some(spectrum_rx);
        }
        let params = Arc::new(LivechainParams::default());
        let param_ptrs = params.param_map().into_iter().map(|(_, ptr, _)| ptr).collect();
        let bridge = Arc::new(bridge);
        devlog::adopt(&params, &bridge);
        Self {
            params,
            bridge,
            chain: Chain::default(),
            meters: Default::default(),
            probe: Default::default(),
            spectrum_tx,
            repaint: nice_plug_egui::RepaintNotifier::new(),
            param_ptrs,
            latency_reported: false,
            fresh: true,
            _live: bridge::LiveToken::default(),
        }
    }
}

impl Livechain {
    /// The parameters, for hosts embedded in tests and for the standalone's subcommands.
    pub fn params_arc(&self) -> Arc<LivechainParams> {
        self.params.clone()
    }

    pub fn bridge(&self) -> Arc<Bridge> {
        self.bridge.clone()
    }
}

impl Livechain {
    /// Starts every smoother at its parameter's current value (no allocation: the pointers were
    /// gathered at construction).
    fn snap_smoothers(&self) {
        // SAFETY: the pointers come from `param_map` of `self.params`, which we own.
        unsafe { host::snap_smoothers(&self.param_ptrs, self.chain.sample_rate()) };
    }
}

impl Plugin for Livechain {
    const NAME: &'static str = "Livechain";
    const VENDOR: &'static str = "Livechain";
    const URL: &'static str = "https://livechain.invalid";
    const EMAIL: &'static str = "dev@livechain.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    /// Stereo or mono, each with a sidechain input of the same width (the vocoder's carrier;
    /// hosts show it as "Sidechain"). A host that leaves it unconnected gives silence there.
    /// (The mono sidechain is mono because nice-plug's VST3 wrapper compares an aux bus's
    /// channel count with the main bus's when the host sets the arrangement.)
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            aux_input_ports: &[new_nonzero_u32(2)],
            names: PortNames { aux_inputs: &["Sidechain"], ..PortNames::const_default() },
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            aux_input_ports: &[new_nonzero_u32(1)],
            names: PortNames { aux_inputs: &["Sidechain"], ..PortNames::const_default() },
            ..AudioIOLayout::const_default()
        },
    ];

    /// Notes play the vocoder's synth carrier.
    const MIDI_INPUT: MidiConfig = MidiConfig::Basic;

    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = nice_plug_egui::EguiEditor<editor::LivechainEditor>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn setup_logger() -> Option<bool> {
        Some(devlog::install())
    }

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        if HEADLESS.load(Ordering::Relaxed) {
            return None;
        }
        editor::create(self.params.clone(), self.bridge.clone(), self.repaint.clone())
    }

    fn filter_state(state: &mut PluginState) {
        match state::migrate(state) {
            state::Migration::Current => {}
            state::Migration::Upgraded { from } => {
                nice_log!("Livechain: migrated a saved state from layout v{from} to v{}", state::STATE_SCHEMA)
            }
            state::Migration::FromFuture { version } => nice_log!(
                "Livechain: this state was saved by a newer Livechain (layout v{version}, this \
                 build reads up to v{}); known parameters are loaded, the rest ignored",
                state::STATE_SCHEMA
            ),
        }
        let fixed = state::clamp_to_ranges(state, &LivechainParams::default());
        if !fixed.is_empty() {
            nice_log!("Livechain: the saved state had values outside their ranges, clamped: {}", fixed.join(", "));
        }
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let channels = audio_io_layout.main_output_channels.map_or(2, NonZeroU32::get) as usize;
        let sr = buffer_config.sample_rate;
        if !(sr.is_finite() && sr > 0.0) {
            nice_error!("Livechain: refusing to activate at sample rate {sr}");
            return false;
        }
        self.chain.set_host(buffer_config.process_mode == ProcessMode::Realtime, buffer_config.max_buffer_size);
        self.chain.prepare(sr, channels);
        self.meters.prepare(sr as f64);
        self.chain.update_latency(&self.params);
        context.set_latency_samples(self.chain.latency() as u32);
        self.latency_reported = false;
        self.bridge.sample_rate.store(sr, Ordering::Relaxed);
        self.bridge.max_block.store(buffer_config.max_buffer_size, Ordering::Relaxed);
        self.bridge.channels.store(channels as u32, Ordering::Relaxed);
        self.bridge.latency_samples.store(self.chain.latency() as u32, Ordering::Relaxed);
        true
    }

    /// The host's reset (CLAP `reset`, a VST3 deactivate and activate, the start of processing):
    /// a discontinuity, so every smoother starts at its target and the next sample is processed
    /// with the current settings, not the tail of a glide from the values before.
    fn reset(&mut self) {
        self.snap_smoothers();
        self.fresh = true;
        self.chain.reset(&self.params);
        self.meters.reset();
        self.probe.reset();
    }

    fn process(&mut self, buffer: &mut Buffer, aux: &mut AuxiliaryBuffers, context: &mut impl ProcessContext<Self>) -> ProcessStatus {
        // The clock is read through the vDSO: no system call, no allocation.
        let started = std::time::Instant::now();
        let _denormals = DenormalGuard::new();
        if self.chain.update_latency(&self.params) {
            let latency = self.chain.latency() as u32;
            if !self.latency_reported {
                context.set_latency_samples(latency);
                self.latency_reported = true;
            }
            self.bridge.latency_samples.store(latency, Ordering::Relaxed);
        }
        if std::mem::take(&mut self.fresh) {
            // The wrapper has applied the events at this block's first sample: start from them.
            self.snap_smoothers();
            self.chain.reset(&self.params);
        }
        self.chain.set_tempo(context.transport().tempo);
        let samples = buffer.samples();
        // The notes of this block, for the vocoder's synth, at their samples. (A wrapper that
        // split the block at a parameter change may time a note at the split's end: the last
        // sample is as close as this block has.)
        let last = samples.saturating_sub(1) as u32;
        while let Some(event) = context.next_event() {
            let msg = match event {
                NoteEvent::NoteOn { timing, key: Key::Number(note), velocity, .. } => Some((timing, NoteMsg::On { note, velocity })),
                NoteEvent::NoteOff { timing, key, .. } | NoteEvent::Choke { timing, key, .. } => match key {
                    Key::Number(note) => Some((timing, NoteMsg::Off { note })),
                    // A wildcard key (CLAP) ends every note.
                    Key::Wildcard => Some((timing, NoteMsg::AllOff)),
                },
                _ => None,
            };
            if let Some((timing, msg)) = msg {
                self.chain.push_note(timing.min(last), msg);
            }
        }
        // The sidechain as the host gave it, cut to this block (a port the host left unconnected
        // is zeros of a stale length).
        let mut side: [&[f32]; dsp::MAX_CH] = [&[], &[]];
        let mut side_channels = 0;
        if let Some(port) = aux.inputs.first() {
            for (dst, ch) in side.iter_mut().zip(port.as_slice_immutable().iter()) {
                *dst = &ch[..samples.min(ch.len())];
                side_channels += 1;
            }
        }
        let ran = if self.probe.begin_block(&self.bridge.probe) {
            // A loop-latency measurement owns the outputs; the chain starts afresh after it
            // rather than resuming a tail from a second ago. (As after a host's reset, the
            // feedback canceller keeps the path it learnt, if live: the room is the same one,
            // and only the audio had a break.)
            if self.probe.process(buffer.as_slice(), &self.bridge.probe) {
                self.chain.reset(&self.params);
            }
            chain::Ran::Processed
        } else {
            self.chain.process_with(buffer.as_slice(), &side[..side_channels], &self.params, &self.bridge)
        };
        let b = &self.bridge;
        let editor_open = b.editor_open.load(Ordering::Relaxed);
        // Idle, the output is zeros: the programme meters (loudness, true peak) gate silence out
        // anyway, so only an open editor's meters need to see them fall.
        if ran == chain::Ran::Processed || editor_open {
            self.meters.process(buffer.as_slice(), editor_open, &b.output_rms, &b.loudness, &mut self.spectrum_tx);
        }
        self.bridge.block.store(buffer.samples() as u32, Ordering::Relaxed);
        self.bridge.blocks.fetch_add(1, Ordering::Relaxed);
        let deadline = buffer.samples() as f32 / self.chain.sample_rate();
        if deadline > 0.0 {
            let load = started.elapsed().as_secs_f32() / deadline;
            self.bridge.dsp_load.store(load, Ordering::Relaxed);
            self.bridge.dsp_load_peak.fetch_max(load, Ordering::Relaxed);
            if load > 1.0 {
                // This block took longer than the audio it holds: somewhere downstream, a dropout.
                self.bridge.overloads.fetch_add(1, Ordering::Relaxed);
            }
        }
        if self.bridge.editor_open.load(Ordering::Relaxed) {
            self.repaint.request_repaint();
        }
        // Echoes, reverb tails and releasing envelopes go on after the input stops: until they
        // are done, ask the host to keep calling (and report that tail: CLAP's tail extension,
        // VST3's getTailSamples). Idle, a host may sleep until input returns.
        let quiet_after = self.chain.quiet_after_samples(&self.params);
        if ran == chain::Ran::Idle || quiet_after == 0 {
            ProcessStatus::Normal
        } else {
            ProcessStatus::Tail(quiet_after.min(u32::MAX as u64) as u32)
        }
    }
}

impl ClapPlugin for Livechain {
    const CLAP_ID: &'static str = "audio.livechain.livechain";
    const CLAP_DESCRIPTION: Option<&'static str> = Some("Low-latency effect chain: filters, dynamics, delay, reverb");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::AudioEffect, ClapFeature::Stereo, ClapFeature::Mono];
}

impl Vst3Plugin for Livechain {
    const VST3_CLASS_ID: [u8; 16] = *b"LivechainFxChain";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Fx];
}

// The VST3 export is `vst3_entry` (nice-plug's wrapper behind our controller layer).
