//! The compressor against its static curve and time constants, lookahead latency, and the AGC on
//! real speech.

mod common;
use common::*;
use livechain::dsp::compressor::{CompSettings, Compressor};
use livechain::dsp::BlockStage;
use livechain::host::OfflineHost;

/// The soft-knee curve from Giannoulis, Massberg & Reiss (JAES 2012), written out independently.
fn theory(x: f64, t: f64, r: f64, w: f64) -> f64 {
    if 2.0 * (x - t) < -w {
        x
    } else if w > 0.0 && 2.0 * (x - t).abs() <= w {
        x + (1.0 / r - 1.0) * (x - t + w / 2.0).powi(2) / (2.0 * w)
    } else {
        t + (x - t) / r
    }
}

#[test]
fn static_curve_matches_threshold_ratio_knee_within_0_1_db() {
    let sr = 48_000.0;
    for (t, r, w) in [(-20.0, 4.0, 0.0), (-30.0, 2.0, 6.0), (-12.0, 10.0, 12.0), (-40.0, 1.5, 24.0)] {
        for level in (-60..=0).step_by(2) {
            let mut c = Compressor::default();
            c.prepare(sr);
            let s = CompSettings {
                threshold_db: t as f32,
                ratio: r as f32,
                knee_db: w as f32,
                attack_ms: 1.0,
                release_ms: 50.0,
                makeup_db: 0.0,
                auto_makeup: false,
            };
            let x = 10f32.powf(level as f32 / 20.0);
            let mut y = 0.0;
            for _ in 0..24_000 {
                let mut frame = [x, x];
                c.tick(&mut frame, &s, 1.0);
                y = frame[0];
            }
            let got = 20.0 * (y as f64).log10();
            let want = theory(level as f64, t, r, w);
            assert!((got - want).abs() < 0.1, "T{t} R{r} W{w} at {level} dB: {got:.3} vs {want:.3}");
        }
    }
}

/// Time for the gain reduction to cover 63 % of a step, in ms.
fn time_to_63(c: &mut Compressor, s: &CompSettings, from: f32, to: f32, sr: f32) -> f32 {
    let mut frame;
    for _ in 0..(sr as usize) {
        frame = [from, from];
        c.tick(&mut frame, s, 1.0);
    }
    let start = c.gain_reduction_db();
    let end = theory(20.0 * to.log10() as f64, s.threshold_db as f64, s.ratio as f64, s.knee_db as f64) as f32 - 20.0 * to.log10();
    let goal = start + 0.632_120_56 * (end - start);
    for n in 1..(sr as usize * 4) {
        frame = [to, to];
        c.tick(&mut frame, s, 1.0);
        let gr = c.gain_reduction_db();
        if (end < start && gr <= goal) || (end > start && gr >= goal) {
            return n as f32 * 1000.0 / sr;
        }
    }
    panic!("never reached 63 %");
}

#[test]
fn attack_and_release_reach_63_percent_in_their_set_times() {
    for sr in [44_100.0f32, 48_000.0, 96_000.0] {
        for (attack, release) in [(1.0f32, 50.0f32), (10.0, 150.0), (80.0, 1_000.0)] {
            let mut c = Compressor::default();
            c.prepare(sr);
            let s = CompSettings {
                threshold_db: -20.0,
                ratio: 4.0,
                knee_db: 0.0,
                attack_ms: attack,
                release_ms: release,
                makeup_db: 0.0,
                auto_makeup: false,
            };
            // −40 dB → 0 dB: 15 dB of reduction arrives with the attack time.
            let a = time_to_63(&mut c, &s, 0.01, 1.0, sr);
            let r = time_to_63(&mut c, &s, 1.0, 0.01, sr);
            eprintln!("{sr} Hz: attack set {attack} ms → {a:.2} ms, release set {release} ms → {r:.2} ms");
            assert!((a - attack).abs() <= 0.1 * attack + 1000.0 / sr, "{sr}: attack {a} ms, set {attack}");
            assert!((r - release).abs() <= 0.1 * release, "{sr}: release {r} ms, set {release}");
        }
    }
}

#[test]
fn makeup_and_auto_makeup_add_their_gain() {
    let sr = 48_000.0;
    let s =
        CompSettings { threshold_db: -20.0, ratio: 4.0, knee_db: 0.0, attack_ms: 1.0, release_ms: 50.0, makeup_db: 5.0, auto_makeup: true };
    let mut c = Compressor::default();
    c.prepare(sr);
    let x = 10f32.powf(-40.0 / 20.0); // below threshold: only the make-up applies
    let mut frame = [x, x];
    for _ in 0..4_800 {
        frame = [x, x];
        c.tick(&mut frame, &s, 1.0);
    }
    // Auto make-up: half of what a 0 dBFS peak loses (15 dB at 4:1 from −20) = 7.5 dB.
    let got = 20.0 * (frame[0] / x).log10();
    assert!((got - 12.5).abs() < 0.01, "{got}");
}

