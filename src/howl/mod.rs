//! A closed acoustic loop for the feedback suppressor: the chain's output goes through a
//! speaker-to-microphone response (`room`) times a loop gain and comes back into its input with
//! the live source (`source`). Blocks are shorter than the loop's delay, so the loop is exact:
//! what comes back during a block was played before it.
//!
//! Measures (van Waterschoot & Moonen 2011): the maximum stable gain (MSG) with the suppressor
//! off and on, found by raising the loop gain until the output runs away; the added stable gain
//! (ASG); how fast a howl is notched after a step over the MSG and how far it gets; the spectral
//! distortion the notches do to the source; and, on music with no loop, whether anything is
//! notched at all. `cargo xtask howl` prints them per room and source.

pub mod convolve;
pub mod room;
pub mod shadow;
pub mod source;

use crate::host::OfflineHost;
use convolve::Convolver;
use room::Room;

/// The loop's block (1.3 ms at 48 kHz: shorter than any room's delay here).
pub const BLOCK: usize = 64;
/// The rate the loop runs at.
pub const SR: f32 = 48_000.0;
/// The output "runs away" when its 100 ms level passes the open-loop source level by this much.
pub const RUNAWAY_DB: f32 = 15.0;

/// The 100 ms RMS level (dB) of a stretch.
pub fn rms_db(x: &[f32]) -> f32 {
    let ms = x.iter().map(|v| (v * v) as f64).sum::<f64>() / x.len().max(1) as f64;
    (10.0 * (ms + 1e-30).log10()) as f32
}

/// The suppressor's modes, as `fb_mode` values.
pub const NOTCH: f32 = 1.0;
pub const SHIFT: f32 = 2.0;
/// Notches, shift and the adaptive canceller (`dsp::feedback::afc`).
pub const CANCEL: f32 = 3.0;

/// A chain set up for the loop: everything off but (with `mode` Some) the feedback suppressor in
/// that mode (`NOTCH`, `SHIFT`).
pub fn host(mode: Option<f32>) -> OfflineHost {
    host_with(mode, &[])
}

/// The same with more of the suppressor's settings (parameter ID, value).
pub fn host_with(mode: Option<f32>, settings: &[(&str, f32)]) -> OfflineHost {
    let mut h = OfflineHost::new(SR, 2);
    if let Some(m) = mode {
        h.set("fb_on", 1.0).expect("fb_on");
        h.set("fb_mode", m).expect("fb_mode");
    }
    for &(id, v) in settings {
        h.set(id, v).unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    h.settle();
    h
}

/// What a loop run saw.
#[derive(Debug, Clone, Default)]
pub struct LoopRun {
    /// The speaker signal (the chain's output, both channels' mean).
    pub out: Vec<f32>,
    /// Where it ran away (sample), if it did.
    pub runaway_at: Option<usize>,
    /// The sample at which the suppressor had first found a howl, if it did.
    pub first_notch_at: Option<usize>,
    /// The sample at which it first had a growing howl in sight (found, or still too quiet to
    /// notch: what urges the canceller), if it did.
    pub first_heard_at: Option<usize>,
    /// The samples (block ends) at which it found howls, one entry per block that found any.
    pub found_at: Vec<usize>,
    /// The suppressor's notches at the end (frequency, depth dB).
    pub notches: Vec<(f32, f32)>,
}

/// Runs `frames` samples of the closed loop: the source (repeated), plus the room's response to
/// the output times 10^(gain_db(sample)/20), into the chain. Stops where it runs away (the 100 ms
/// output level more than `RUNAWAY_DB` over `ref_db`).
pub fn run_loop(host: &mut OfflineHost, room: &Room, src: &[f32], frames: usize, gain_db: impl Fn(usize) -> f32, ref_db: f32) -> LoopRun {
    run_loop_with(host, room, Happens::default(), src, frames, gain_db, ref_db)
}

/// Where the microphone moves in `run_loop_with`: from sample `at` on, over `glide` samples,
/// what comes back crossfades from the first room's response to `to`'s (the same room seen from
/// the new place; both rooms hear the whole output all along, so the reverberation of what was
/// played before the move comes back from the new place too).
#[derive(Clone, Copy)]
pub struct Move<'a> {
    pub to: &'a Room,
    pub at: usize,
    pub glide: usize,
}

/// What happens in `run_loop_with` besides the loop.
#[derive(Clone, Copy, Default)]
pub struct Happens<'a> {
    /// The microphone moves (None: it stays).
    pub moved: Option<Move<'a>>,
    /// The host resets the plugin, or deactivates and activates it again, before the block that
    /// starts at this sample (a multiple of `BLOCK`). The room goes on: what the output sent out
    /// before comes back all the same.
    pub reset_at: Option<(usize, Reset)>,
    /// The speaker goes off (switched off, unplugged, its channel muted) before the block that
    /// starts at this sample: nothing more of the output goes into the room, and what it played
    /// before still comes back as the room's reverberation dies away.
    pub speaker_off_at: Option<usize>,
    /// The suppressor is switched on (`fb_on`) before the block that starts at this sample.
    pub switched_on_at: Option<usize>,
}

/// What the host does in `Happens::reset_at`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reset {
    /// A reset (`OfflineHost::settle`): a CLAP `reset` or `start_processing`, a VST3
    /// `setProcessing(true)`; a DAW's stop and play, a track woken.
    Host,
    /// Deactivated and activated again in real time with nothing changed
    /// (`OfflineHost::reactivate`): a VST3 host's setActive off and on.
    Reactivate,
}

/// `run_loop`, with what `happens`.
pub fn run_loop_with(
    host: &mut OfflineHost,
    room: &Room,
    happens: Happens,
    src: &[f32],
    frames: usize,
    gain_db: impl Fn(usize) -> f32,
    ref_db: f32,
) -> LoopRun {
    let mut conv = Convolver::new(&room.ir, BLOCK);
    let moved = happens.moved;
    let mut conv_to = moved.map(|m| Convolver::new(&m.to.ir, BLOCK));
    let mut fb_to = [0.0f32; BLOCK];
    let mut run = LoopRun { out: Vec::with_capacity(frames), ..LoopRun::default() };
    let (mut fb, mut l, mut r, mut u) = ([0.0f32; BLOCK], [0.0f32; BLOCK], [0.0f32; BLOCK], [0.0f32; BLOCK]);
    let window = (0.1 * SR) as usize;
    let found0 = host.bridge.fb_found.load(std::sync::atomic::Ordering::Relaxed);
    let mut last_found = found0;
    let mut last_heard = host.bridge.fb_heard.load(std::sync::atomic::Ordering::Relaxed);
    let mut pos = 0;
    while pos + BLOCK <= frames {
        conv.next(&mut fb);
        if let (Some(c), Some(m)) = (conv_to.as_mut(), moved) {
            c.next(&mut fb_to);
            for (i, (f, &t)) in fb.iter_mut().zip(&fb_to).enumerate() {
                let w = ((pos + i).saturating_sub(m.at) as f32 / m.glide.max(1) as f32).min(1.0);
                *f = (1.0 - w) * *f + w * t;
            }
        }
        let k = 10f32.powf(gain_db(pos) / 20.0);
        for i in 0..BLOCK {
            let x = src[(pos + i) % src.len()] + k * fb[i];
            l[i] = x;
            r[i] = x;
        }
        if happens.switched_on_at == Some(pos) {
            host.set("fb_on", 1.0).expect("fb_on");
        }
        match happens.reset_at {
            Some((at, Reset::Host)) if at == pos => host.settle(),
            Some((at, Reset::Reactivate)) if at == pos => host.reactivate(true, 0),
            _ => {}
        }
        host.process(&mut [&mut l, &mut r]);
        for i in 0..BLOCK {
            u[i] = 0.5 * (l[i] + r[i]);
        }
        let heard_out = if happens.speaker_off_at.is_some_and(|at| pos >= at) { &[0.0f32; BLOCK] } else { &u };
        conv.push(heard_out);
        if let Some(c) = conv_to.as_mut() {
            c.push(heard_out);
        }
        run.out.extend_from_slice(&u);
        pos += BLOCK;
        let found = host.bridge.fb_found.load(std::sync::atomic::Ordering::Relaxed);
        if found != last_found {
            last_found = found;
            run.found_at.push(pos);
            run.first_notch_at.get_or_insert(pos);
        }
        let heard = host.bridge.fb_heard.load(std::sync::atomic::Ordering::Relaxed);
        if heard != last_heard {
            last_heard = heard;
            run.first_heard_at.get_or_insert(pos);
        }
        if pos >= window && pos % (4 * BLOCK) == 0 && rms_db(&run.out[pos - window..pos]) > ref_db + RUNAWAY_DB {
            run.runaway_at = Some(pos);
            break;
        }
    }
    run.notches = notches(host);
    run
}

