//! Everything that crosses between the audio thread and the editor: only atomics.

use crate::analysis::peak::PeakTap;
use atomic_float::AtomicF32;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

#[derive(Debug, Default)]
pub struct Bridge {
    /// Input peaks, measured after the input gain (what the chain receives).
    pub input_peak: PeakTap,
    /// Output peaks, measured on what leaves the plugin.
    pub output_peak: PeakTap,
    pub sample_rate: AtomicF32,
    pub max_block: AtomicU32,
    pub channels: AtomicU32,
    pub latency_samples: AtomicU32,
    /// The compressor's deepest gain reduction since the editor last read it, dB (≤ 0).
    pub gain_reduction_db: AtomicF32,
    /// Time `process()` took over the block's deadline (block length ÷ sample rate): the last
    /// block's, and the highest since the editor last read it.
    pub dsp_load: AtomicF32,
    pub dsp_load_peak: AtomicF32,
    /// Set by the editor while it is open, so work that only it needs can be skipped.
    pub editor_open: AtomicBool,
}

impl Bridge {
    pub fn latency(&self) -> u32 {
        self.latency_samples.load(Ordering::Relaxed)
    }
}
