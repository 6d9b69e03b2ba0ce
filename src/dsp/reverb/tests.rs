//! The reverb's own tests: its SIMD forms against their scalar references, block sizes,
//! held settings and runs against frame-by-frame processing.

use super::*;

/// The eight-lane forms give bit-for-bit the scalar results (the reverb's sound depends on
/// it: tests/output_hash.rs pins it), and the LFO shape stays within 0.11 % of full scale of a sine.
#[test]
fn simd_lanes_match_the_scalar_forms_bit_for_bit() {
    let mut seed = 7u32;
    let mut next = move || crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32;
    for _ in 0..2_000 {
        let phase: [f32; 8] = std::array::from_fn(|_| next());
        let sin8 = fast_sin8(f32x8::new(phase)).to_array();
        for i in 0..8 {
            assert_eq!(sin8[i].to_bits(), fast_sin(phase[i]).to_bits());
            assert!((sin8[i] - (std::f32::consts::TAU * phase[i]).sin()).abs() < 1.1e-3);
        }
        let x: [[f32; 8]; 5] = std::array::from_fn(|_| std::array::from_fn(|_| next() * 2.0 - 1.0));
        let (mut fast, mut slow) = (x[0], x[0]);
        hadamard8_simd(&mut fast);
        hadamard8(&mut slow);
        assert_eq!(fast.map(f32::to_bits), slow.map(f32::to_bits));
        let h = hermite8(f32x8::new(x[0]), f32x8::new(x[1]), f32x8::new(x[2]), f32x8::new(x[3]), f32x8::new(x[4])).to_array();
        for i in 0..8 {
            let t = x[4][i];
            assert_eq!(h[i].to_bits(), super::super::delay::hermite(x[0][i], x[1][i], x[2][i], x[3][i], t).to_bits());
        }
    }
}

/// The SSE gather reads the same samples and fractions as the scalar form, at every offset
/// of the write index (across the wrap and the guard) and delays from 4 to the longest.
/// The control-rate LFOs stay on their sines: sample n of line i is within 0.0015 of
/// sin(2π(i/8 + (n + 1)·f_i/fs)) (the parabolic sine's own error is 0.0011; the line between
/// control points adds under 1e-5), at 8 and 48 kHz, over two minutes of phase wraps.
#[test]
fn the_lfos_follow_their_sines() {
    for sr in [8_000.0f32, 48_000.0] {
        let mut r = Reverb::default();
        r.prepare(sr);
        let mut worst = 0.0f64;
        for n in 0..(120.0 * sr) as usize {
            let got = r.lfo.next().to_array();
            for i in 0..LINES {
                let phase = i as f64 / LINES as f64 + (n + 1) as f64 * MOD_HZ[i] as f64 / sr as f64;
                worst = worst.max((got[i] as f64 - (2.0 * std::f64::consts::PI * phase).sin()).abs());
            }
        }
        eprintln!("{sr} Hz: largest difference {worst:.5}");
        assert!(worst < 0.0015, "{sr} Hz: {worst}");
    }
}

/// A run pushed at once leaves the buffer, guard copies included, exactly as frame-by-frame
/// pushes do, for runs of every length from every write offset (across the wrap and the
/// guard).
#[test]
fn a_pushed_run_equals_pushes_one_by_one() {
    let mut seed = 8u32;
    let (mut a, mut b) = (Lines::new(60), Lines::new(60));
    for m in (1..=13).cycle().take(400) {
        let frames: Vec<[f32; LINES]> = (0..m).map(|_| std::array::from_fn(|_| crate::dsp::xorshift32(&mut seed) as f32)).collect();
        a.push_run(&frames);
        for f in &frames {
            b.push(f);
        }
        assert_eq!(a.write, b.write);
        assert!(a.buf.iter().zip(&b.buf).all(|(x, y)| x.to_bits() == y.to_bits()), "run of {m} at {}", a.write);
    }
}

/// The steady form gives, bit for bit, what the general form gives for the same held
/// settings, through holds of every kind (size, decay, pre-delay, reflections off and on,
/// modulation, width), a fade, odd block sizes, mono and stereo, 8 and 48 kHz.
#[test]
fn the_steady_form_matches_the_general_form() {
    for (rate, channels) in [(8_000.0f32, 2usize), (48_000.0, 2), (48_000.0, 1)] {
        let (mut a, mut b) = (Reverb::default(), Reverb::default());
        a.prepare(rate);
        b.prepare(rate);
        let mut seed = 14u32;
        let input = |t: usize| if t % 20_000 < 4_000 { crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5 } else { 0.0 };
        let hold = |h: usize| ReverbSettings {
            predelay_ms: [10.0, 0.0, 180.0][h % 3],
            size: [0.5, 0.0, 1.0, 0.3][h % 4],
            decay_s: [1.2, 0.3, 6.0][h % 3],
            damping: 0.4,
            modulation: [0.2, 0.0, 1.0][h % 3],
            width: [1.0, 0.3][h % 2],
            early: [0.3, 0.0][h % 2],
            mix: 0.5,
        };
        let fade = |t: usize| ((t as f32 * 0.0003).sin() * 0.8 + 0.6).clamp(0.0, 1.0);
        let sizes = [64usize, 1, 77, 128, 3, 100];
        crate::dsp::block_test::assert_steady_matches_general(&mut a, &mut b, channels, &sizes, 1_200, 50, input, hold, fade, |_, _| {});
    }
}

