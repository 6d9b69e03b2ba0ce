//! The echo against theory: exact arrival (integer and fractional), decay by the feedback
//! factor, bounded at maximum feedback, and tempo sync.

mod common;
use common::*;
use livechain::dsp::delay::{Delay, DelaySettings, MAX_FEEDBACK};
use livechain::dsp::BlockStage;
use livechain::host::OfflineHost;

fn settings(delay_samples: f32, feedback: f32) -> DelaySettings {
    DelaySettings { delay_samples, feedback, tone_hz: 20_000.0, ping_pong: false, mix: 1.0 }
}

fn run(d: &mut Delay, s: &DelaySettings, input: &[f32]) -> Vec<f32> {
    input
        .iter()
        .map(|&x| {
            let mut f = [x, x];
            d.tick(&mut f, s, 1.0);
            f[0] - x // the echoes alone
        })
        .collect()
}

#[test]
fn an_impulse_comes_back_at_the_exact_sample() {
    for sr in [44_100.0f32, 48_000.0, 96_000.0] {
        for delay in [3usize, 100, 4_799, (1.999 * sr) as usize] {
            let mut d = Delay::default();
            d.prepare(sr);
            let mut x = vec![0.0f32; delay + 100];
            x[0] = 1.0;
            let y = run(&mut d, &settings(delay as f32, 0.0), &x);
            assert_eq!(y[delay], 1.0, "{sr}: delay {delay}");
            assert_eq!(y.iter().filter(|v| v.abs() > 1e-7).count(), 1, "only one echo at feedback 0");
        }
    }
}

#[test]
fn fractional_delays_shift_a_sine_by_exactly_that_much() {
    let sr = 48_000.0;
    for (delay, freq) in [(100.37f32, 1_000.0f32), (257.5, 440.0), (3.25, 2_000.0), (1234.91, 5_000.0)] {
        let mut d = Delay::default();
        d.prepare(sr);
        let x = sine(8_000, freq, sr, 1.0);
        let y = run(&mut d, &settings(delay, 0.0), &x);
        let w = std::f64::consts::TAU * freq as f64 / sr as f64;
        let worst = (2_000..8_000).map(|n| (y[n] as f64 - (w * (n as f64 - delay as f64)).sin()).abs()).fold(0.0, f64::max);
        // Cubic Hermite error grows with frequency: 5 kHz at 48 kHz is the hard case.
        let bound = if freq > 3_000.0 { 2e-2 } else { 2e-3 };
        assert!(worst < bound, "delay {delay} at {freq} Hz: error {worst}");
    }
}

#[test]
fn echoes_decay_by_the_feedback_factor() {
    let sr = 48_000.0;
    for fb in [0.3f32, 0.5, 0.8, MAX_FEEDBACK] {
        let mut d = Delay::default();
        d.prepare(sr);
        let delay = 1_000usize;
        let mut x = vec![0.0f32; delay * 8 + 10];
        x[0] = 1.0;
        let s = DelaySettings { tone_hz: 3_000.0, ..settings(delay as f32, fb) };
        let y = run(&mut d, &s, &x);
        // The tone filter spreads each echo but keeps its area (unity gain at DC): echo k carries
        // fb^(k−1).
        let area = |k: usize| y[k * delay - 5..(k + 1) * delay - 5].iter().map(|&v| v as f64).sum::<f64>();
        for k in 1..7 {
            let want = (fb as f64).powi(k as i32 - 1);
            assert!((area(k) - want).abs() < 1e-3 * want.max(0.01) + 1e-4, "fb {fb}, echo {k}: {} vs {want}", area(k));
        }
    }
}

#[test]
fn maximum_feedback_never_grows_without_bound() {
    let sr = 48_000.0;
    for ping_pong in [false, true] {
        for tone in [200.0f32, 20_000.0] {
            let mut d = Delay::default();
            d.prepare(sr);
            let s = DelaySettings {
                delay_samples: 50.0,
                feedback: 10.0, /* clamped to MAX_FEEDBACK */
                tone_hz: tone,
                ping_pong,
                mix: 1.0,
            };
            let x = noise(sr as usize, 1.0, 4);
            let mut peak_late = 0.0f32;
            let mut peak = 0.0f32;
            for n in 0..(sr as usize * 6) {
                let v = if n < x.len() { x[n] } else { 0.0 };
                let mut f = [v, -v];
                d.tick(&mut f, &s, 1.0);
                assert!(f[0].is_finite() && f[1].is_finite());
                peak = peak.max(f[0].abs()).max(f[1].abs());
                if n > sr as usize * 5 {
                    peak_late = peak_late.max(f[0].abs()).max(f[1].abs());
                }
            }
            // Loop gain ≤ 0.95 per 50 samples: bounded by 1/(1−0.95) = 20 times the input.
            assert!(peak <= 21.0, "peak {peak}");
            assert!(peak_late < 1e-6, "the tail dies: {peak_late}");
        }
    }
}