/// The suppressor's notches as the chain last published them (frequency, depth dB).
pub fn notches(host: &OfflineHost) -> Vec<(f32, f32)> {
    host.bridge.fb_notches().into_iter().map(|(f, d, _)| (f, d)).collect()
}

/// The gain (dB over the room's MSG) at which a loop whose gain rises at `rate_db_s` from
/// `start_db` runs away, or None if it reached `stop_db` without (with the suppressor as set).
pub fn ramp_msg(room: &Room, src: &[f32], mode: Option<f32>, start_db: f32, stop_db: f32, rate_db_s: f32) -> (Option<f32>, LoopRun) {
    ramp_msg_with(room, src, mode, &[], start_db, stop_db, rate_db_s)
}

/// `ramp_msg` with more of the suppressor's settings (`host_with`).
pub fn ramp_msg_with(
    room: &Room,
    src: &[f32],
    mode: Option<f32>,
    settings: &[(&str, f32)],
    start_db: f32,
    stop_db: f32,
    rate_db_s: f32,
) -> (Option<f32>, LoopRun) {
    let msg = -room.peak_gain_db;
    let ref_db = rms_db(src);
    let frames = ((stop_db - start_db) / rate_db_s * SR) as usize;
    let mut h = host_with(mode, settings);
    let over = |pos: usize| start_db + rate_db_s * pos as f32 / SR;
    let run = run_loop(&mut h, room, src, frames, |pos| msg + over(pos), ref_db);
    (run.runaway_at.map(over), run)
}

/// A ring-out, then the rising loop: the loop gain raised with learning on (found howls fill
/// the fixed notches) until it runs away, then, learning off (mode notch + fixed), raised again
/// from the start. Returns where the second rise ran away (dB over the response's MSG, None: not
/// by `stop_db`) and how many fixed notches the ring-out left.
pub fn ring_out_msg(room: &Room, src: &[f32], stop_db: f32) -> (Option<f32>, usize) {
    let msg = -room.peak_gain_db;
    let ref_db = rms_db(src);
    let frames = ((stop_db - RAMP_START_DB) / RAMP_RATE_DB_S * SR) as usize;
    let over = |pos: usize| RAMP_START_DB + RAMP_RATE_DB_S * pos as f32 / SR;
    let mut h = host(Some(NOTCH));
    h.set("fb_learn", 1.0).expect("fb_learn");
    let learned = run_loop(&mut h, room, src, frames, |pos| msg + over(pos), ref_db);
    h.set("fb_learn", 0.0).expect("fb_learn");
    // Let the runaway die away with the loop open.
    silence(&mut h, 1.0);
    let fixed = learned.notches.len();
    let run = run_loop(&mut h, room, src, frames, |pos| msg + over(pos), ref_db);
    (run.runaway_at.map(over), fixed)
}

/// `secs` of digital silence into the chain, the loop open (a microphone muted): the chain's
/// output (both channels' mean).
fn silence(h: &mut OfflineHost, secs: f32) -> Vec<f32> {
    let mut out = Vec::with_capacity((secs * SR) as usize);
    for _ in 0..(secs * SR) as usize / BLOCK {
        let (mut l, mut r) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
        h.process(&mut [&mut l, &mut r]);
        out.extend(l.iter().zip(&r).map(|(l, r)| 0.5 * (l + r)));
    }
    out
}

/// What a mute in the middle of a loop did (`muted`).
#[derive(Debug, Clone, Copy)]
pub struct Muted {
    /// Where the loop ran away before the mute (s from the start of the hold), if it did.
    pub ran_before: Option<f32>,
    /// The chain's output during the mute: its first 100 ms and its loudest 100 ms over the
    /// last half second, over the source's level (dB).
    pub first_db: f32,
    pub last_db: f32,
    /// Where the loop ran away after the microphone was back (s), if it did.
    pub ran_after: Option<f32>,
}

/// The loop rising as in `sustained` to `over_db` over the suppressor-off MSG (`off_db`) and held
/// there for `hold_s`, the suppressor in `mode`; then the microphone muted for a second (digital
/// silence in: the chain's output still goes out, nothing comes back), then back, the loop
/// closed again at the same gain for `after_s`.
pub fn muted(room: &Room, src: &[f32], off_db: Option<f32>, over_db: f32, mode: f32, hold_s: f32, after_s: f32) -> Muted {
    let (rise, gain) = rise_then_hold(room, off_db, over_db);
    let ref_db = rms_db(src);
    let mut h = host(Some(mode));
    let before = run_loop(&mut h, room, src, rise + (hold_s * SR) as usize, &gain, ref_db);
    let quiet = silence(&mut h, 1.0);
    let window = (0.1 * SR) as usize;
    let last_db = loudest_100ms(&quiet, quiet.len() / 2, quiet.len()) - ref_db;
    let after = run_loop(&mut h, room, src, (after_s * SR) as usize, |_| gain(rise), ref_db);
    Muted {
        ran_before: before.runaway_at.map(|p| (p as f32 - rise as f32) / SR),
        first_db: rms_db(&quiet[..window]) - ref_db,
        last_db,
        ran_after: after.runaway_at.map(|p| p as f32 / SR),
    }
}

/// The loop rising as in `sustained` to `over_db` over the suppressor-off MSG (`off_db`) and held
/// there, the suppressor in `mode`, the host resetting the plugin (`how`) after `hold_s` of the
/// hold (the room going on), for `after_s` more: where it ran away, in seconds from the reset
/// (negative: before it), if it did.
#[allow(clippy::too_many_arguments)]
pub fn reset_while_held(
    room: &Room,
    src: &[f32],
    off_db: Option<f32>,
    over_db: f32,
    mode: f32,
    how: Reset,
    hold_s: f32,
    after_s: f32,
) -> Option<f32> {
    let (rise, gain) = rise_then_hold(room, off_db, over_db);
    let at = (rise + (hold_s * SR) as usize) / BLOCK * BLOCK;
    let happens = Happens { reset_at: Some((at, how)), ..Happens::default() };
    let run = run_loop_with(&mut host(Some(mode)), room, happens, src, at + (after_s * SR) as usize, gain, rms_db(src));
    run.runaway_at.map(|p| (p as f32 - at as f32) / SR)
}

/// What switching the speaker off in the middle of a held loop did (`switched_off`).
#[derive(Debug, Clone, Copy)]
pub struct SwitchedOff {
    /// Where the loop ran away (s from the switch-off, negative: before it), if it did.
    pub ran: Option<f32>,
    /// The output's loudest 100 ms over the source's loudest 100 ms in the same stretch (dB), in
    /// `OFF_WINDOWS` after the switch-off (NaN where it had run away).
    pub over_db: [f32; 4],
    /// The output's level over the source's from 0.25 s to 3 s after the switch-off (dB; NaN
    /// where it had run away): what rings on in the source's pauses shows here, where the
    /// loudest 100 ms may not see it.
    pub level_db: f32,
}

/// The stretches `switched_off` reads, in seconds from the switch-off.
pub const OFF_WINDOWS: [(f32, f32); 4] = [(0.0, 0.25), (0.25, 0.5), (0.5, 1.0), (1.0, 3.0)];

/// The loop rising as in `sustained` to `over_db` over the suppressor-off MSG (`off_db`) and held
/// there for `hold_s`, the suppressor in mode canceller; then the speaker goes off (switched off
/// or unplugged, its channel muted: `Happens::speaker_off_at`) for three seconds. Once what it
/// played has died away in the room the microphone hears the source alone, and the output should
/// be the source's own level: what is over it is the canceller's estimate going round the chain
/// by itself.
pub fn switched_off(room: &Room, src: &[f32], off_db: Option<f32>, over_db: f32, hold_s: f32) -> SwitchedOff {
    let (rise, gain) = rise_then_hold(room, off_db, over_db);
    let at = (rise + (hold_s * SR) as usize) / BLOCK * BLOCK;
    let frames = at + 3 * SR as usize;
    let happens = Happens { speaker_off_at: Some(at), ..Happens::default() };
    let run = run_loop_with(&mut host(Some(CANCEL)), room, happens, src, frames, gain, rms_db(src));
    let ran = run.runaway_at.map(|p| (p as f32 - at as f32) / SR);
    let heard: Vec<f32> = (0..frames).map(|i| src[i % src.len()]).collect();
    let over_db = OFF_WINDOWS.map(|(a, b)| {
        let (a, b) = (at + (a * SR) as usize, at + (b * SR) as usize);
        if run.runaway_at.is_some_and(|p| p < b) {
            return f32::NAN;
        }
        loudest_100ms(&run.out, a, b) - loudest_100ms(&heard, a, b)
    });
    let from = at + SR as usize / 4;
    let level_db = if run.runaway_at.is_some() { f32::NAN } else { rms_db(&run.out[from..]) - rms_db(&heard[from..]) };
    SwitchedOff { ran, over_db, level_db }
}

