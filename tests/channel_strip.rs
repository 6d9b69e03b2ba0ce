//! The gate and the de-esser against what they promise: the gate's onset, hysteresis, click
//! guard, release of a decaying note, range, lookahead and detector filters; the de-esser on
//! espeak-ng speech (sibilants down, vowels and a sentence without sibilants untouched, the same
//! at any input level). The EQ's theory tests are beside it (`dsp::eq::tests`).

use livechain::dsp::deesser::{DeEsser, DeEsserSettings};
use livechain::dsp::gate::{Gate, GateSettings};
use livechain::dsp::BlockStage;

const SR: f32 = 48_000.0;

fn db(x: f64) -> f64 {
    10.0 * x.max(1e-30).log10()
}

/// Runs the gate over a mono signal sample by sample; returns the output and, per sample,
/// whether it was open.
fn gate_run(g: &mut Gate, s: &GateSettings, x: &[f32]) -> (Vec<f32>, Vec<bool>) {
    let mut y = Vec::with_capacity(x.len());
    let mut open = Vec::with_capacity(x.len());
    for &v in x {
        let mut f = [v];
        g.tick(&mut f, s, 1.0);
        y.push(f[0]);
        open.push(g.is_open());
    }
    (y, open)
}

fn gate(s: &GateSettings) -> Gate {
    let mut g = Gate::default();
    g.prepare(SR);
    let la = g.lookahead_for(0.0);
    g.set_lookahead(la);
    let _ = s;
    g
}

fn noise(n: usize, amp: f32, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n).map(|_| (livechain::dsp::xorshift32(&mut s) as f32 / u32::MAX as f32 * 2.0 - 1.0) * amp).collect()
}

/// With zero latency, an onset from silence is within 1 dB of the input from its first
/// millisecond on (default settings: 0.1 ms attack), for sines starting at any phase and noise.
#[test]
fn an_onset_from_silence_loses_at_most_1_db_after_its_first_millisecond() {
    let s = GateSettings::default();
    let lead = 4_800;
    let ms = (SR / 1000.0) as usize;
    let amp = 0.1f32; // −20 dBFS, 30 dB over the threshold
    let mut cases: Vec<(String, Vec<f32>)> = Vec::new();
    for phase in [0.0f32, 0.7, 1.9, 3.1] {
        let w = std::f32::consts::TAU * 220.0 / SR;
        cases.push((format!("220 Hz at phase {phase}"), (0..9_600).map(|k| amp * (w * k as f32 + phase).sin()).collect()));
    }
    cases.push(("noise".into(), noise(9_600, amp, 7)));
    for (what, burst) in cases {
        let x: Vec<f32> = std::iter::repeat_n(0.0, lead).chain(burst.iter().copied()).collect();
        let mut g = gate(&s);
        let (y, _) = gate_run(&mut g, &s, &x);
        // Energy per millisecond after the first: the output against the input.
        for m in 1..(burst.len() / ms) {
            let r = lead + m * ms..lead + (m + 1) * ms;
            let (ex, ey): (f64, f64) =
                r.clone().map(|i| ((x[i] as f64).powi(2), (y[i] as f64).powi(2))).fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
            assert!(db(ey) - db(ex) > -1.0, "{what}: millisecond {m} lost {:.2} dB", db(ex) - db(ey));
        }
    }
}

