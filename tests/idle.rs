//! Idle instances cost nothing: once the input is silent and every tail has rung out, the chain
//! stops processing (the output is exact zeros) until input returns, and the first non-silent
//! sample comes out as from a chain that ran all along, to within the residues the tails had
//! decayed to (below −150 dBFS).

mod common;
use livechain::chain::{Ran, SILENT_INPUT};
use livechain::host::{all_on, seeded_signal, OfflineHost};

const SR: f32 = 48_000.0;
const BLOCK: usize = 64;

fn host(idle: bool) -> OfflineHost {
    host_with(idle, &all_on())
}

fn host_with(idle: bool, settings: &[(&str, f32)]) -> OfflineHost {
    let mut host = OfflineHost::new(SR, 2);
    for &(id, v) in settings {
        host.set(id, v).unwrap();
    }
    host.settle();
    host.chain.set_idle_enabled(idle);
    host
}

/// Signal, a silence `gap` long, then signal again from `wake`, in 64-frame blocks.
fn render(host: &mut OfflineHost, input: &[Vec<f32>; 2]) -> ([Vec<f32>; 2], Vec<Ran>) {
    let mut out = input.clone();
    let mut ran = Vec::new();
    let [l, r] = &mut out;
    for (cl, cr) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
        ran.push(host.process(&mut [cl, cr]));
    }
    (out, ran)
}

#[test]
fn silence_after_the_tails_is_skipped_and_the_wake_up_is_exact() {
    let quiet_after = host(true).chain.quiet_after_samples(&host(true).params) as usize;
    // Every stage on at the reference settings: the delay's echoes (35 % feedback, 350 ms) are
    // the longest tail, 0.35 · (1 + 150 / 9.12) = 6.1 s.
    assert!((5.9 * SR as f64..6.4 * SR as f64).contains(&(quiet_after as f64)), "quiet after {quiet_after} samples");
    wakes_up_exactly(&all_on());
}

/// The feedback suppressor's mode with a frequency shift (2 Hz): the shift's oscillator turns on
/// through the silence skipped, so waking is as exact as with every other stage (with them all
/// on, and with the suppressor alone, whose tail is the shortest: its allpass chains' 0.4 s).
#[test]
fn the_shift_turns_on_through_a_skipped_silence() {
    let mut settings = all_on();
    settings.push(("fb_mode", 2.0));
    wakes_up_exactly(&settings);
    wakes_up_exactly(&[("fb_on", 1.0), ("fb_mode", 2.0)]);
}

/// With the canceller on the chain never goes idle: its loop through the chain rings on after
/// the input stops, and what it learns next depends on residues an idle chain would drop.
#[test]
fn the_canceller_keeps_the_chain_running() {
    for settings in [vec![("fb_on", 1.0), ("fb_mode", 3.0)], { all_on().into_iter().chain([("fb_mode", 3.0)]).collect() }] {
        let mut h = host_with(true, &settings);
        let quiet_after = h.chain.quiet_after_samples(&h.params) as usize;
        let [l, r] = seeded_signal(SR as usize, 5);
        let n = l.len() + quiet_after + 2 * SR as usize;
        let mut input = [vec![0.0f32; n], vec![0.0f32; n]];
        input[0][..l.len()].copy_from_slice(&l);
        input[1][..r.len()].copy_from_slice(&r);
        let (_, ran) = render(&mut h, &input);
        assert!(ran.iter().all(|r| *r == Ran::Processed), "{settings:?}: went idle with the canceller on");
        // Switched to the shift alone, the same silence lets it idle.
        h.set("fb_mode", 2.0).unwrap();
        let (_, ran) = render(&mut h, &[vec![0.0f32; quiet_after + SR as usize], vec![0.0f32; quiet_after + SR as usize]]);
        assert!(ran.contains(&Ran::Idle), "{settings:?}: never idle with the canceller off");
    }
}

