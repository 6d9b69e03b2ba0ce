//! The output's meters on the audio thread: RMS, loudness and true peak, published through the
//! bridge; and the samples for the spectrum analyzer, queued only while the editor is open.

use super::loudness_meter::LoudnessMeter;
use super::rms::RmsMeter;
use super::true_peak::TruePeakMeter;
use crate::bridge::Bridge;
use std::sync::atomic::Ordering;

/// Samples the spectrum queue holds: ~0.7 s at 48 kHz, plenty between two editor frames.
pub const SPECTRUM_QUEUE: usize = 32_768;

#[derive(Debug, Clone, Default)]
pub struct OutputMeters {
    rms: RmsMeter,
    loudness: LoudnessMeter,
    true_peak: TruePeakMeter,
}

impl OutputMeters {
    pub fn prepare(&mut self, sample_rate: f64) {
        self.rms = RmsMeter::new(sample_rate);
        self.loudness = LoudnessMeter::new(sample_rate);
        self.true_peak = TruePeakMeter::default();
    }

    pub fn reset(&mut self) {
        self.rms.reset();
        self.loudness.reset();
        self.true_peak.reset();
    }

    /// Measures one block of the plugin's output. Real-time safe: no allocation, no lock.
    pub fn process(&mut self, buffer: &[&mut [f32]], bridge: &Bridge, spectrum: &mut rtrb::Producer<f32>) {
        let n_ch = buffer.len().min(2);
        let mut chans: [&[f32]; 2] = [&[], &[]];
        for (dst, src) in chans.iter_mut().zip(buffer.iter()) {
            *dst = src;
        }
        let chans = &chans[..n_ch];
        for (ch, block) in chans.iter().enumerate() {
            self.rms.feed(ch, block, &bridge.output_rms);
        }
        self.loudness.process(chans, &bridge.loudness);
        let tp = self.true_peak.process(chans);
        for (ch, &p) in tp.iter().enumerate().take(n_ch) {
            bridge.true_peak[ch].fetch_max(p, Ordering::Relaxed);
        }
        if bridge.editor_open.load(Ordering::Relaxed) && n_ch > 0 {
            let len = chans[0].len().min(spectrum.slots());
            if let Ok(chunk) = spectrum.write_chunk_uninit(len) {
                let scale = 1.0 / n_ch as f32;
                chunk.fill_from_iter((0..len).map(|i| chans.iter().map(|c| c[i]).sum::<f32>() * scale));
            }
        }
    }
}