#[test]
fn ping_pong_alternates_sides() {
    let mut d = Delay::default();
    d.prepare(48_000.0);
    let s = DelaySettings { ping_pong: true, ..settings(500.0, 0.5) };
    let mut left = vec![];
    let mut right = vec![];
    for n in 0..2_500 {
        let v = if n == 0 { 1.0 } else { 0.0 };
        let mut f = [v, v];
        d.tick(&mut f, &s, 1.0);
        left.push((f[0] - v) as f64);
        right.push((f[1] - v) as f64);
    }
    // Echo k lands on alternating sides with area 0.5^(k−1); the tone filter only spreads it.
    let area = |x: &[f64], k: usize| x[k * 500 - 2..k * 500 + 400].iter().sum::<f64>();
    for (k, on_left) in [(1, true), (2, false), (3, true), (4, false)] {
        let want = 0.5f64.powi(k as i32 - 1);
        let (hit, miss) = if on_left { (&left, &right) } else { (&right, &left) };
        assert!((area(hit, k) - want).abs() < 1e-3, "echo {k}: {}", area(hit, k));
        assert!(area(miss, k).abs() < 1e-6, "echo {k} leaked to the other side");
    }
}

fn echo_position(host: &mut OfflineHost, len: usize) -> usize {
    let mut buf = vec![vec![0.0f32; len], vec![0.0f32; len]];
    buf[0][0] = 1.0;
    buf[1][0] = 1.0;
    host.run(&mut buf, 256, &[]).unwrap();
    (1..len).max_by(|&a, &b| buf[0][a].abs().total_cmp(&buf[0][b].abs())).unwrap()
}

#[test]
fn synced_time_follows_the_host_tempo_and_falls_back_to_free_time() {
    let sr = 48_000.0;
    for (bpm, note, feel, beats) in
        [(120.0, 4.0, "straight", 1.0), (90.0, 8.0, "triplet", 1.0 / 3.0), (140.0, 16.0, "dotted", 0.375), (60.0, 2.0, "straight", 2.0)]
    {
        let mut host = OfflineHost::new(sr, 2);
        host.set("dly_on", 1.0).unwrap();
        host.set("dly_sync", 1.0).unwrap();
        host.set("dly_feedback", 0.0).unwrap();
        host.set("dly_mix", 100.0).unwrap();
        let note_index = [1.0f32, 2.0, 4.0, 8.0, 16.0, 32.0].iter().position(|&v| v == note).unwrap() as f32;
        host.set("dly_note", note_index).unwrap();
        host.set("dly_feel", ["straight", "dotted", "triplet"].iter().position(|&f| f == feel).unwrap() as f32).unwrap();
        host.set_tempo(Some(bpm));
        host.settle();
        let want = beats * 60.0 / bpm * sr as f64;
        let got = echo_position(&mut host, want as usize + 2_000);
        assert!((got as f64 - want).abs() <= 0.5, "{bpm} BPM {note} {feel}: echo at {got}, want {want:.2}");
    }
    // No tempo from the host: the free time (350 ms) applies.
    let mut host = OfflineHost::new(sr, 2);
    for (id, v) in [("dly_on", 1.0), ("dly_sync", 1.0), ("dly_feedback", 0.0), ("dly_mix", 100.0)] {
        host.set(id, v).unwrap();
    }
    host.set_tempo(None);
    host.settle();
    assert_eq!(echo_position(&mut host, 20_000), (0.350 * sr) as usize);
}

#[test]
fn changing_the_time_glides_without_clicks() {
    let sr = 48_000.0;
    let mut host = OfflineHost::new(sr, 1);
    for (id, v) in [("dly_on", 1.0), ("dly_feedback", 50.0), ("dly_mix", 100.0), ("dly_time", 200.0)] {
        host.set(id, v).unwrap();
    }
    host.settle();
    let x = sine(96_000, 300.0, sr, 0.3);
    let max_in_step = x.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max);
    let mut buf = vec![x];
    let events = [
        livechain::host::Event { time: 30_000, id: "dly_time".into(), value: 900.0 },
        livechain::host::Event { time: 60_000, id: "dly_time".into(), value: 15.0 },
    ];
    host.run(&mut buf, 128, &events).unwrap();
    // Dry plus echoes with feedback 0.5 can reach 3× the input; a click would be a step far above
    // what such a sum of 300 Hz sines can do.
    let max_out_step = buf[0].windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max);
    assert!(max_out_step < 3.0 * max_in_step * 1.5, "step {max_out_step} vs input {max_in_step}");
}
