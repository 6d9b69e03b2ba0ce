//! The vocoder against theory: band centres and gains against the bilinear design, envelope
//! times against the band filters' own rise and the follower's time constant, the bank's flat
//! sum, the unvoiced swap, the carrier's pitch, the formant shift, block invariance.

use super::bank::{Bank, Layout, MAX_BANDS};
use super::synth::{note_hz, Chord, Wave};
use super::*;
use crate::dsp::eq::design::SvfCoefs;
use crate::dsp::xorshift32;
use realfft::RealFftPlanner;
use std::f64::consts::PI;

/// |H(e^{j2πf/fs})| of an impulse response, by a rotating phasor.
fn dtft_mag(h: &[f32], f: f64, fs: f64) -> f64 {
    let w = -2.0 * PI * f / fs;
    let (c, s) = (w.cos(), w.sin());
    let (mut pr, mut pi) = (1.0f64, 0.0f64);
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for &x in h {
        re += x as f64 * pr;
        im += x as f64 * pi;
        (pr, pi) = (pr * c - pi * s, pr * s + pi * c);
    }
    (re * re + im * im).sqrt()
}

/// The frequency of |H|'s peak between `a` and `b` (golden-section search, log axis).
fn peak(h: &[f32], fs: f64, a: f64, b: f64) -> f64 {
    let (mut a, mut b) = (a.ln(), b.ln());
    let r = (5f64.sqrt() - 1.0) / 2.0;
    while b - a > 1e-6 {
        let (c, d) = (b - r * (b - a), a + r * (b - a));
        if dtft_mag(h, c.exp(), fs) > dtft_mag(h, d.exp(), fs) {
            b = d;
        } else {
            a = c;
        }
    }
    ((a + b) / 2.0).exp()
}

#[test]
fn every_band_is_stable_and_centred_within_one_percent_at_every_rate() {
    for fs in [44_100.0f32, 48_000.0, 96_000.0, 192_000.0] {
        for shift in [0.0, 7.0, -12.0] {
            let mut bank = Bank::default();
            bank.prepare(fs);
            bank.set_layout(Layout { count: MAX_BANDS, lo: 100.0, hi: Layout::top(fs), width: 1.0, shift });
            let l = bank.layout();
            assert_eq!(l.count, MAX_BANDS);
            for k in 0..l.count {
                for carrier in [false, true] {
                    let fc = if carrier { l.carrier_centre(k, fs) } else { l.centre(k) } as f64;
                    // Twelve of the band's decay time constants (Q/(π fc)): the response is then
                    // down by e^-12 and the tail tells stability.
                    // (Near Nyquist the bilinear map narrows the band: its decay is slower, so the
                    // length doubles until the tail has fallen, up to a limit.)
                    let mut len = (12.0 * l.q() as f64 / (PI * fc) * fs as f64) as usize + 64;
                    let h = loop {
                        let h = bank.band_impulse(k, carrier, len);
                        let head: f64 = h[..len / 2].iter().map(|x| (*x as f64).powi(2)).sum();
                        let tail: f64 = h[len * 9 / 10..].iter().map(|x| (*x as f64).powi(2)).sum();
                        if h.iter().all(|x| x.is_finite()) && tail < head * 1e-6 {
                            break h;
                        }
                        len *= 2;
                        assert!(len < 1 << 22, "fs {fs} band {k} carrier {carrier}: its impulse response does not decay");
                    };
                    let f = peak(&h, fs as f64, fc / 1.3, (fc * 1.3).min(fs as f64 * 0.499));
                    assert!(
                        (f / fc - 1.0).abs() < 0.01,
                        "fs {fs} shift {shift} band {k} carrier {carrier}: peak {f:.2} Hz for a centre {fc:.2}"
                    );
                    let g = dtft_mag(&h, fc, fs as f64);
                    assert!((g - 1.0).abs() < 0.01, "fs {fs} band {k}: gain {g} at the centre, not 1");
                }
            }
        }
    }
}

/// A vocoder at 48 kHz with `layout`, attack/release, and a carrier.
fn settings(layout: Layout, carrier: Carrier) -> VocoderSettings {
    VocoderSettings { layout, carrier, ..VocoderSettings::default() }
}