/// Signal, a silence longer than the quiet time, signal again from the middle of a block: the
/// chain idles through the silence, and its output matches one that ran all along.
fn wakes_up_exactly(settings: &[(&str, f32)]) {
    let (mut idle, mut running) = (host_with(true, settings), host_with(false, settings));
    let quiet_after = idle.chain.quiet_after_samples(&idle.params) as usize;
    let [sig_l, sig_r] = seeded_signal(2 * SR as usize, 11);
    let gap = quiet_after + 3 * SR as usize;
    // The signal returns in the middle of a block (sample 37 of it): the wake-up is exact to
    // the sample.
    let wake = (2 * SR as usize + gap) / BLOCK * BLOCK + 37;
    let total = wake + 2 * SR as usize;
    let mut input = [vec![0.0f32; total], vec![0.0f32; total]];
    input[0][..sig_l.len()].copy_from_slice(&sig_l);
    input[1][..sig_r.len()].copy_from_slice(&sig_r);
    input[0][wake..].copy_from_slice(&sig_l[..total - wake]);
    input[1][wake..].copy_from_slice(&sig_r[..total - wake]);

    let (a, ran) = render(&mut idle, &input);
    let (b, _) = render(&mut running, &input);

    // It went idle once the quiet time had passed, and not before.
    let end_of_signal = sig_l.len();
    let first_idle = ran.iter().position(|r| *r == Ran::Idle).expect("never went idle") * BLOCK;
    assert!(first_idle >= end_of_signal + quiet_after, "idle at {first_idle}, before the tails had rung out");
    assert!(first_idle <= end_of_signal + quiet_after + BLOCK, "idle only at {first_idle}");
    assert_eq!(
        idle.chain.idle_samples() as usize,
        wake / BLOCK * BLOCK - first_idle,
        "every silent block from there to the wake-up skipped"
    );
    // Where the one skipped, the one that ran put out less than −150 dBFS: the tails really had
    // rung out (the tail and settling times are right).
    let residue = (first_idle..wake).map(|i| b[0][i].abs().max(b[1][i].abs())).fold(0.0f32, f32::max);
    assert!(residue <= SILENT_INPUT, "the running chain still put out {residue} while the idle one skipped");
    // From the wake-up on, the two agree to within −120 dBFS; before it, the idle one is exact
    // zeros.
    assert!(a[0][first_idle..wake].iter().chain(&a[1][first_idle..wake]).all(|&x| x == 0.0));
    let diff = (wake..total).map(|i| (a[0][i] - b[0][i]).abs().max((a[1][i] - b[1][i]).abs())).fold(0.0f32, f32::max);
    println!(
        "{settings:?}: quiet after {quiet_after} samples; residue while idle {residue:.2e}; largest difference after waking {diff:.2e}"
    );
    assert!(diff <= 1e-6, "{settings:?}: after waking the output differs by {diff} from a chain that ran all along");
    let back = a[0][wake..wake + 500].iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(back > 0.05, "the returning signal does not come out ({back})");
}

/// Whatever stops the chain from being idle does: a parameter gliding, a stage switched on, the
/// bypass fading, input that is not silence (a NaN included).
#[test]
fn a_glide_a_switch_or_any_input_wakes_it() {
    let mut h = host(true);
    let quiet = h.chain.quiet_after_samples(&h.params) as usize;
    // A fresh block each time: the chain works in place.
    let run = |h: &mut OfflineHost, first: f32, at: usize| {
        let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
        l[at] = first;
        let ran = h.process(&mut [l.as_mut_slice(), r.as_mut_slice()]);
        assert!(l.iter().chain(&r).all(|x| x.is_finite()));
        ran
    };
    let silence = |h: &mut OfflineHost| run(h, 0.0, 0);
    let until_idle = |h: &mut OfflineHost| {
        let mut blocks = 0;
        while silence(h) == Ran::Processed {
            blocks += 1;
            assert!(blocks <= quiet / BLOCK + 4, "never went idle");
        }
    };
    until_idle(&mut h);
    assert_eq!(silence(&mut h), Ran::Idle);
    h.set("out_gain", -6.0).unwrap();
    assert_eq!(silence(&mut h), Ran::Processed, "a gliding parameter");
    for (id, on) in [("bypass", 1.0), ("lp_on", 0.0)] {
        until_idle(&mut h);
        h.set(id, on).unwrap();
        assert_eq!(silence(&mut h), Ran::Processed, "{id} fading");
    }
    until_idle(&mut h);
    assert_eq!(run(&mut h, 1e-6, 17), Ran::Processed, "−120 dBFS is not silence");
    until_idle(&mut h);
    assert_eq!(run(&mut h, f32::NAN, 5), Ran::Processed, "a NaN is not silence");
}