/// A take played back through the track after a live loop the canceller learnt: the loop rising
/// as in `sustained` to `over_db` over the suppressor-off MSG (`off_db`) and held for `hold_s`
/// in mode canceller, then the host's stop and play (the plugin activated again live with
/// nothing changed: the path is kept), and `src` played back with no loop for `secs` seconds,
/// "clear" pressed in the first block if `clear`. Per second, the output's difference from a
/// fresh plugin's rendering the same, over the fresh one's level (dB; −inf: bit for bit the
/// same); None where the loop ran away while held.
pub fn played_back(room: &Room, src: &[f32], off_db: Option<f32>, over_db: f32, hold_s: f32, secs: usize, clear: bool) -> Option<Vec<f64>> {
    let sr = SR as usize;
    let play: Vec<f32> = (0..secs * sr).map(|i| src[i % src.len()]).collect();
    let render = |h: &mut OfflineHost, clear: bool| {
        let mut out = Vec::with_capacity(play.len());
        for (b, block) in play.chunks_exact(BLOCK).enumerate() {
            if clear && b < 2 {
                h.set("fb_clear", if b == 0 { 1.0 } else { 0.0 }).expect("fb_clear");
            }
            let (mut l, mut r) = (block.to_vec(), block.to_vec());
            h.process(&mut [&mut l, &mut r]);
            out.extend_from_slice(&l);
        }
        out
    };
    let fresh = render(&mut host(Some(CANCEL)), false);
    let mut h = host(Some(CANCEL));
    let (rise, gain) = rise_then_hold(room, off_db, over_db);
    let run = run_loop(&mut h, room, src, rise + (hold_s * SR) as usize, gain, rms_db(src));
    if run.runaway_at.is_some() {
        return None;
    }
    h.reactivate(true, 0);
    let out = render(&mut h, clear);
    let db = (0..fresh.len() / sr).map(|k| {
        let span = k * sr..(k + 1) * sr;
        let e: f64 = span.clone().map(|i| ((out[i] - fresh[i]) as f64).powi(2)).sum();
        let s: f64 = span.map(|i| (fresh[i] as f64).powi(2)).sum();
        10.0 * (e / s).log10()
    });
    Some(db.collect())
}

/// What a move of the microphone in the middle of a held loop did (`moved`).
#[derive(Debug, Clone, Copy)]
pub struct Moved {
    /// Where the loop ran away before the move (s from the start of the hold), if it did.
    pub ran_before: Option<f32>,
    /// The output's loudest 100 ms over the source's level (dB): in the second before the move,
    /// after it, and over the last two seconds (NaN where the loop had run away by then).
    pub before_db: f32,
    pub after_db: f32,
    pub last_db: f32,
    /// Where the loop ran away after the move (s), if it did.
    pub ran_after: Option<f32>,
}

/// How long the microphone takes to move (`moved`): 100 ms.
pub const MOVE_S: f32 = 0.1;

/// The loop rising as in `sustained` to `over_db` over the suppressor-off MSG (`off_db`) in
/// `room` and held there for `hold_s`, the suppressor in `mode`; then the microphone moving to
/// where `to` hears from (over `MOVE_S`), the loop gain staying, for `after_s` more.
#[allow(clippy::too_many_arguments)]
pub fn moved(room: &Room, to: &Room, src: &[f32], off_db: Option<f32>, over_db: f32, mode: f32, hold_s: f32, after_s: f32) -> Moved {
    let (rise, gain) = rise_then_hold(room, off_db, over_db);
    let at = rise + (hold_s * SR) as usize;
    let ref_db = rms_db(src);
    // (Whole blocks: the run stops at the last one.)
    let frames = (at + (after_s * SR) as usize) / BLOCK * BLOCK;
    let happens = Happens { moved: Some(Move { to, at, glide: (MOVE_S * SR) as usize }), ..Happens::default() };
    let run = run_loop_with(&mut host(Some(mode)), room, happens, src, frames, gain, ref_db);
    let ran = run.runaway_at;
    let window = (0.1 * SR) as usize;
    // NaN where the run had stopped (run away) by `to`, or the stretch is shorter than a window.
    let loudest = |from: usize, to: usize| {
        if ran.is_some_and(|p| p < to) || run.out.len() < to || to < from + window {
            return f32::NAN;
        }
        loudest_100ms(&run.out, from, to) - ref_db
    };
    Moved {
        ran_before: ran.filter(|&p| p <= at).map(|p| (p as f32 - rise as f32) / SR),
        before_db: loudest(at.saturating_sub(SR as usize), at),
        after_db: loudest(at, frames),
        last_db: loudest(frames.saturating_sub((2.0 * SR) as usize).max(at), frames),
        ran_after: ran.filter(|&p| p > at).map(|p| (p - at) as f32 / SR),
    }
}

/// How loud the chain's safety ceiling lets the howl be in `switched_on_held` (dBFS).
pub const HELD_CEILING_DB: f32 = -6.0;

/// What switching the suppressor on under a howl the ceiling holds did (`switched_on_held`):
/// the output's level over the source's (dB) in the second before, from 1 to 2 s after and in
/// the last 2 s, the howls it found, and the notches at the end (frequency, depth dB).
#[derive(Debug, Clone)]
pub struct SwitchedOn {
    pub before_db: f32,
    pub after_db: f32,
    pub last_db: f32,
    pub found: u32,
    pub notches: Vec<(f32, f32)>,
}

/// A howl a limiter holds, and the suppressor switched on under it: the loop `over_db` over the
/// response's MSG in `room` with the suppressor off and the chain's safety ceiling on at
/// `HELD_CEILING_DB` (the howl runs up to it and stays), for `on_s`; then the suppressor
/// switched on (mode notch + fixed) for `after_s` more. A howl that no longer grows is found
/// only as a held one (`detect`), its notch on trial.
pub fn switched_on_held(room: &Room, src: &[f32], over_db: f32, on_s: f32, after_s: f32) -> SwitchedOn {
    let mut h = host(None);
    h.set("fb_mode", NOTCH).expect("fb_mode");
    h.set("ceiling_on", 1.0).expect("ceiling_on");
    h.set("ceiling", HELD_CEILING_DB).expect("ceiling");
    h.settle();
    let on = (on_s * SR) as usize / BLOCK * BLOCK;
    let frames = (on + (after_s * SR) as usize) / BLOCK * BLOCK;
    let happens = Happens { switched_on_at: Some(on), ..Happens::default() };
    let gain = -room.peak_gain_db + over_db;
    let ref_db = rms_db(src);
    let run = run_loop_with(&mut h, room, happens, src, frames, |_| gain, ref_db);
    let level = |from: usize, to: usize| rms_db(&run.out[from.min(run.out.len())..to.min(run.out.len())]) - ref_db;
    SwitchedOn {
        before_db: level(on - SR as usize, on),
        after_db: level(on + SR as usize, on + 2 * SR as usize),
        last_db: level(frames - 2 * SR as usize, frames),
        found: h.bridge.fb_found.load(std::sync::atomic::Ordering::Relaxed),
        notches: run.notches,
    }
}