fn run(v: &mut Vocoder, input: &[f32], side: &[f32], s: VocoderSettings) -> Vec<f32> {
    let mut out = input.to_vec();
    let mut clock = 0u64;
    for (block, carrier) in out.chunks_mut(128).zip(side.chunks(128).chain(std::iter::repeat(&[][..]))) {
        let n = block.len();
        let fade = [1.0f32; 128];
        let sides: &[&[f32]] = if carrier.is_empty() { &[] } else { &[carrier] };
        v.process_block(&mut [block], sides, clock, |_| s, &fade[..n]);
        clock += n as u64;
    }
    out
}

fn noise(n: usize, seed: u32, amp: f32) -> Vec<f32> {
    let mut st = seed;
    (0..n).map(|_| (xorshift32(&mut st) as i32) as f32 * (amp / 2_147_483_648.0)).collect()
}

#[test]
fn envelopes_follow_a_burst_within_a_db_in_2_ms_beyond_the_band_filters_own_rise() {
    let fs = 48_000.0f32;
    let layout = Layout::default();
    let s = VocoderSettings { attack_ms: 0.5, release_ms: 40.0, ..settings(layout, Carrier::Noise) };
    // The envelope of two equal resonators in series switched on at their centre:
    // 1 − (1 + σt)·e^(−σt), σ = π·fc/Q; within 1 dB when that reaches 10^(−1/20).
    let within = 10f64.powf(-1.0 / 20.0);
    let x_1db = {
        let (mut a, mut b) = (0.0f64, 20.0);
        for _ in 0..100 {
            let m = 0.5 * (a + b);
            if 1.0 - (1.0 + m) * (-m).exp() < within {
                a = m
            } else {
                b = m
            }
        }
        a
    };
    let mut report = Vec::new();
    for k in 0..layout.count {
        let mut v = Vocoder::default();
        v.prepare(fs);
        let fc = layout.centre(k);
        let len = (0.3 * fs) as usize;
        let amp = 0.5f32;
        let mut levels = Vec::with_capacity(len);
        for i in 0..len {
            let x = amp * (2.0 * std::f32::consts::PI * fc * i as f32 / fs).sin();
            let mut frame = [x];
            v.process_block(&mut [&mut frame[..]], &[], i as u64, |_| s, &[1.0]);
            levels.push(v.band_level(k));
        }
        let last = *levels.last().unwrap();
        assert!((20.0 * (last / amp).log10()).abs() < 0.2, "band {k} ({fc:.0} Hz): settles at {last}, not the sine's {amp}");
        let t = levels.iter().position(|&l| l as f64 >= last as f64 * within).unwrap() as f64 / fs as f64;
        let sigma = std::f64::consts::PI * fc as f64 / layout.q() as f64;
        let own = x_1db / sigma;
        report.push(format!("{fc:.0} Hz: {:.2} ms (filters alone {:.2} ms)", t * 1e3, own * 1e3));
        assert!(t <= own + 0.002, "band {k} ({fc:.0} Hz): within 1 dB after {:.2} ms, its filters alone {:.2} ms", t * 1e3, own * 1e3);
        if own <= 0.001 {
            assert!(t <= 0.002, "band {k} ({fc:.0} Hz): {:.2} ms", t * 1e3);
        }
    }
    println!("1 dB rise per band at 0.5 ms attack: {}", report.join(", "));
}

/// The energy of `x` between `f1` and `f2` Hz (Parseval over one FFT of the whole signal).
fn band_energy(x: &[f32], fs: f32, f1: f32, f2: f32) -> f64 {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(x.len());
    let mut input = x.to_vec();
    let mut spec = fft.make_output_vec();
    fft.process(&mut input, &mut spec).unwrap();
    let bin = fs / x.len() as f32;
    spec.iter().enumerate().filter(|(i, _)| (*i as f32 * bin) >= f1 && (*i as f32 * bin) < f2).map(|(_, c)| c.norm_sqr() as f64).sum()
}