/// A level wandering ±3 dB around the open threshold (a 1 kHz tone and noise, moving at 1 to 20
/// Hz) opens and closes at most once per 200 ms with the default 6 dB hysteresis.
#[test]
fn a_level_wandering_around_the_threshold_does_not_chatter() {
    let s = GateSettings::default();
    let secs = 4.0;
    let n = (secs * SR) as usize;
    for rate in [1.0f32, 3.0, 7.0, 20.0] {
        for tone in [true, false] {
            let mut g = gate(&s);
            let carrier = noise(n, 1.0, 3);
            let x: Vec<f32> = (0..n)
                .map(|k| {
                    let t = k as f32 / SR;
                    let level_db = s.threshold_db + 3.0 * (std::f32::consts::TAU * rate * t).sin();
                    let a = 10f32.powf(level_db / 20.0);
                    if tone {
                        a * (std::f32::consts::TAU * 1000.0 * t).sin()
                    } else {
                        // Noise whose peaks sit at the level (peak ≈ 1.0 of the carrier).
                        a * carrier[k]
                    }
                })
                .collect();
            let (_, open) = gate_run(&mut g, &s, &x);
            let changes = open.windows(2).filter(|w| w[0] != w[1]).count();
            let allowed = (secs / 0.2) as usize;
            assert!(changes <= allowed, "{rate} Hz wander, tone {tone}: {changes} changes in {secs} s");
        }
    }
}

/// At the fastest attack (0.05 ms) and release (5 ms), with no hold, a bass note and a high tone
/// gated on and off never make the output step further between two samples than the input itself
/// steps (the click guard), beyond the documented 1/(5 ms) glide for a still signal.
#[test]
fn the_fastest_gate_never_steps_further_than_the_signal() {
    let s = GateSettings { attack_ms: 0.05, release_ms: 5.0, hold_ms: 0.0, ..GateSettings::default() };
    let min_slew = 1.0 / (livechain::dsp::gate::MIN_SLEW_MS * 0.001 * SR);
    for f in [41.0f32, 110.0, 1_000.0, 5_000.0] {
        let mut g = gate(&s);
        let w = std::f32::consts::TAU * f / SR;
        // 60 ms on at −12 dBFS, 60 ms at −80 dBFS (far under the close threshold), repeated.
        let x: Vec<f32> = (0..(SR as usize)).map(|k| if (k / 2_880) % 2 == 0 { 0.25 } else { 1e-4 } * (w * k as f32).sin()).collect();
        let (y, open) = gate_run(&mut g, &s, &x);
        assert!(open.windows(2).filter(|w| w[0] != w[1]).count() >= 10, "{f} Hz: the gate must actually open and close");
        for i in 1..x.len() {
            let (dy, dx) = ((y[i] - y[i - 1]).abs(), (x[i] - x[i - 1]).abs());
            assert!(dy <= dx + min_slew * x[i].abs() + 1e-6, "{f} Hz, sample {i}: output step {dy}, input step {dx}");
        }
    }
}