/// One room and source: the figures of the report.
#[derive(Debug, Clone)]
pub struct Figures {
    pub room: String,
    pub source: String,
    /// The loop's MSG from the room's response (dB of loop gain).
    pub msg_db: f32,
    /// Where the rising loop ran away, over `msg_db`: suppressor off and on (None: not by the
    /// top of the ramp).
    pub off_db: Option<f32>,
    pub on_db: Option<f32>,
    /// The same in mode "notch + fixed + shift".
    pub shift_db: Option<f32>,
    /// The same with the canceller (mode "notch + fixed + shift + canceller").
    pub cancel_db: Option<f32>,
    /// The same after a ring-out (`ring_out_msg`).
    pub rung_db: Option<f32>,
    /// The same as `on_db` with at most `FEW_NOTCHES` dynamic notches, and their spectral
    /// distortion as `sd_db`.
    pub few_db: Option<f32>,
    pub sd_few_db: Distortion,
    /// A step to `STEP_DB` over the MSG (`step`), with the notches and with the canceller.
    pub step: Step,
    pub step_cancel: Step,
    /// The spectral distortion of the notches the ramp left, on the source with the loop open.
    pub sd_db: Distortion,
    /// The spectral distortion of the whole suppressor on the source with the loop open, fresh,
    /// in mode "notch + fixed + shift" and with the canceller (`mode_sd`).
    pub sd_shift_db: Distortion,
    pub sd_cancel_db: Distortion,
    /// Notches held at the top of the ramp.
    pub notches: usize,
}

/// The step for the detection measure (dB over the MSG).
pub const STEP_DB: f32 = 3.0;
/// The ramp: from `RAMP_START_DB` over the MSG (3 dB under it), `RAMP_RATE_DB_S` (1 dB per
/// second), up to `RAMP_TOP_DB` over it.
pub const RAMP_TOP_DB: f32 = 30.0;
pub const RAMP_START_DB: f32 = -3.0;
pub const RAMP_RATE_DB_S: f32 = 1.0;
/// The suppressor-off ramp stops this far over the MSG (every room's loop runs away by then).
pub const OFF_TOP_DB: f32 = 6.0;

/// Where the rising loop runs away with the suppressor off, in dB over the response's MSG
/// (None: not by `OFF_TOP_DB`).
pub fn off_msg(room: &Room, src: &[f32]) -> Option<f32> {
    ramp_msg(room, src, None, RAMP_START_DB, OFF_TOP_DB, RAMP_RATE_DB_S).0
}

/// Where the rising loop runs away with the suppressor in `mode` (None: not by `RAMP_TOP_DB`),
/// and the run.
pub fn on_msg(room: &Room, src: &[f32], mode: f32) -> (Option<f32>, LoopRun) {
    on_msg_with(room, src, mode, &[])
}

/// `on_msg` with more of the suppressor's settings (`host_with`).
pub fn on_msg_with(room: &Room, src: &[f32], mode: f32, settings: &[(&str, f32)]) -> (Option<f32>, LoopRun) {
    ramp_msg_with(room, src, Some(mode), settings, RAMP_START_DB, RAMP_TOP_DB, RAMP_RATE_DB_S)
}

/// The fewer dynamic notches the report measures too (`fb_count`; the default is 8).
pub const FEW_NOTCHES: f32 = 6.0;

/// Every figure for one room and source.
pub fn measure(room: &Room, name: &str, src: &[f32]) -> Figures {
    let off_db = off_msg(room, src);
    let (on_db, on_run) = on_msg(room, src, NOTCH);
    let (shift_db, _) = on_msg(room, src, SHIFT);
    let (cancel_db, _) = on_msg(room, src, CANCEL);
    let (rung_db, _) = ring_out_msg(room, src, RAMP_TOP_DB);
    let (few_db, few_run) = on_msg_with(room, src, NOTCH, &[("fb_count", FEW_NOTCHES)]);
    // The step goes over the MSG the rising loop found (the response's peak gain is an upper
    // bound: the loop howls only where its phase also comes round).
    let over = off_db.unwrap_or(0.0) + STEP_DB;
    let held = held_under(room, src);
    let (step_notch, step_cancel) = (step(room, src, over, NOTCH, &held), step(room, src, over, CANCEL, &held));
    let sd_db = spectral_distortion(src, &on_run.notches);
    Figures {
        room: room.name.to_string(),
        source: name.to_string(),
        msg_db: -room.peak_gain_db,
        off_db,
        on_db,
        shift_db,
        cancel_db,
        rung_db,
        few_db,
        sd_few_db: spectral_distortion(src, &few_run.notches),
        step: step_notch,
        step_cancel,
        sd_db,
        sd_shift_db: mode_sd(src, SHIFT),
        sd_cancel_db: mode_sd(src, CANCEL),
        notches: on_run.notches.len(),
    }
}

/// The detection measure on its own: where the rising loop runs away with the suppressor off
/// (dB over the response's MSG, None: not by 6 dB over it), then `step` to `STEP_DB` over that
/// (over the response's MSG when it never ran away), with the notches (mode "notch + fixed")
/// and with the canceller; and the closed-loop SD of the reference, the loop held under the MSG
/// with no suppressor, over the same last second as the steps'; and the same step with no
/// suppressor, watched at the howl's frequency (`growth`).
pub fn detection(room: &Room, src: &[f32]) -> Detection {
    let off = off_msg(room, src);
    let over = off.unwrap_or(0.0) + STEP_DB;
    let held = held_under(room, src);
    Detection {
        off,
        notch: step(room, src, over, NOTCH, &held),
        cancel: step(room, src, over, CANCEL, &held),
        held_sd: last_second_sd(src, &held.out),
        growth: growth(room, src, over, &held),
    }
}

/// The detection figures of a room and source (`detection`).
#[derive(Debug, Clone, Copy)]
pub struct Detection {
    /// Where the rising loop ran away with the suppressor off (`off_msg`).
    pub off: Option<f32>,
    /// The step `STEP_DB` over it, with the notches and with the canceller.
    pub notch: Step,
    pub cancel: Step,
    /// The closed-loop SD of the loop held 6 dB under the response's MSG, no suppressor.
    pub held_sd: Distortion,
    /// The same step with no suppressor: what a detector has to go on.
    pub growth: Growth,
}

/// A howl left to grow: the `step` with no suppressor, watched at the frequency it ran away at.
#[derive(Debug, Clone, Copy)]
pub struct Growth {
    /// From the step to the output running away (ms; None: it did not in two seconds). The rest
    /// are NaN when it did not, or ran away within `GROWTH_AT_MS` and a frame.
    pub runaway_ms: Option<f32>,
    /// The howl's frequency (Hz): the loudest bin of the output's last `GROWTH_FFT` samples
    /// before it ran away.
    pub hz: f32,
    /// The output's level at that frequency `GROWTH_AT_MS` after the step over the same bin of
    /// the loop held 6 dB under the MSG at the same moment (`held_under`), dB: the howl and the
    /// loop's colouring of the source together.
    pub over_held_db: f32,
    /// How fast it grew (dB/s): its level at the runaway over its level `GROWTH_AT_MS` after
    /// the step, over the time between.
    pub rate_db_s: f32,
    /// What a detector sees of it by then: the bin's `Features` in the frame that ends
    /// `GROWTH_AT_MS` after the step, against the frame that ends at the step. (Its depth under
    /// the loudest bin says how far a howl has to go to stand out of the spectrum.)
    pub seen: Features,
    /// How often the source does as much by itself, in the loop held 6 dB under the MSG (no
    /// howl): the same bin rising by `seen.rise_db` or more within `GROWTH_AT_MS`
    /// (`rise_share`). A detector that knew the howl's frequency beforehand and notched any such
    /// rise there would notch the howl-free source that often.
    pub source: Rises,
    /// The same bin as howl-like as the howl by every feature at once (`Spectra::alike`).
    pub source_alike: Rises,
    /// A peak anywhere from 100 Hz to 10 kHz as howl-like by every feature (`Spectra::alike`):
    /// what a detector that does not know the frequency, and asks no more than the howl shows
    /// by then, would notch.
    pub anywhere: Rises,
}

/// The frame `growth` looks at the howl through (Hann, 43 ms at 48 kHz: 23 Hz bins).
pub const GROWTH_FFT: usize = 2048;
/// When `growth` reads how far the howl has come: the goal's 50 ms after the step.
pub const GROWTH_AT_MS: f32 = 50.0;
/// The same in samples: ten `MOMENT`s.
pub const GROWTH_LAG: usize = 2400;
/// The moments `rise_share` and `Spectra` look at: 5 ms apart.
pub const MOMENT: usize = 240;