#[test]
fn the_gather_matches_the_scalar_form() {
    let mut lines = Lines::new(300);
    let mut seed = 11u32;
    let mut next = move || crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32;
    for step in 0..3 * lines.len {
        let v: [f32; LINES] = std::array::from_fn(|_| next() - 0.5);
        lines.push(&v);
        for at in [0, 1, 7] {
            let d: [f32; LINES] =
                std::array::from_fn(|i| if i == step % LINES { lines.max_delay() } else { 4.0 + next() * (lines.max_delay() - 4.0) });
            let (fast, slow) = (lines.gather().taps(&d, at), lines.gather().taps_scalar(&d, at));
            assert_eq!(fast.0.map(|r| r.map(f32::to_bits)), slow.0.map(|r| r.map(f32::to_bits)), "step {step} at {at}");
            assert_eq!(fast.1.map(f32::to_bits), slow.1.map(f32::to_bits));
        }
    }
}

/// Blocks of any size give, bit for bit, what frame after frame gives, through stretches
/// where every setting holds and stretches where size, decay, pre-delay, modulation, early
/// reflections and the rest move every sample (so runs end at every sample), a fade, mono
/// and stereo, odd block sizes, and 8 kHz, where a diffuser's delay (24 samples) and the
/// shortest line (≈ 84 samples) are shorter than a block.
#[test]
fn any_block_size_gives_the_same_bits() {
    for (rate, channels) in [(48_000.0, 2usize), (48_000.0, 1), (8_000.0, 2)] {
        let (mut a, mut b) = (Reverb::default(), Reverb::default());
        a.prepare(rate);
        b.prepare(rate);
        let mut seed = 3u32;
        let input = |t: usize| {
            let noise = crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5;
            if t % 9_000 < 3_000 {
                noise
            } else {
                0.0
            }
        };
        let settings = |t: usize| {
            let x = t as f32;
            if (t / 5_000).is_multiple_of(2) {
                // Holding still (one run per block, as far as the delays allow).
                ReverbSettings { size: 0.2 + 0.1 * (t / 10_000) as f32, ..ReverbSettings::default() }
            } else {
                ReverbSettings {
                    predelay_ms: 20.0 + 15.0 * (x * 0.001).sin(),
                    size: 0.5 + 0.5 * (x * 0.0003).sin(),
                    decay_s: 1.0 + 0.8 * (x * 0.0005).cos(),
                    damping: 0.5 + 0.4 * (x * 0.0007).sin(),
                    modulation: if t % 700 < 350 { 0.0 } else { 0.8 },
                    width: 0.5 + 0.5 * (x * 0.0011).sin(),
                    early: if t % 1_100 < 500 { 0.0 } else { 0.6 },
                    mix: 0.5,
                }
            }
        };
        let fade = |t: usize| ((t as f32 * 0.0002).sin() * 0.8 + 0.6).clamp(0.0, 1.0);
        let sizes = [128usize, 1, 77, 128, 3, 64, 128, 100];
        crate::dsp::block_test::assert_blocks_match_frames(&mut a, &mut b, channels, &sizes, 500, input, settings, fade, |a, b| {
            assert_eq!(a.damp_state.map(f32::to_bits), b.damp_state.map(f32::to_bits));
            assert_eq!(a.lfo.phase.map(f64::to_bits), b.lfo.phase.map(f64::to_bits));
        });
        assert!(a.damp_state.iter().any(|&x| x.abs() > 1e-4), "the test must fill the lines");
    }
}

/// `Lfo::advance(n)` leaves the LFOs where `n` calls of `next` leave them, for every count
/// across period boundaries and far beyond (the phases to 1e-9, the line to 1e-6).
#[test]
fn lfo_advance_equals_stepping() {
    let mut r = Reverb::default();
    r.prepare(48_000.0);
    for (start, n) in [(0u64, 0u64), (3, 1), (5, 11), (7, 16), (1, 17), (0, 1_000), (9, 48_000 * 7 + 5)] {
        let (mut a, mut b) = (r.lfo.clone(), r.lfo.clone());
        for _ in 0..start {
            a.next();
            b.next();
        }
        a.advance(n);
        for _ in 0..n {
            b.next();
        }
        assert_eq!(a.filled, b.filled, "{start} + {n}");
        for i in 0..LINES {
            assert!((a.phase[i] - b.phase[i]).abs() < 1e-9, "{start} + {n}: phase {i}");
            assert!((a.from[i] - b.from[i]).abs() < 1e-6 && (a.to[i] - b.to[i]).abs() < 1e-6, "{start} + {n}: line {i}");
        }
        let (x, y) = (a.next().to_array(), b.next().to_array());
        for i in 0..LINES {
            assert!((x[i] - y[i]).abs() < 1e-6, "{start} + {n}: value {i}");
        }
    }
}