#[test]
fn lookahead_is_the_reported_latency_and_the_impulse_peak_position() {
    for sr in [44_100.0f32, 48_000.0, 96_000.0] {
        for lookahead_ms in [0.0f32, 2.5, 10.0] {
            let mut host = OfflineHost::new(sr, 2);
            host.set("comp_on", 1.0).unwrap();
            host.set("comp_lookahead", lookahead_ms).unwrap();
            host.set("mix", 50.0).unwrap();
            host.settle();
            let latency = host.latency();
            assert_eq!(latency, (lookahead_ms * 0.001 * sr).round() as usize);
            let mut buf = vec![vec![0.0f32; 4_096], vec![0.0f32; 4_096]];
            buf[0][10] = 0.5;
            buf[1][10] = 0.5;
            host.run(&mut buf, 64, &[]).unwrap();
            let peak = buf[0].iter().enumerate().fold((0, 0.0f32), |m, (i, &v)| if v.abs() > m.1 { (i, v.abs()) } else { m }).0;
            assert_eq!(peak, 10 + latency, "{sr} Hz, {lookahead_ms} ms");
            // The dry half arrives at the same sample as the wet half: one single peak.
            let others = buf[0].iter().enumerate().filter(|&(i, v)| i != peak && v.abs() > 1e-4).count();
            assert_eq!(others, 0, "the dry path is delayed to match the lookahead");
        }
    }
}

/// Speech from espeak-ng (installed by `cargo xtask test`), mono, at its own sample rate.
fn speech() -> (Vec<f32>, f32) {
    let dir = std::env::temp_dir().join(format!("livechain-speech-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("speech.wav");
    let text = "Real time audio processing is about latency. When you sing into a microphone, you \
                expect to hear yourself at once. The buffer size sets how long each callback has, \
                and the smallest buffer that runs without dropouts is the sweet spot. A ring buffer \
                carries samples between threads without locks, and a feedback system rides the gain \
                so that a quiet voice and a loud voice reach the same level. We measure, we listen, \
                and we measure again until it sounds right and feels immediate.";
    let status = std::process::Command::new("espeak-ng").args(["-s", "150", "-w"]).arg(&wav).arg(text).status();
    assert!(status.map(|s| s.success()).unwrap_or(false), "espeak-ng is needed (Debian package espeak-ng; `cargo xtask test` installs it)");
    let mut r = hound::WavReader::open(&wav).unwrap();
    let sr = r.spec().sample_rate as f32;
    let x: Vec<f32> = r.samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect();
    let _ = std::fs::remove_dir_all(&dir);
    (x, sr)
}

#[test]
fn agc_brings_quiet_and_loud_speech_to_the_target() {
    use livechain::analysis::loudness::integrated;
    let (voice, sr) = speech();
    // Two passes of the text, so the leveler has time to settle in the first.
    let voice: Vec<f32> = voice.iter().chain(voice.iter()).copied().collect();
    let measured = integrated(&[&voice], sr as f64).unwrap();
    let target = -18.0;
    for level in [-35.0f64, -10.0] {
        let g = 10f64.powf((level - measured) / 20.0) as f32;
        let x: Vec<f32> = voice.iter().map(|v| v * g).collect();
        assert!((integrated(&[&x], sr as f64).unwrap() - level).abs() < 0.05);
        let mut host = OfflineHost::new(sr, 1);
        for (id, v) in [("agc_on", 1.0), ("agc_target", target as f32), ("agc_range", 24.0), ("agc_speed", 2.0)] {
            host.set(id, v).unwrap();
        }
        host.settle();
        let mut buf = vec![x];
        host.run(&mut buf, 256, &[]).unwrap();
        let half = buf[0].len() / 2;
        let out = integrated(&[&buf[0][half..]], sr as f64).unwrap();
        eprintln!("AGC: speech at {level} LUFS → {out:.2} LUFS (target {target})");
        assert!((out - target).abs() <= 1.0, "speech at {level} LUFS came out at {out:.2} LUFS, target {target}");
        // And it holds in the pauses: the gain never ran away on silence.
        assert!(host.chain.agc_gain_db().abs() <= 24.0);
    }
}

#[test]
fn agc_holds_its_gain_on_silence_instead_of_raising_the_noise() {
    let sr = 48_000.0;
    let mut host = OfflineHost::new(sr, 2);
    for (id, v) in [("agc_on", 1.0), ("agc_target", -18.0), ("agc_range", 20.0), ("agc_speed", 1.0)] {
        host.set(id, v).unwrap();
    }
    host.settle();
    // 5 s of a −30 LUFS-ish tone: the AGC raises the gain.
    let tone = sine((sr * 5.0) as usize, 1_000.0, sr, 0.03);
    let mut buf = vec![tone.clone(), tone];
    host.run(&mut buf, 512, &[]).unwrap();
    let raised = host.chain.agc_gain_db();
    assert!(raised > 5.0, "{raised}");
    // Then 5 s of very quiet noise (below the −50 LUFS gate): the gain must not move.
    let hiss = noise((sr * 5.0) as usize, 1e-4, 1);
    let mut buf = vec![hiss.clone(), hiss];
    host.run(&mut buf, 512, &[]).unwrap();
    assert!((host.chain.agc_gain_db() - raised).abs() < 0.5, "gain moved from {raised} to {}", host.chain.agc_gain_db());
}
