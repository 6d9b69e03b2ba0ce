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
pub mod devlog;
pub mod dsp;
pub mod editor;
pub mod host;
pub mod param_kinds;
pub mod params;
pub mod presets;
pub mod render;
pub mod stages;
pub mod state;

use bridge::Bridge;
use chain::Chain;
use dsp::denormal::DenormalGuard;
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

pub struct Livechain {
    params: Arc<LivechainParams>,
    bridge: Arc<Bridge>,
    chain: Chain,
    meters: analysis::meters::OutputMeters,
    probe: analysis::probe::LoopProbe,
    /// The audio thread's end of the spectrum analyzer's queue (the editor holds the other).
    spectrum_tx: rtrb::Producer<f32>,
    repaint: nice_plug_egui::RepaintNotifier,
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

impl Plugin for Livechain {
    const NAME: &'static str = "Livechain";
    const VENDOR: &'static str = "Livechain";
    const URL: &'static str = "https://livechain.invalid";
    const EMAIL: &'static str = "dev@livechain.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

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
        self.chain.prepare(sr, channels);
        self.meters.prepare(sr as f64);
        self.chain.update_latency(&self.params);
        context.set_latency_samples(self.chain.latency() as u32);
        self.bridge.sample_rate.store(sr, Ordering::Relaxed);
        self.bridge.max_block.store(buffer_config.max_buffer_size, Ordering::Relaxed);
        self.bridge.channels.store(channels as u32, Ordering::Relaxed);
        self.bridge.latency_samples.store(self.chain.latency() as u32, Ordering::Relaxed);
        true
    }

    fn reset(&mut self) {
        self.chain.reset(&self.params);
        self.meters.reset();
        self.probe.reset();
    }

    fn process(&mut self, buffer: &mut Buffer, _aux: &mut AuxiliaryBuffers, context: &mut impl ProcessContext<Self>) -> ProcessStatus {
        // The clock is read through the vDSO: no system call, no allocation.
        let started = std::time::Instant::now();
        let _denormals = DenormalGuard::new();
        if self.chain.update_latency(&self.params) {
            let latency = self.chain.latency() as u32;
            context.set_latency_samples(latency);
            self.bridge.latency_samples.store(latency, Ordering::Relaxed);
        }
        self.chain.set_tempo(context.transport().tempo);
        if self.probe.begin_block(&self.bridge.probe) {
            // A loop-latency measurement owns the outputs; the chain starts afresh after it
            // rather than resuming a tail from a second ago.
            if self.probe.process(buffer.as_slice(), &self.bridge.probe) {
                self.chain.reset(&self.params);
            }
        } else {
            self.chain.process(buffer.as_slice(), &self.params, &self.bridge);
        }
        let b = &self.bridge;
        self.meters.process(buffer.as_slice(), b.editor_open.load(Ordering::Relaxed), &b.output_rms, &b.loudness, &mut self.spectrum_tx);
        self.bridge.block.store(buffer.samples() as u32, Ordering::Relaxed);
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
        // Echoes and reverb tails ring on after the input stops: ask the host to keep calling.
        if self.chain.tail_seconds(&self.params, stages::SILENCE_DB) > 0.0 {
            ProcessStatus::KeepAlive
        } else {
            ProcessStatus::Normal
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

nice_export_clap!(Livechain);
nice_export_vst3!(Livechain);