/// The step of `step` (`over_db` over the response's MSG after two seconds 6 dB under it) with
/// the suppressor off: how long the howl takes to run away, what a detector can see of it
/// `GROWTH_AT_MS` after the step (`Features`), and how often the loop held under the MSG, with
/// no howl, looks as howl-like.
pub fn growth(room: &Room, src: &[f32], over_db: f32, held: &LoopRun) -> Growth {
    let (t0, gain) = step_gain(room, over_db);
    let run = run_loop(&mut host(None), room, src, 2 * t0, gain, rms_db(src));
    let lag = GROWTH_LAG;
    let at = t0 + lag;
    let unmeasured = |runaway_ms| Growth {
        runaway_ms,
        hz: f32::NAN,
        over_held_db: f32::NAN,
        rate_db_s: f32::NAN,
        seen: Features { rise_db: f64::NAN, pnpr_db: f64::NAN, under_top_db: f64::NAN, persist: 0 },
        source: Rises::NONE,
        source_alike: Rises::NONE,
        anywhere: Rises::NONE,
    };
    let Some(end) = run.runaway_at.filter(|&p| p > t0) else { return unmeasured(None) };
    let runaway_ms = Some((end - t0) as f32 / SR * 1000.0);
    if end < at + GROWTH_FFT {
        // Away before there was anything to watch it grow by.
        return unmeasured(runaway_ms);
    }
    let mut spectrum = spectra(GROWTH_FFT);
    let last = spectrum(&run.out[end - GROWTH_FFT..end]);
    let k = (1..last.len()).max_by(|&a, &b| last[a].total_cmp(&last[b])).unwrap_or(1);
    let before = spectrum(&held.out[at - GROWTH_FFT..at]);
    // The frames from the one that ends at the step to the one that ends `lag` later (`now`).
    let watched = Spectra::of(&run.out[t0 - GROWTH_FFT..at]);
    let Some(seen) = watched.features(watched.frames.len() - 1, lag / MOMENT, k) else {
        // (A howl over the bins `Spectra` keeps: none of the rooms'.)
        return unmeasured(runaway_ms);
    };
    let now = &watched.frames[watched.frames.len() - 1];
    // (From half a second in: the loop's first fill is no moment a detector lives through.)
    let quiet = &held.out[(0.5 * SR) as usize..];
    let (source_alike, anywhere) = Spectra::of(quiet).alike(lag, Some(k), &seen);
    Growth {
        runaway_ms,
        hz: k as f32 * SR / GROWTH_FFT as f32,
        over_held_db: (now[k] - before[k]) as f32,
        rate_db_s: ((last[k] - now[k]) / ((end - at) as f64 / SR as f64)) as f32,
        seen,
        source: rise_share(quiet, k, lag, seen.rise_db),
        source_alike,
        anywhere,
    }
}

/// The features of a bin that the literature's detectors weigh, in a frame against an earlier
/// one: how far it rose (dB; the magnitude slope), how far it stands over its loudest
/// neighbour 3 to 5 bins away (dB; peak-to-neighbour, past the Hann window's main lobe), how far
/// under the frame's loudest bin (dB; the peak-to-peak ratio, negated), and in how many of the
/// frames from the earlier one to this one, ends included, it stood over every such neighbour
/// (interframe peak persistence).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features {
    pub rise_db: f64,
    pub pnpr_db: f64,
    pub under_top_db: f64,
    pub persist: usize,
}

impl Features {
    /// As howl-like as `howl` by every feature: rose as far, stands as far out of its
    /// neighbours, no further under the loudest bin, and a peak in as many frames.
    pub fn as_howl_like_as(&self, howl: &Features) -> bool {
        self.rise_db >= howl.rise_db
            && self.pnpr_db >= howl.pnpr_db
            && self.under_top_db <= howl.under_top_db
            && self.persist >= howl.persist
    }
}

/// Bin `k`'s level over its loudest neighbour 3 to 5 bins away in `frame` (dB; not DC).
fn over_neighbours(frame: &[f64], k: usize) -> f64 {
    let neighbour = (3..=5)
        .flat_map(|m| [k.checked_sub(m).filter(|&j| j > 0), Some(k + m)])
        .flatten()
        .filter_map(|j| frame.get(j))
        .copied()
        .fold(f64::MIN, f64::max);
    frame[k] - neighbour
}

/// The bins a detector is asked about anywhere (`Spectra::alike`): 100 Hz to 10 kHz.
fn searched() -> std::ops::RangeInclusive<usize> {
    let bin = |hz: f32| (hz / SR * GROWTH_FFT as f32).round() as usize;
    bin(100.0)..=bin(10_000.0)
}

/// A signal's `GROWTH_FFT` Hann spectra (dB), one ending every `MOMENT` (5 ms), up to the
/// searched bins' neighbours; each one's loudest bin; and where each bin stands over its
/// neighbours.
pub struct Spectra {
    frames: Vec<Vec<f64>>,
    tops: Vec<f64>,
    peaks: Vec<Vec<bool>>,
}

impl Spectra {
    pub fn of(x: &[f32]) -> Spectra {
        let mut spectrum = spectra(GROWTH_FFT);
        let keep = searched().end() + 6;
        let (mut frames, mut tops, mut peaks) = (Vec::new(), Vec::new(), Vec::new());
        for p in (GROWTH_FFT..=x.len()).step_by(MOMENT) {
            let mut s = spectrum(&x[p - GROWTH_FFT..p]);
            tops.push(s[1..].iter().copied().fold(f64::MIN, f64::max));
            s.truncate(keep);
            peaks.push((0..s.len()).map(|k| over_neighbours(&s, k) >= 0.0).collect());
            frames.push(s);
        }
        Spectra { frames, tops, peaks }
    }

    /// Bin `k`'s features in frame `j` against frame `j - apart` (None: over the bins kept).
    pub fn features(&self, j: usize, apart: usize, k: usize) -> Option<Features> {
        let (now, then) = (&self.frames[j], &self.frames[j - apart]);
        (k < now.len()).then(|| Features {
            rise_db: now[k] - then[k],
            pnpr_db: over_neighbours(now, k),
            under_top_db: self.tops[j] - now[k],
            persist: self.peaks[j - apart..=j].iter().filter(|p| p[k]).count(),
        })
    }

    /// How often the signal is as howl-like as `howl` (`Features::as_howl_like_as`, each frame
    /// against the frame `lag` samples earlier): at bin `k` (None: not asked), and anywhere from
    /// 100 Hz to 10 kHz at a peak (a bin over the two on either side). Anywhere, `Rises::share`
    /// is the share of the moments with such a peak, and `Rises::per_s` counts the times one
    /// comes up with none at or next to its bin the moment before (a tone that glides from bin
    /// to bin counts once): what a detector would notch.
    pub fn alike(&self, lag: usize, k: Option<usize>, howl: &Features) -> (Rises, Rises) {
        assert!(lag.is_multiple_of(MOMENT), "{lag} samples apart");
        let apart = lag / MOMENT;
        let alike = |j: usize, b: usize| self.features(j, apart, b).is_some_and(|f| f.as_howl_like_as(howl));
        let at_k: Vec<bool> = match k {
            Some(k) => (apart..self.frames.len()).map(|j| alike(j, k)).collect(),
            None => Vec::new(),
        };
        let (any, events) = self.peaks_alike(apart, howl);
        let mut anywhere = Rises::count(&any);
        anywhere.per_s = events as f64 / self.seconds(apart);
        (if at_k.is_empty() { Rises::NONE } else { Rises::count(&at_k) }, anywhere)
    }

    /// At each moment from `apart` on, whether a peak from 100 Hz to 10 kHz is as howl-like as
    /// `howl` (each frame against the frame `apart` moments earlier); and how many times one
    /// came up with none at or within two bins of it the moment before.
    fn peaks_alike(&self, apart: usize, howl: &Features) -> (Vec<bool>, usize) {
        let peak = |j: usize, b: usize| {
            let f = &self.frames[j];
            // (Of two equal bins the higher is the peak.)
            (b - 2..b).all(|i| f[i] <= f[b]) && (b + 1..=b + 2).all(|i| f.get(i).is_none_or(|&v| v < f[b]))
        };
        let alike = |j: usize, b: usize| peak(j, b) && self.features(j, apart, b).is_some_and(|f| f.as_howl_like_as(howl));
        let bins: Vec<Vec<bool>> = (apart..self.frames.len()).map(|j| searched().map(|b| alike(j, b)).collect()).collect();
        let width = bins.first().map_or(0, Vec::len);
        let fresh = |now: &Vec<bool>, before: Option<&Vec<bool>>, b: usize| {
            now[b] && !before.is_some_and(|v| (b.saturating_sub(2)..=(b + 2).min(width - 1)).any(|i| v[i]))
        };
        let events: usize = bins
            .iter()
            .zip(std::iter::once(None).chain(bins.iter().map(Some)))
            .map(|(now, before)| (0..width).filter(|&b| fresh(now, before, b)).count())
            .sum();
        (bins.iter().map(|m| m.iter().any(|&b| b)).collect(), events)
    }