#[test]
fn a_flat_voice_on_a_flat_carrier_comes_out_flat_at_its_own_level() {
    let fs = 48_000.0;
    for count in [4, 16, 64] {
        let layout = Layout { count, ..Layout::default() };
        let mut v = Vocoder::default();
        v.prepare(fs);
        let s = VocoderSettings { unvoiced: 0.0, ..settings(layout, Carrier::Noise) };
        let x = noise(2 * 48_000, 7, 0.2);
        let y = run(&mut v, &x, &[], s);
        let (x, y) = (&x[9600..], &y[9600..]);
        let mut worst = 0.0f64;
        let mut line = String::new();
        // Third octaves from a band above the lowest centre to a band below the highest.
        let mut f = 200.0f32;
        while f * 1.26 < 7_000.0 {
            let ratio = band_energy(y, fs, f, f * 1.26) / band_energy(x, fs, f, f * 1.26);
            let db = 10.0 * ratio.log10();
            line.push_str(&format!(" {f:.0}:{db:+.1}"));
            worst = worst.max(db.abs());
            f *= 1.26;
        }
        println!("{count} bands, output over input by third octave (Hz:dB):{line}");
        assert!(worst < 2.0, "{count} bands: a third octave {worst:.2} dB off the voice's level");
    }
}

#[test]
fn the_detector_tells_a_vowel_from_a_hiss() {
    let fs = 48_000.0f32;
    let mut v = Vocoder::default();
    v.prepare(fs);
    // A vowel-like buzz: a 150 Hz saw (its harmonics fall 6 dB an octave).
    let mut vowel = 0.0f64;
    for i in 0..24_000 {
        let t = (i as f32 * 150.0 / fs).fract();
        let u = v.unvoiced(0.3 * (2.0 * t - 1.0));
        if i > 4_800 {
            vowel += u as f64;
        }
    }
    let mut hiss = 0.0f64;
    for (i, x) in noise(24_000, 3, 0.1).into_iter().enumerate() {
        let u = v.unvoiced(x);
        if i > 4_800 {
            hiss += u as f64;
        }
    }
    let n = (24_000 - 4_801) as f64;
    assert!(vowel / n < 0.05, "a vowel reads {:.2} unvoiced", vowel / n);
    assert!(hiss / n > 0.95, "a hiss reads {:.2} unvoiced", hiss / n);
}

#[test]
fn a_hiss_keeps_its_energy_between_4_and_10_khz_over_a_saw() {
    let fs = 48_000.0;
    // An /s/-like hiss: white noise through two high-pass sections at 4 kHz.
    let g = (std::f32::consts::PI * 4_000.0 / fs).tan();
    let k = std::f32::consts::SQRT_2;
    let hp = SvfCoefs::simper(g, k, [1.0, -k, -1.0]);
    let mut st = [[0.0f32; 2]; 2];
    let x: Vec<f32> = noise(48_000, 11, 0.3).into_iter().map(|v| st.iter_mut().fold(v, |v, s| hp.tick(s, v))).collect();
    for unvoiced in [1.0, 0.0] {
        let mut v = Vocoder::default();
        v.prepare(fs);
        let y = run(&mut v, &x, &[], VocoderSettings { unvoiced, ..settings(Layout::default(), Carrier::Synth) });
        let db = 10.0 * (band_energy(&y[4800..], fs, 4_000.0, 10_000.0) / band_energy(&x[4800..], fs, 4_000.0, 10_000.0)).log10();
        println!("unvoiced {unvoiced}: 4-10 kHz {db:+.2} dB");
        if unvoiced == 1.0 {
            assert!(db.abs() < 3.0, "the hiss's 4-10 kHz energy moved {db:.2} dB");
        }
    }
}

/// The period of `x` by autocorrelation, between 50 and 1000 Hz, refined by a parabola.
fn pitch(x: &[f32], fs: f32) -> f32 {
    let ac = |lag: usize| -> f64 { x[..x.len() - lag].iter().zip(&x[lag..]).map(|(a, b)| (*a * *b) as f64).sum() };
    let (lo, hi) = ((fs / 1000.0) as usize, (fs / 50.0) as usize);
    let r0 = ac(0);
    let lags: Vec<f64> = (0..=hi + 1).map(|l| if l >= lo { ac(l) } else { r0 }).collect();
    // The first lag whose correlation is within 10 % of the best: the fundamental, not a multiple.
    let best = lags[lo..=hi].iter().cloned().fold(f64::MIN, f64::max);
    let mut l = lo;
    while l < hi && !(lags[l] >= 0.9 * best && lags[l] >= lags[l - 1] && lags[l] >= lags[l + 1]) {
        l += 1;
    }
    let (a, b, c) = (lags[l - 1], lags[l], lags[l + 1]);
    let shift = 0.5 * (a - c) / (a - 2.0 * b + c);
    fs / (l as f64 + shift) as f32
}