/// A decaying guitar-like note (harmonics of 110 Hz falling with a 0.4 s time constant, over a
/// −75 dBFS noise floor) opens the gate once and is released once, after its level has fallen
/// under the close threshold (and the hold has run out), never before; the release then takes
/// the output to the floor the range sets.
#[test]
fn a_decaying_note_is_released_cleanly_below_the_close_threshold() {
    // The detector's high-pass at 1 Hz here: at 20 Hz its phase shift at 110 Hz reshapes the
    // note's waveform (peaks about 1 dB higher), which moves the release later than the raw
    // waveform's peaks say, rightly but off this test's arithmetic.
    let s = GateSettings {
        threshold_db: -40.0,
        hysteresis_db: 6.0,
        hold_ms: 50.0,
        release_ms: 100.0,
        range_db: 60.0,
        sc_hp_hz: 1.0,
        ..GateSettings::default()
    };
    let tau = 0.4f32;
    let n = (3.0 * SR) as usize;
    let floor = noise(n, 10f32.powf(-75.0 / 20.0), 11);
    let note: Vec<f32> = (0..n)
        .map(|k| {
            let t = k as f32 / SR;
            let env = 0.5 * (-t / tau).exp();
            (1..=6).map(|h| env / h as f32 * (std::f32::consts::TAU * 110.0 * h as f32 * t).sin()).sum::<f32>() / 2.45
        })
        .collect();
    let x: Vec<f32> = note.iter().zip(&floor).map(|(a, b)| a + b).collect();
    let mut g = gate(&s);
    let (y, open) = gate_run(&mut g, &s, &x);
    let changes: Vec<usize> = open.windows(2).enumerate().filter(|(_, w)| w[0] != w[1]).map(|(i, _)| i + 1).collect();
    assert_eq!(g.opens, 1, "opened once");
    assert_eq!(g.closes, 1, "released once (changes at {changes:?})");
    // Where the note falls under the close threshold: the last sample whose |x| reaches it.
    let close = 10f32.powf((s.threshold_db - s.hysteresis_db) / 20.0);
    let last_loud = x.iter().rposition(|v| v.abs() >= close).unwrap();
    let closed_at = *changes.last().unwrap();
    let hold = (s.hold_ms * 0.001 * SR) as usize;
    assert!(closed_at > last_loud + hold, "closed at {closed_at}, before the note fell under the close threshold at {last_loud} + hold");
    // The last peak over the threshold restarts the hold; the detector's peak follower may catch
    // one more peak of the waveform (a 110 Hz period, 9 ms) a little over it.
    assert!(closed_at < last_loud + hold + (0.015 * SR) as usize, "closed at {closed_at}, long after {last_loud} + hold");
    // After the release the output is the input 60 dB down.
    let after = closed_at + (0.25 * SR) as usize;
    let (ex, ey): (f64, f64) =
        (after..n).map(|i| ((x[i] as f64).powi(2), (y[i] as f64).powi(2))).fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!((db(ey) - db(ex) + 60.0).abs() < 0.5, "closed: {:.2} dB", db(ey) - db(ex));
}

/// The range makes it an expander: closed, a steady signal under the threshold comes out exactly
/// `range` dB down.
#[test]
fn the_range_sets_how_far_it_closes() {
    for range in [6.0f32, 20.0, 90.0] {
        let s = GateSettings { range_db: range, ..GateSettings::default() };
        let mut g = gate(&s);
        let w = std::f32::consts::TAU * 300.0 / SR;
        let x: Vec<f32> = (0..24_000).map(|k| 0.001 * (w * k as f32).sin()).collect(); // −60 dBFS
        let (y, _) = gate_run(&mut g, &s, &x);
        let gain = y[20_000..].iter().zip(&x[20_000..]).filter(|(_, x)| x.abs() > 1e-4).map(|(y, x)| y / x).fold(0.0f32, f32::max);
        assert!((20.0 * gain.log10() + range).abs() < 0.05, "range {range}: {} dB", 20.0 * gain.log10());
    }
}

/// With lookahead the audio is delayed by it, and an onset comes out at full level from its very
/// first sample: the gate opened before it arrived.
#[test]
fn lookahead_opens_before_the_onset() {
    let s = GateSettings { attack_ms: 0.5, ..GateSettings::default() };
    let mut g = Gate::default();
    g.prepare(SR);
    let la = g.lookahead_for(2.0);
    g.set_lookahead(la);
    assert_eq!(la, 96);
    let lead = 4_800;
    let x: Vec<f32> = (0..9_600).map(|k| if k < lead { 0.0 } else { 0.1 * (0.05 * (k - lead) as f32 + 1.0).sin() }).collect();
    let (y, _) = gate_run(&mut g, &s, &x);
    for k in lead..lead + 480 {
        let (got, want) = (y[k + la], x[k]);
        assert!((got - want).abs() <= 0.02 * want.abs() + 1e-6, "sample {k}: {got} instead of {want}");
    }
}