    /// How many times a howl-like peak comes up anywhere (`alike`'s second figure) in several
    /// signals together, and how many times a second over their whole length.
    pub fn anywhere_in(all: &[Spectra], lag: usize, howl: &Features) -> (usize, f64) {
        assert!(lag.is_multiple_of(MOMENT), "{lag} samples apart");
        let apart = lag / MOMENT;
        let events: usize = all.iter().map(|s| s.peaks_alike(apart, howl).1).sum();
        (events, events as f64 / all.iter().map(|s| s.seconds(apart)).sum::<f64>())
    }

    /// The time the pairs `apart` moments apart span (s).
    fn seconds(&self, apart: usize) -> f64 {
        (self.frames.len().saturating_sub(apart) * MOMENT) as f64 / SR as f64
    }
}

/// A function giving the power spectrum (dB) of an `n`-sample Hann frame.
fn spectra(n: usize) -> impl FnMut(&[f32]) -> Vec<f64> {
    let fft = realfft::RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let window = hann(n);
    let (mut frame, mut out) = (fft.make_input_vec(), fft.make_output_vec());
    move |x: &[f32]| {
        for ((f, &v), &w) in frame.iter_mut().zip(x).zip(&window) {
            *f = v as f64 * w;
        }
        fft.process(&mut frame, &mut out).expect("fft sizes");
        out.iter().map(|c| 10.0 * (c.norm_sqr() + 1e-30).log10()).collect()
    }
}

/// A Hann window of `n` (periodic).
fn hann(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos()).collect()
}

/// The power (dB) of bin `k` of `x` through `window` (as long as `x`).
fn bin_db(x: &[f32], k: usize, window: &[f64]) -> f64 {
    let n = window.len();
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for (i, (&v, &w)) in x.iter().zip(window).enumerate() {
        let phase = std::f64::consts::TAU * ((k * i) % n) as f64 / n as f64;
        re += v as f64 * w * phase.cos();
        im -= v as f64 * w * phase.sin();
    }
    10.0 * (re * re + im * im + 1e-30).log10()
}

/// How often something happens at the moments a detector looks (`rise_share`, `Spectra::alike`,
/// which counts a peak's runs anywhere its own way).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rises {
    /// The share of the moments (every 5 ms) it happens at.
    pub share: f64,
    /// Those moments' runs (once however many moments in a row) per second.
    pub per_s: f64,
}

impl Rises {
    pub const NONE: Rises = Rises { share: f64::NAN, per_s: f64::NAN };

    /// From whether it happened at each moment.
    fn count(at: &[bool]) -> Rises {
        let runs = at.iter().zip(std::iter::once(&false).chain(at)).filter(|&(&now, &before)| now && !before).count();
        Rises {
            share: at.iter().filter(|&&o| o).count() as f64 / at.len() as f64,
            per_s: runs as f64 / (at.len() * MOMENT) as f64 * SR as f64,
        }
    }
}

/// How often bin `k` of `x`, in a `GROWTH_FFT` Hann frame, stands `at_least_db` or more over
/// the same bin of the frame `lag` samples earlier (a multiple of 5 ms). For white noise and
/// frames that do not overlap (`lag` ≥ `GROWTH_FFT`), the bin's power in each frame is
/// exponentially distributed and independent of the other's, so the share is
/// 1/(1 + 10^(at_least_db/10)).
pub fn rise_share(x: &[f32], k: usize, lag: usize, at_least_db: f64) -> Rises {
    let window = hann(GROWTH_FFT);
    assert!(lag.is_multiple_of(MOMENT) && x.len() >= GROWTH_FFT + lag + MOMENT, "{lag} samples apart in {}", x.len());
    let levels: Vec<f64> = (GROWTH_FFT..=x.len()).step_by(MOMENT).map(|p| bin_db(&x[p - GROWTH_FFT..p], k, &window)).collect();
    let apart = lag / MOMENT;
    let over: Vec<bool> = (apart..levels.len()).map(|j| levels[j] - levels[j - apart] >= at_least_db).collect();
    Rises::count(&over)
}

/// The loop held 6 dB under the room's response MSG for four seconds, suppressor off: the
/// reference `step` compares with (one run serves every step of a room and source).
pub fn held_under(room: &Room, src: &[f32]) -> LoopRun {
    let msg = -room.peak_gain_db;
    run_loop(&mut host(None), room, src, (4.0 * SR) as usize, |_| msg - 6.0, rms_db(src))
}

/// The loop at 6 dB under the room's response MSG for two seconds, then `over_db` over it for two
/// more (suppressor in `mode`): ms from the step to the first notch (with the canceller, to the
/// first howl in sight, which urges it), and how far the howl got: the
/// output's loudest 100 ms after the step over the loudest 100 ms of the same stretch of `held`
/// (`held_under`). A source's own loudest 100 ms are what a howl has to pass to be heard over
/// it: speech's are 7 dB over its long-term level, a held vowel's hardly over it, so a figure
/// against the long-term level would count a syllable as a howl. A loop that ran away (its
/// output `RUNAWAY_DB` over the source's level) scores an infinite peak.
pub fn step(room: &Room, src: &[f32], over_db: f32, mode: f32, held: &LoopRun) -> Step {
    step_on(&mut host(Some(mode)), room, src, over_db, mode, held)
}

/// `step` on a chain as it is (the suppressor in `mode`).
fn step_on(h: &mut OfflineHost, room: &Room, src: &[f32], over_db: f32, mode: f32, held: &LoopRun) -> Step {
    let ref_db = rms_db(src);
    let (t0, gain) = step_gain(room, over_db);
    let run = run_loop(h, room, src, 2 * t0, gain, ref_db);
    // The notches act on a howl found; the canceller on one in sight, however quiet.
    let first = if mode >= CANCEL { run.first_heard_at } else { run.first_notch_at };
    let detect = first.filter(|&p| p > t0).map(|p| (p - t0) as f32 / SR * 1000.0);
    let peak_db = if run.runaway_at.is_some() {
        f32::INFINITY
    } else {
        loudest_100ms(&run.out, t0, run.out.len()) - loudest_100ms(&held.out, t0, held.out.len())
    };
    let sd = run.runaway_at.is_none().then(|| last_second_sd(src, &run.out));
    Step { ms: detect, peak_db, sd }
}

/// The step's loop gain: 6 dB under the response's MSG for two seconds, then `over_db` over it;
/// and the sample of the step.
pub(crate) fn step_gain(room: &Room, over_db: f32) -> (usize, impl Fn(usize) -> f32) {
    let msg = -room.peak_gain_db;
    let t0 = (2.0 * SR) as usize;
    (t0, move |pos: usize| if pos < t0 { msg - 6.0 } else { msg + over_db })
}

/// `closed_loop_sd` over the last second of a four-second `step` (or `held_under`) run.
fn last_second_sd(src: &[f32], out: &[f32]) -> Distortion {
    closed_loop_sd(src, out, (3.0 * SR) as usize)
}

/// The spectral distortion (`frame_sd`) of a loop's speaker signal `out` against the source
/// from sample `from` to the end: what a listener hears of the source through the loop (the
/// room's feedback, the shift, the notches, the canceller's misadjustment) in the literature's
/// closed-loop measure.
pub fn closed_loop_sd(src: &[f32], out: &[f32], from: usize) -> Distortion {
    let x: Vec<f32> = (from..out.len()).map(|i| src[i % src.len()]).collect();
    frame_sd(&x, &out[from.min(out.len())..])
}

/// The loop gain of `sustained`, `muted` and `moved` at sample `pos` (dB): rising at
/// `RAMP_RATE_DB_S` from `RAMP_START_DB` over the suppressor-off MSG (`off_db` over the response's
/// MSG; the response's own when the loop never ran away) to `over_db` over it, then held; with
/// the rise's length in samples.
pub fn rise_then_hold(room: &Room, off_db: Option<f32>, over_db: f32) -> (usize, impl Fn(usize) -> f32) {
    let base = -room.peak_gain_db + off_db.unwrap_or(0.0);
    let rise = ((over_db - RAMP_START_DB) / RAMP_RATE_DB_S * SR) as usize;
    (rise, move |pos: usize| base + RAMP_START_DB + RAMP_RATE_DB_S * pos.min(rise) as f32 / SR)
}