#[test]
fn the_output_sings_the_played_note_and_the_held_chord_when_none_is_played() {
    let fs = 48_000.0f32;
    let mut v = Vocoder::default();
    v.prepare(fs);
    let voice = noise(48_000, 5, 0.2);
    let synth = SynthSettings { wave: Wave::Saw, hold: true, root: 45, chord: Chord::Single };
    let s = VocoderSettings { unvoiced: 0.0, synth, ..settings(Layout::default(), Carrier::Synth) };
    // 0.5 s of the held chord (A2, 110 Hz), then MIDI note 57 (A3, 220 Hz) from 0.5 s, released
    // at 1 s... and the chord back.
    v.push_note(24_000, NoteMsg::On { note: 57, velocity: 0.8 });
    v.push_note(48_000, NoteMsg::Off { note: 57 });
    let mut long = voice.clone();
    long.extend(noise(24_000, 9, 0.2));
    let y = run(&mut v, &long, &[], s);
    for (from, want) in [(4_800, 110.0), (28_800, note_hz(57.0)), (62_400, 110.0)] {
        let got = pitch(&y[from..from + 9_600], fs);
        assert!((got / want - 1.0).abs() < 0.01, "from sample {from}: pitch {got:.2} Hz, the note is {want:.2} Hz");
    }
}

/// The energy-weighted mean of log2(f) of `x` between 100 Hz and 12 kHz.
fn log_centroid(x: &[f32], fs: f32) -> f32 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    let mut f = 100.0f32;
    while f < 12_000.0 {
        let e = band_energy(x, fs, f, f * 1.06);
        num += e * (f * 1.03).log2() as f64;
        den += e;
        f *= 1.06;
    }
    (num / den) as f32
}

#[test]
fn the_formant_shift_moves_the_voices_spectrum_by_its_interval() {
    let fs = 48_000.0f32;
    let tone: Vec<f32> = (0..48_000).map(|i| 0.3 * (2.0 * std::f32::consts::PI * 1_000.0 * i as f32 / fs).sin()).collect();
    for shift in [-12.0f32, 0.0, 7.0, 12.0] {
        let mut v = Vocoder::default();
        v.prepare(fs);
        let s = VocoderSettings { unvoiced: 0.0, ..settings(Layout { count: 32, shift, ..Layout::default() }, Carrier::Noise) };
        let y = run(&mut v, &tone, &[], s);
        let got = log_centroid(&y[9_600..], fs);
        let want = 1_000f32.log2() + shift / 12.0;
        assert!((got - want).abs() < 0.1, "shift {shift}: the output centres at {:.0} Hz, not {:.0}", got.exp2(), want.exp2());
    }
}

#[test]
fn any_block_split_gives_the_same_bits() {
    let fs = 48_000.0f32;
    let input = noise(20_000, 13, 0.3);
    let side = noise(20_000, 17, 0.3);
    let at = |i: usize| {
        let glide = (i as f32 / 20_000.0).min(1.0);
        VocoderSettings {
            carrier: if i < 10_000 { Carrier::Synth } else { Carrier::Sidechain },
            layout: Layout { lo: 100.0 + 200.0 * glide, shift: 5.0 * glide, ..Layout::default() },
            ..VocoderSettings::default()
        }
    };
    let mut outs: Vec<Vec<f32>> = Vec::new();
    for size in [1usize, 7, 64, 128] {
        let mut v = Vocoder::default();
        v.prepare(fs);
        v.push_note(3_000, NoteMsg::On { note: 60, velocity: 1.0 });
        v.push_note(9_000, NoteMsg::Off { note: 60 });
        let mut out = input.clone();
        let mut pos = 0;
        for block in out.chunks_mut(size) {
            let n = block.len();
            let fade = vec![1.0; n];
            let sides = [&side[pos..pos + n]];
            v.process_block(&mut [block], &sides, pos as u64, |i| at(pos + i), &fade);
            pos += n;
        }
        assert!(out.iter().all(|x| x.is_finite()));
        outs.push(out);
    }
    for o in &outs[1..] {
        assert!(o.iter().zip(&outs[0]).all(|(a, b)| a.to_bits() == b.to_bits()), "a block split changed the output");
    }
}
