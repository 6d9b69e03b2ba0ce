//! The output's meters on the audio thread: RMS, loudness and true peak, published through the
//! shared taps the bridge holds; the samples for the spectrum analyzer. The RMS meters and the spectrum are momentary
//! displays, so they run only while the editor is open; loudness and the true-peak maximum
//! measure the whole programme and always run.

use super::loudness_meter::LoudnessMeter;
use super::loudness_meter::LoudnessShared;
use super::rms::RmsMeter;
use super::rms::RmsTap;
use super::true_peak::TruePeakMeter;
use std::sync::atomic::Ordering;

/// Samples the spectrum queue holds: ~0.7 s at 48 kHz, plenty between two editor frames.
pub const SPECTRUM_QUEUE: usize = 32_768;

#[derive(Debug, Clone, Default)]
pub struct OutputMeters {
    rms: RmsMeter,
    rms_live: Reopened,
    loudness: LoudnessMeter,
    true_peak: TruePeakMeter,
}

/// Tells when the editor has opened since the last block: a meter that only runs while it is
/// open (RMS, a window over the last 300 ms) starts afresh then, not from what it held when
/// the editor closed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reopened {
    open: bool,
}

impl Reopened {
    /// Records whether the editor is open now; true when it was closed at the last call.
    pub fn update(&mut self, open: bool) -> bool {
        let opened = open && !self.open;
        self.open = open;
        opened
    }

    /// Whether the editor was open at the last `update`.
    pub fn is_open(&self) -> bool {
        self.open
    }
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

    /// Measures one block of the plugin's output into `rms` (only while `editor_open`) and
    /// `loudness`, and feeds the spectrum's queue. Real-time safe: no allocation, no lock.
    pub fn process(
        &mut self,
        buffer: &[&mut [f32]],
        editor_open: bool,
        rms: &RmsTap,
        loudness: &LoudnessShared,
        spectrum: &mut rtrb::Producer<f32>,
    ) {
        let n_ch = buffer.len().min(2);
        let mut chans: [&[f32]; 2] = [&[], &[]];
        for (dst, src) in chans.iter_mut().zip(buffer.iter()) {
            *dst = src;
        }
        let chans = &chans[..n_ch];
        if self.rms_live.update(editor_open) {
            self.rms.reset();
        }
        if editor_open {
            for (ch, block) in chans.iter().enumerate() {
                self.rms.feed(ch, block, rms);
            }
        }
        // Loudness and the true-peak maximum are measurements of the whole programme since the
        // reset button: they go on while the editor is closed.
        self.loudness.process(chans, loudness);
        let known = std::array::from_fn(|ch| loudness.true_peak[ch].load(Ordering::Relaxed));
        let tp = self.true_peak.process_above(chans, known);
        for (ch, &p) in tp.iter().enumerate().take(n_ch) {
            loudness.true_peak[ch].fetch_max(p, Ordering::Relaxed);
        }
        if editor_open && n_ch > 0 {
            let len = chans[0].len().min(spectrum.slots());
            if let Ok(chunk) = spectrum.write_chunk_uninit(len) {
                let scale = 1.0 / n_ch as f32;
                chunk.fill_from_iter((0..len).map(|i| chans.iter().map(|c| c[i]).sum::<f32>() * scale));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// What the plugin's bridge holds for these meters.
    #[derive(Default)]
    struct Taps {
        editor_open: AtomicBool,
        output_rms: RmsTap,
        loudness: LoudnessShared,
    }

    fn sine(amp: f32, n: usize, start: usize) -> Vec<f32> {
        (start..start + n).map(|i| amp * (std::f32::consts::TAU * 997.0 * i as f32 / 48_000.0).sin()).collect()
    }

    /// With the editor closed the RMS meter is left out while loudness and the true-peak
    /// maximum go on measuring (the loudness reset starts a new true-peak maximum too); once it opens, the RMS meter reads the signal that is playing
    /// (a 0.5-amplitude sine: 0.354), not what it held from before.
    #[test]
    fn momentary_meters_run_only_while_the_editor_is_open() {
        let bridge = Taps::default();
        let (mut spectrum, _rx) = rtrb::RingBuffer::<f32>::new(SPECTRUM_QUEUE);
        let mut meters = OutputMeters::default();
        meters.prepare(48_000.0);
        let mut t = 0;
        let mut run = |meters: &mut OutputMeters, amp: f32, seconds: f32| {
            for _ in 0..(seconds * 48_000.0 / 64.0) as usize {
                let (mut l, mut r) = (sine(amp, 64, t), sine(amp, 64, t));
                t += 64;
                meters.process(
                    &[&mut l, &mut r],
                    bridge.editor_open.load(Ordering::Relaxed),
                    &bridge.output_rms,
                    &bridge.loudness,
                    &mut spectrum,
                );
            }
        };
        // Open: a loud passage, then the editor closes.
        bridge.editor_open.store(true, Ordering::Relaxed);
        run(&mut meters, 0.9, 0.5);
        assert!((bridge.output_rms.get(0) - 0.9 * std::f32::consts::FRAC_1_SQRT_2).abs() < 0.01);
        bridge.editor_open.store(false, Ordering::Relaxed);
        run(&mut meters, 0.5, 1.0);
        // Closed: the RMS tap still holds the loud passage; loudness followed the quieter sine.
        assert!((bridge.output_rms.get(0) - 0.9 * std::f32::consts::FRAC_1_SQRT_2).abs() < 0.01);
        let m = bridge.loudness.momentary.load(Ordering::Relaxed);
        // A full-scale 997 Hz sine reads −3.01 LUFS in one channel, 0 LUFS in both (BS.1770's
        // channel sum); at amplitude 0.5, 20·log10(0.5) = −6.02 under that.
        assert!((m - (-6.02)).abs() < 0.1, "momentary {m} LUFS");
        bridge.loudness.reset();
        run(&mut meters, 0.5, 0.1);
        let tp = bridge.loudness.true_peak_max();
        assert!((tp - 0.5).abs() < 0.005, "true peak {tp}");
        // Open again: 100 ms in, a fresh 300 ms window holds a third of a window of the sine.
        bridge.editor_open.store(true, Ordering::Relaxed);
        run(&mut meters, 0.5, 0.1);
        let want = 0.5 * std::f32::consts::FRAC_1_SQRT_2 * (1.0f32 / 3.0).sqrt();
        let got = bridge.output_rms.get(0);
        assert!((got - want).abs() < 0.01, "RMS {got}, want {want} (a fresh window)");
        run(&mut meters, 0.5, 0.4);
        assert!((bridge.output_rms.get(0) - 0.5 * std::f32::consts::FRAC_1_SQRT_2).abs() < 0.005);
    }
}