/// The loop rising as in `ramp_msg` (1 dB/s from 3 dB under the MSG the rising loop found with
/// the suppressor off, or under the response's MSG when it never ran away) to `over_db` over it,
/// then held there for `secs`, the suppressor in `mode`: when it ran away (s from the start of
/// the hold), and how many blocks found a howl in the hold's last `secs - settle_s` (once the
/// loop is learnt none should: a canceller that loses what it learnt lets the loop howl again).
pub fn sustained(room: &Room, src: &[f32], off_db: Option<f32>, over_db: f32, mode: f32, secs: f32, settle_s: f32) -> (Option<f32>, usize) {
    let (rise, gain) = rise_then_hold(room, off_db, over_db);
    let run = run_loop(&mut host(Some(mode)), room, src, rise + (secs * SR) as usize, gain, rms_db(src));
    let settle = rise + (settle_s * SR) as usize;
    (run.runaway_at.map(|p| (p as f32 - rise as f32) / SR), run.found_at.iter().filter(|&&p| p > settle).count())
}

/// What a step over the MSG gave (`step`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Time from the step to the first notch (ms; None: nothing was notched).
    pub ms: Option<f32>,
    /// How far the howl got (dB): the output's loudest 100 ms after the step over the loudest
    /// 100 ms of the same stretch with the loop held 6 dB under the MSG; infinite when the loop
    /// ran away.
    pub peak_db: f32,
    /// The closed-loop spectral distortion (`closed_loop_sd`) over the step's last second, the
    /// loop held over its MSG (None: it ran away).
    pub sd: Option<Distortion>,
}

/// The loudest 100 ms level (dB) of `out[from..to]`, the windows a block apart (`f32::MIN` when
/// the stretch is shorter than a window).
fn loudest_100ms(out: &[f32], from: usize, to: usize) -> f32 {
    let window = (0.1 * SR) as usize;
    let mut peak = f32::MIN;
    let mut p = from + window;
    while p <= to.min(out.len()) {
        peak = peak.max(rms_db(&out[p - window..p]));
        p += BLOCK;
    }
    peak
}

/// The spectral distortion (`frame_sd`) of a set of notches on `src` (loop open): the notched
/// against the dry signal.
pub fn spectral_distortion(src: &[f32], notches: &[(f32, f32)]) -> Distortion {
    spectral_distortion_at(src, notches, crate::dsp::feedback::FeedbackSettings::default().width_oct)
}

/// `spectral_distortion` with notches `width_oct` octaves wide.
pub fn spectral_distortion_at(src: &[f32], notches: &[(f32, f32)], width_oct: f32) -> Distortion {
    use crate::dsp::feedback::{FeedbackSettings, FeedbackSuppressor};
    let mut fs = FeedbackSuppressor::default();
    fs.prepare(SR);
    fs.hold(notches);
    let mut y = src.to_vec();
    // No new notch: the least sensitivity, and nothing here howls.
    let s = FeedbackSettings {
        sensitivity: 0.0,
        release_s: 1e9,
        notches: crate::dsp::feedback::MAX_COUNT,
        width_oct,
        ..FeedbackSettings::default()
    };
    for c in y.chunks_mut(crate::dsp::BLOCK) {
        let n = c.len();
        fs.process_block(&mut [c], |_| s, &[1.0; crate::dsp::BLOCK][..n]);
    }
    frame_sd(src, &y)
}

/// The spectral distortion (as `frame_sd`) the chain with the suppressor in `mode` does to `src`
/// with the loop open: the shift's detune, and the canceller's estimate of a path that is not
/// there.
pub fn mode_sd(src: &[f32], mode: f32) -> Distortion {
    let (_, l, r) = open_loop(src, mode);
    let y: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
    frame_sd(src, &y)
}

/// `src` on both channels through the chain with the suppressor in `mode`, no loop: the host
/// after it and the two output channels.
fn open_loop(src: &[f32], mode: f32) -> (OfflineHost, Vec<f32>, Vec<f32>) {
    let mut h = host(Some(mode));
    let (mut l, mut r) = (src.to_vec(), src.to_vec());
    for (cl, cr) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
        h.process(&mut [cl, cr]);
    }
    (h, l, r)
}

/// A spectral distortion in two weightings (dB): `erb` the literature's, `flat` every bin alike.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Distortion {
    /// As van Waterschoot & Moonen ("Fifty years of acoustic feedback control", Proc. IEEE 2011)
    /// define it: per frame of 4096 samples (85 ms; hop 2048, Hann), the root of the weighted mean
    /// over the bins of the squared dB difference between the two power spectra, each of the 17
    /// equally contributing critical bands of ANSI S3.5-1997 (300 Hz to 6.4 kHz) weighing the
    /// same, averaged over the frames with signal (within 40 dB of the loudest).
    pub erb: f32,
    /// The same with every bin from 100 Hz to 8 kHz weighing alike, in frames of 2048 (the
    /// measure this report used first: it weighs the top octaves most, where a synthetic vowel's
    /// bins between harmonics are nearly empty).
    pub flat: f32,
}

impl std::fmt::Display for Distortion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} / {:.2}", self.erb, self.flat)
    }
}

/// The band edges (Hz) of ANSI S3.5-1997's 17 equally contributing critical bands.
const ANSI_BANDS: [f64; 18] = [
    300.0, 400.0, 510.0, 630.0, 770.0, 920.0, 1080.0, 1270.0, 1480.0, 1720.0, 2000.0, 2320.0, 2700.0, 3150.0, 3700.0, 4400.0, 5300.0,
    6400.0,
];

/// The frame-averaged spectral distortion of `y` against `x` in both weightings (see
/// `Distortion`).
pub fn frame_sd(x: &[f32], y: &[f32]) -> Distortion {
    // The literature's: each band's weight shared by its bins.
    let n = 4096;
    let bin = SR as f64 / n as f64;
    let mut erb = vec![0.0f64; n / 2 + 1];
    for edge in ANSI_BANDS.windows(2) {
        let bins: Vec<usize> = (0..erb.len()).filter(|&k| (edge[0]..edge[1]).contains(&(k as f64 * bin))).collect();
        for &k in &bins {
            erb[k] = 1.0 / ((ANSI_BANDS.len() - 1) * bins.len()) as f64;
        }
    }
    let erb = weighted_sd(x, y, n, &erb, |e, loudest| e > 1e-4 * loudest);
    let n = 2048;
    let bin = SR as f64 / n as f64;
    let (lo, hi) = ((100.0 / bin) as usize, (8_000.0 / bin) as usize);
    let flat: Vec<f64> = (0..=n / 2).map(|k| if (lo..hi).contains(&k) { 1.0 / (hi - lo) as f64 } else { 0.0 }).collect();
    let flat = weighted_sd(x, y, n, &flat, |e, _| e > 1e-6);
    Distortion { erb, flat }
}

/// Per `n`-sample frame (hop n/2, Hann), the root of the `weight`ed sum over the bins of the
/// squared dB difference between `y`'s and `x`'s power spectra, averaged over the frames whose
/// weighted bins' energy in `x` passes `active(energy, the loudest frame's)`.
fn weighted_sd(x: &[f32], y: &[f32], n: usize, weight: &[f64], active: impl Fn(f64, f64) -> bool) -> f32 {
    use realfft::RealFftPlanner;
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let (mut a, mut b) = (fft.make_input_vec(), fft.make_input_vec());
    let (mut sa, mut sb) = (fft.make_output_vec(), fft.make_output_vec());
    let hann = hann(n);
    let mut frames = Vec::new();
    let mut start = 0;
    while start + n <= x.len().min(y.len()) {
        for i in 0..n {
            a[i] = x[start + i] as f64 * hann[i];
            b[i] = y[start + i] as f64 * hann[i];
        }
        fft.process(&mut a, &mut sa).expect("fft sizes");
        fft.process(&mut b, &mut sb).expect("fft sizes");
        let used = || weight.iter().enumerate().filter(|(_, &w)| w > 0.0);
        let energy: f64 = used().map(|(k, _)| sa[k].norm_sqr()).sum();
        let sq: f64 = used().map(|(k, &w)| w * (10.0 * ((sb[k].norm_sqr() + 1e-20) / (sa[k].norm_sqr() + 1e-20)).log10()).powi(2)).sum();
        frames.push((energy, sq.sqrt()));
        start += n / 2;
    }
    let loudest = frames.iter().map(|f| f.0).fold(0.0, f64::max);
    let kept: Vec<f64> = frames.iter().filter(|f| active(f.0, loudest)).map(|f| f.1).collect();
    (kept.iter().sum::<f64>() / kept.len().max(1) as f64) as f32
}