/// The detector's high-pass keeps a 50 Hz hum from opening it; without it the hum does.
#[test]
fn the_detector_high_pass_ignores_hum() {
    let w = std::f32::consts::TAU * 50.0 / SR;
    let x: Vec<f32> = (0..48_000).map(|k| 0.03 * (w * k as f32).sin()).collect(); // −30 dBFS
    for (hp, opens) in [(20.0f32, true), (300.0, false)] {
        let s = GateSettings { threshold_db: -40.0, sc_hp_hz: hp, ..GateSettings::default() };
        let mut g = gate(&s);
        let (_, open) = gate_run(&mut g, &s, &x);
        assert_eq!(open[24_000..].iter().any(|&o| o), opens, "detector high-pass at {hp} Hz");
    }
}

/// Blocks of any size give the same bits as frame after frame.
#[test]
fn the_gate_gives_the_same_bits_in_any_block_size() {
    let s = GateSettings { threshold_db: -30.0, ..GateSettings::default() };
    let x: Vec<f32> = (0..48_000).map(|k| if (k / 3_000) % 2 == 0 { 0.2 } else { 0.001 } * ((k as f32) * 0.07).sin()).collect();
    let (want, _) = gate_run(&mut gate(&s), &s, &x);
    let mut g = gate(&s);
    let mut got = Vec::new();
    let ones = [1.0f32; 128];
    let mut pos = 0;
    for size in [77usize, 13, 128, 1, 100].iter().cycle() {
        if pos >= x.len() {
            break;
        }
        let mut c = x[pos..(pos + size).min(x.len())].to_vec();
        let n = c.len();
        g.process_block(&mut [&mut c[..]], |_| s, &ones[..n]);
        got.extend(c);
        pos += n;
    }
    assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// The de-esser on speech.

/// espeak-ng reading `text` (140 words a minute), resampled to 48 kHz mono by sox, peaks at
/// −12 dBFS.
fn speech(text: &str, _tag: &str) -> Vec<f32> {
    let x = livechain::howl::source::speech_at(48_000.0, text, 140).expect("espeak-ng and sox (cargo xtask test installs them)");
    let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    x.iter().map(|v| v * 0.25 / peak).collect()
}

fn deess(x: &[f32], s: &DeEsserSettings) -> Vec<f32> {
    let mut d = DeEsser::default();
    d.prepare(SR);
    let mut y = x.to_vec();
    for c in y.chunks_mut(128) {
        let n = c.len();
        d.process_block(&mut [c], |_| *s, &[1.0; 128][..n]);
    }
    y
}

/// Per 1024-sample frame (hop 512, Hann): the energy from 4 to 10 kHz and in all.
fn frames(x: &[f32]) -> Vec<(f64, f64)> {
    use realfft::RealFftPlanner;
    let n = 1024;
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut out = fft.make_output_vec();
    let bin = SR as f64 / n as f64;
    let mut r = Vec::new();
    let mut start = 0;
    while start + n <= x.len() {
        let mut buf: Vec<f64> =
            (0..n).map(|i| x[start + i] as f64 * (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())).collect();
        fft.process(&mut buf, &mut out).unwrap();
        let (mut band, mut all) = (0.0, 0.0);
        for (k, c) in out.iter().enumerate() {
            let e = c.norm_sqr();
            all += e;
            let f = k as f64 * bin;
            if (4_000.0..=10_000.0).contains(&f) {
                band += e;
            }
        }
        r.push((band, all));
        start += n / 2;
    }
    r
}

/// Sibilant frames of the dry voice (more than half their energy between 4 and 10 kHz, not
/// silence) and vowel frames (under 2 % there, within 25 dB of the loudest frame).
fn classes(dry: &[(f64, f64)]) -> (Vec<usize>, Vec<usize>) {
    let loudest = dry.iter().map(|f| f.1).fold(0.0, f64::max);
    let sib = (0..dry.len()).filter(|&i| dry[i].0 > 0.5 * dry[i].1 && dry[i].1 > loudest * 1e-4).collect();
    let vow = (0..dry.len()).filter(|&i| dry[i].0 < 0.02 * dry[i].1 && dry[i].1 > loudest * 10f64.powf(-2.5)).collect();
    (sib, vow)
}

const SIBILANT: &str = "She sells sea shells by the sea shore. Six sharp swords, and a fresh fish for Sasha.";

/// On /s/ and /ʃ/ the 4-10 kHz energy falls by 6 dB or more; vowels (the bright /i/ of "sea"
/// and "she" included) change by at most 0.5 dB; and all of it within 1 dB whether the voice
/// comes 20 dB quieter or 20 dB louder.
#[test]
fn the_de_esser_takes_sibilants_down_and_leaves_vowels() {
    let voice = speech(SIBILANT, "sib");
    let s = DeEsserSettings::default();
    let mut reductions = Vec::new();
    for level_db in [0.0f32, -20.0, 20.0] {
        let g = 10f32.powf(level_db / 20.0);
        let x: Vec<f32> = voice.iter().map(|v| v * g).collect();
        let y = deess(&x, &s);
        let (fx, fy) = (frames(&x), frames(&y));
        let (sib, vow) = classes(&fx);
        assert!(sib.len() > 20 && vow.len() > 20, "{} sibilant and {} vowel frames", sib.len(), vow.len());
        let sum = |f: &[(f64, f64)], idx: &[usize], band: bool| idx.iter().map(|&i| if band { f[i].0 } else { f[i].1 }).sum::<f64>();
        let sib_db = db(sum(&fy, &sib, true)) - db(sum(&fx, &sib, true));
        let vow_db = db(sum(&fy, &vow, false)) - db(sum(&fx, &vow, false));
        println!("input {level_db:+} dB: sibilants {sib_db:.2} dB (4-10 kHz), vowels {vow_db:.3} dB, {} / {} frames", sib.len(), vow.len());
        assert!(sib_db <= -6.0, "input {level_db:+} dB: sibilants only {sib_db:.2} dB down");
        assert!(vow_db.abs() <= 0.5, "input {level_db:+} dB: vowels changed by {vow_db:.2} dB");
        reductions.push(sib_db);
    }
    assert!(reductions.iter().all(|r| (r - reductions[0]).abs() <= 1.0), "the reduction moves with the level: {reductions:?}");
}

/// A sentence without sibilants keeps its full-band RMS within 0.2 dB.
#[test]
fn a_sentence_without_sibilants_is_left_alone() {
    let x = speech("I knew a man named Tom, who lived in a warm room in Rome, a mile from my home.", "plain");
    let y = deess(&x, &DeEsserSettings::default());
    let rms = |v: &[f32]| db(v.iter().map(|s| (*s as f64).powi(2)).sum::<f64>());
    let change = rms(&y) - rms(&x);
    println!("no sibilants: full-band change {change:.3} dB");
    assert!(change.abs() <= 0.2, "{change:.3} dB");
}

/// A tone at the band's centre (all band) is reduced by the full range, in either mode; a
/// 500 Hz tone alone (no band to speak of) not at all, in either mode.
#[test]
fn split_band_reduces_only_the_band() {
    let tone = |f: f32| -> Vec<f32> { (0..48_000).map(|k| 0.1 * (std::f32::consts::TAU * f * k as f32 / SR).sin()).collect() };
    let level = |v: &[f32]| db(v[24_000..].iter().map(|s| (*s as f64).powi(2)).sum::<f64>());
    for (wideband, centre_want, low_want) in [(false, -12.0, 0.0), (true, -12.0, 0.0)] {
        let s = DeEsserSettings { wideband, ..DeEsserSettings::default() };
        let c = tone(s.freq_hz);
        let got = level(&deess(&c, &s)) - level(&c);
        assert!((got - centre_want).abs() < 0.2, "wideband {wideband}: centre {got:.2} dB");
        let l = tone(500.0);
        let got = level(&deess(&l, &s)) - level(&l);
        assert!((got - low_want).abs() < 0.05, "wideband {wideband}: 500 Hz {got:.3} dB");
    }
}
