//! Everything that crosses between the audio thread and the editor: atomics, the loudness
//! histograms (atomic bins) and the spectrum's sample queue (rtrb, single producer/consumer).

use crate::analysis::loudness_meter::LoudnessShared;
use crate::analysis::peak::PeakTap;
use crate::analysis::rms::RmsTap;
use atomic_float::AtomicF32;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Bridge {
    /// Input peaks and RMS, measured after the input gain (what the chain receives).
    pub input_peak: PeakTap,
    pub input_rms: RmsTap,
    /// Output peaks, RMS, true peak and loudness, measured on what leaves the plugin.
    pub output_peak: PeakTap,
    pub output_rms: RmsTap,
    pub loudness: LoudnessShared,
    /// The in-plugin loop-latency probe's request, state and recording.
    pub probe: crate::analysis::probe::ProbeShared,
    pub sample_rate: AtomicF32,
    pub max_block: AtomicU32,
    /// The length of the last block the host sent.
    pub block: AtomicU32,
    /// Blocks processed since the plugin was made (wrapping): the editor's layout record shows
    /// it, so a test can tell audio that stopped from a window that did.
    pub blocks: AtomicU32,
    pub channels: AtomicU32,
    pub latency_samples: AtomicU32,
    /// The compressor's deepest gain reduction since the editor last read it, dB (≤ 0).
    pub gain_reduction_db: AtomicF32,
    /// The compressor's detected input level (dB) at the end of the last block, for the curve.
    pub comp_input_db: AtomicF32,
    /// The gate's lowest gain of the last block (dB, ≤ 0) and whether it was open in it.
    pub gate_gain_db: AtomicF32,
    pub gate_open: AtomicBool,
    /// The de-esser's deepest reduction since the editor last read it, dB (≤ 0).
    pub deess_gr_db: AtomicF32,
    /// The feedback suppressor's notches as of the last block: frequency (0: none) and depth in
    /// dB (negative for a fixed notch); and how many howls it has found since its last reset.
    pub fb_notch_freq: [AtomicF32; crate::dsp::feedback::NOTCHES],
    pub fb_notch_depth: [AtomicF32; crate::dsp::feedback::NOTCHES],
    pub fb_found: AtomicU32,
    /// How many growing howls it has had in sight since its last reset: those found and those
    /// still too quiet to notch (each urges the canceller).
    pub fb_heard: AtomicU32,
    /// The vocoder's bands in use and each one's voice level (amplitude) as of the last block,
    /// how unvoiced the voice was (0..1), and the MIDI notes held.
    pub voc_bands: AtomicU32,
    pub voc_levels: BandLevels,
    pub voc_unvoiced: AtomicF32,
    pub voc_notes: AtomicU32,
    /// Time `process()` took over the block's deadline (block length ÷ sample rate): the last
    /// block's, and the highest since the editor last read it.
    pub dsp_load: AtomicF32,
    pub dsp_load_peak: AtomicF32,
    /// Blocks whose processing took longer than their deadline, since the plugin was created.
    pub overloads: AtomicU32,
    /// Set by the editor while it is open, so work that only it needs can be skipped.
    pub editor_open: AtomicBool,
    /// The reading end of the spectrum's sample queue. Only editors touch the mutex (the one that
    /// opens takes the consumer, and gives it back when it closes); the audio thread holds the
    /// producer and never locks.
    pub spectrum_rx: Mutex<Option<rtrb::Consumer<f32>>>,
    /// Counts this bridge among the live objects (see `crate::livechain_live_objects`).
    pub _live: LiveToken,
}

impl Bridge {
    pub fn latency(&self) -> u32 {
        self.latency_samples.load(Ordering::Relaxed)
    }

    /// The feedback suppressor's notches as last published: (frequency, depth in dB, fixed).
    /// Not for the audio thread (it allocates).
    pub fn fb_notches(&self) -> Vec<(f32, f32, bool)> {
        self.fb_notch_freq
            .iter()
            .zip(&self.fb_notch_depth)
            .filter_map(|(f, d)| {
                let (f, d) = (f.load(Ordering::Relaxed), d.load(Ordering::Relaxed));
                (f > 0.0).then_some((f, d.abs(), d < 0.0))
            })
            .collect()
    }
}

/// One level per vocoder band (an array this long has no `Default` of its own).
#[derive(Debug)]
pub struct BandLevels(pub [AtomicF32; crate::dsp::vocoder::bank::MAX_BANDS]);

impl Default for BandLevels {
    fn default() -> Self {
        Self(std::array::from_fn(|_| AtomicF32::new(0.0)))
    }
}

impl std::ops::Deref for BandLevels {
    type Target = [AtomicF32];
    fn deref(&self) -> &[AtomicF32] {
        &self.0
    }
}

static LIVE_OBJECTS: AtomicUsize = AtomicUsize::new(0);

/// Held by every plugin instance and every editor bridge: the count of live ones returns to zero
/// when a host has destroyed every instance it made, so a leak test can see a leaked instance or
/// an editor that kept its bridge alive.
#[derive(Debug)]
pub struct LiveToken(());
impl Default for LiveToken {
    fn default() -> Self {
        LIVE_OBJECTS.fetch_add(1, Ordering::Relaxed);
        LiveToken(())
    }
}
impl Drop for LiveToken {
    fn drop(&mut self) {
        LIVE_OBJECTS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Plugin instances plus bridges alive in this process (see `crate::livechain_live_objects`).
pub fn live_objects() -> usize {
    LIVE_OBJECTS.load(Ordering::Relaxed)
}