/// A music signal through the suppressor with no loop: how many howls it found (with the
/// canceller, had in sight) and the level
/// change (dB, output RMS over input RMS).
pub fn music_check(src: &[f32]) -> (u32, f32) {
    music_check_in(src, NOTCH)
}

/// `music_check` in a given mode (`NOTCH`, `SHIFT`, `CANCEL`).
pub fn music_check_in(src: &[f32], mode: f32) -> (u32, f32) {
    let (h, l, _) = open_loop(src, mode);
    // With the canceller, a howl in sight (urging it to learn) counts as much as one notched.
    let counter = if mode >= CANCEL { &h.bridge.fb_heard } else { &h.bridge.fb_found };
    (counter.load(std::sync::atomic::Ordering::Relaxed), rms_db(&l) - rms_db(src))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Uniform white noise, `secs` long.
    pub(super) fn white(secs: f32, mut seed: u32) -> Vec<f32> {
        (0..(secs * SR) as usize).map(|_| crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5).collect()
    }

    /// A tone at `hz`, silent until `on` s, `secs` long.
    fn switched_on(hz: f32, on: f32, secs: f32) -> Vec<f32> {
        let on = (on * SR) as usize;
        (0..(secs * SR) as usize).map(|i| if i < on { 0.0 } else { (std::f32::consts::TAU * hz * i as f32 / SR).sin() }).collect()
    }

    /// White noise through `rise_share` with frames 50 ms apart (not overlapping): each frame's
    /// bin power is exponential and independent of the other's, so a rise of x dB or more has
    /// the probability 1/(1 + 10^(x/10)) (the ratio of two such powers, R, has P(R ≥ r) =
    /// 1/(1 + r)). Thirty seconds give some 700 independent frames; the seed is fixed, and the
    /// share is held within ±0.02 (about one standard error). A tone switched on rises once,
    /// and only where it was switched on (a fall does not count).
    #[test]
    fn a_noise_bins_rises_are_as_often_as_the_ratio_of_two_exponential_powers() {
        let noise = white(30.0, 0x2545_f491);
        let lag = GROWTH_LAG;
        let mut last = f64::INFINITY;
        for (k, db) in [(93, 0.0), (200, 3.0), (431, 6.0), (700, 10.0)] {
            let rises = rise_share(&noise, k, lag, db);
            let theory = 1.0 / (1.0 + 10f64.powf(db / 10.0));
            println!(
                "bin {k}, rises of {db} dB or more: {:.3} of the moments (theory {theory:.3}), {:.1} a second",
                rises.share, rises.per_s
            );
            assert!((rises.share - theory).abs() <= 0.02, "rises of {db} dB: {:.3}, theory {theory:.3}", rises.share);
            assert!(rises.per_s < last && rises.per_s > 0.0, "{rises:?}");
            last = rises.per_s;
        }
        // A steady tone's bin never rises; switched on, it rises once; and a fall is no rise.
        let k = (1000.0 / SR * GROWTH_FFT as f32).round() as usize;
        assert_eq!(rise_share(&switched_on(1000.0, 0.0, 2.0), k, lag, 1.0).share, 0.0);
        let tone = switched_on(1000.0, 1.0, 2.0);
        let seconds = ((tone.len() - GROWTH_FFT) / MOMENT + 1 - lag / MOMENT) as f64 * MOMENT as f64 / SR as f64;
        assert!((rise_share(&tone, k, lag, 20.0).per_s * seconds - 1.0).abs() < 1e-9, "not one rise");
        let mut fall = tone.clone();
        fall.reverse();
        assert_eq!(rise_share(&fall, k, lag, 1.0).share, 0.0, "a fall counted as a rise");
    }

    /// `Spectra` against theory: on white noise, a bin's rises alone (the other features asked
    /// nothing) come as often as `rise_share` says; a tone half-way between bins k and k + 1
    /// stands over its loudest neighbour 3 to 5 bins away (2.5 bins from the tone) by the Hann
    /// window's own ratio, |W(0.5)/W(2.5)| with W(d) = sinc(d)/(1 − d²): 30.9 dB, in every
    /// frame once it is steady; and, switched on once, it rises there once.
    #[test]
    fn spectra_see_rises_and_peaks_as_the_hann_window_says() {
        let noise = white(10.0, 0x1234_5678);
        let lag = GROWTH_LAG;
        let spectra = Spectra::of(&noise);
        for (k, db) in [(120, 3.0), (333, 8.0)] {
            let rises = Features { rise_db: db, pnpr_db: f64::NEG_INFINITY, under_top_db: f64::INFINITY, persist: 0 };
            let (there, anywhere) = spectra.alike(lag, Some(k), &rises);
            let direct = rise_share(&noise, k, lag, db);
            assert!((there.share - direct.share).abs() < 2e-3, "bin {k}: {there:?} by the spectra, {direct:?} by the bin alone");
            // Every searched bin is noise alike: a peak somewhere rises so at nearly every moment.
            println!("bin {k}, rises of {db} dB: {there:?} there, {anywhere:?} at a peak anywhere");
            assert!(anywhere.share > 0.99 && anywhere.per_s > there.per_s * 10.0, "{anywhere:?}");
        }
        let k = 200;
        let hz = (k as f32 + 0.5) * SR / GROWTH_FFT as f32;
        let spectra = Spectra::of(&switched_on(hz, 1.0, 3.0));
        let last = spectra.frames.len() - 1;
        let f = spectra.features(last, 10, k).expect("a bin kept");
        let w = |d: f64| (std::f64::consts::PI * d).sin() / (std::f64::consts::PI * d) / (1.0 - d * d);
        let theory = 20.0 * (w(0.5) / w(2.5)).abs().log10();
        println!(
            "a tone half-way between bins: {:.2} dB over its neighbours (theory {theory:.2}), {:.2} under the loudest",
            f.pnpr_db, f.under_top_db
        );
        assert!((f.pnpr_db - theory).abs() < 0.2, "{f:?}, theory {theory:.2}");
        // (Bins k and k + 1 stand equally high: the loudest may be either, by a hair.)
        assert!(f.under_top_db.abs() < 1e-3 && f.rise_db.abs() < 1e-3, "{f:?}");
        assert_eq!(f.persist, 11, "a steady tone stands over its neighbours in every frame");
        let onset = Features { rise_db: 20.0, pnpr_db: 20.0, under_top_db: 1.0, persist: 1 };
        let (there, anywhere) = spectra.alike(lag, Some(k), &onset);
        let once = 1.0 / spectra.seconds(lag / MOMENT);
        assert!((there.per_s - once).abs() < 1e-9, "{there:?}: not once ({once:.3} a second)");
        // Anywhere, one peak (of the two equal bins, one) comes up once.
        assert!((anywhere.per_s - once).abs() < 1e-9, "{anywhere:?}: not once ({once:.3} a second)");
    }

    /// A tone gliding from 500 Hz to 2 kHz in 3 s crosses 64 bins, a bin every 47 ms, and comes up
    /// anywhere as one event: a detector would follow it, not notch it 64 times. A tone that
    /// stops and starts again elsewhere is two.
    #[test]
    fn a_gliding_tone_comes_up_once() {
        let (secs, lo, hi) = (3.0f32, 500.0f32, 2_000.0f32);
        let mut phase = 0.0f32;
        let glide: Vec<f32> = (0..(secs * SR) as usize)
            .map(|i| {
                phase = (phase + std::f32::consts::TAU * (lo + (hi - lo) * i as f32 / (secs * SR)) / SR) % std::f32::consts::TAU;
                phase.sin()
            })
            .collect();
        let tone = Features { rise_db: f64::NEG_INFINITY, pnpr_db: 20.0, under_top_db: 1.0, persist: 1 };
        let (events, _) = Spectra::anywhere_in(&[Spectra::of(&glide)], GROWTH_LAG, &tone);
        assert_eq!(events, 1, "a glide over {:.0} bins", (hi - lo) / SR * GROWTH_FFT as f32);
        let mut two = switched_on(700.0, 0.0, 1.5);
        two.extend(vec![0.0; (0.5 * SR) as usize]);
        two.extend(switched_on(1_500.0, 0.0, 1.5));
        let (events, _) = Spectra::anywhere_in(&[Spectra::of(&two)], GROWTH_LAG, &tone);
        assert_eq!(events, 2);
    }
}
