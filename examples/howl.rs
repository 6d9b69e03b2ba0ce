//! The feedback suppressor in the closed loop (`livechain::howl`): MSG, ASG, detection and
//! distortion per room and source, and the music that must be left alone. `cargo xtask howl`
//! runs it; `--quick` measures one room and source only; `--detect` only the detection (every
//! room and source) and the music; `--canceller` only the canceller's figures, on more sources
//! (speech at two rates, sung vowels at four pitches), and the music; `--canceller --seeds`
//! with three more realisations of each vowel (48 vowel rows); `--canceller` also holds the loop
//! 6 dB over the unsuppressed MSG for a minute and counts the howls found; `--loop-aware` what
//! the canceller's estimator, learning all the time as a shadow, knows of each loop before the
//! step and makes of music with no loop (`howl::shadow`); `--switched-off` what the output does
//! when the speaker goes off under a loop the canceller holds (`howl::switched_off`);
//! `--playback` a take played back through the track after a live loop, with and without
//! "clear" (`howl::played_back`); `--held` a howl the safety ceiling holds, and the suppressor
//! switched on under it (`howl::switched_on_held`).

use livechain::howl::{self, room::Room, source};

fn fmt(v: Option<f32>, top: f32) -> String {
    match v {
        Some(v) => format!("{v:+.1}"),
        None => format!(">{top:+.0}"),
    }
}

/// How far a howl got over the source (dB), or "runs away".
fn peak(v: f32) -> String {
    if v.is_finite() {
        format!("{v:+.1}")
    } else {
        "runs away".into()
    }
}

/// A detection time (ms), or "none".
fn ms(v: Option<f32>) -> String {
    v.map_or("none".into(), |v| format!("{v:.0}"))
}

/// The added stable gain: where the loop ran away with the suppressor, less without ("?" when
/// the loop never ran away without it; ">" when it did not with it by the top of the ramp).
fn asg(off: Option<f32>, on: Option<f32>) -> String {
    match (off, on) {
        (Some(off), Some(on)) => format!("{:.1}", on - off),
        (Some(off), None) => format!(">{:.1}", howl::RAMP_TOP_DB - off),
        _ => "?".into(),
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let detect_only = std::env::args().any(|a| a == "--detect");
    let canceller_only = std::env::args().any(|a| a == "--canceller");
    let sr = howl::SR;
    let speech = match source::speech(sr, source::SENTENCES) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("livechain howl: {e}");
            std::process::exit(1);
        }
    };
    let mut sources: Vec<(&str, Vec<f32>)> =
        vec![("speech (espeak-ng)", speech), ("sung vowel /a/ 220 Hz", source::sung_vowel(sr, 6.0, 220.0, 30.0, 5))];
    if !quick {
        sources.push(("pink noise", source::pink_noise(sr, 6.0, 9)));
    }
    let rooms = Room::all(sr);
    let rooms = if quick { &rooms[..1] } else { &rooms[..] };
    if std::env::args().any(|a| a == "--moving") {
        moving(&sources, sr);
        return;
    }
    if std::env::args().any(|a| a == "--switched-off") {
        switched_off(rooms, &sources);
        return;
    }
    if std::env::args().any(|a| a == "--playback") {
        playback(rooms, &sources);
        return;
    }
    if std::env::args().any(|a| a == "--held") {
        held(rooms, &sources);
        return;
    }
    if std::env::args().any(|a| a == "--reset") {
        resets(rooms, &sources);
        return;
    }
    if std::env::args().any(|a| a == "--loop-aware") {
        loop_aware(rooms, &sources, sr);
        return;
    }
    if detect_only {
        bounds(rooms, &sources[0].1);
        detection(rooms, &sources);
        music(sr);
        return;
    }
    if canceller_only {
        let mut more = vec![(String::from("speech (espeak-ng)"), sources[0].1.clone())];
        match source::speech_at(sr, source::SENTENCES, 220) {
            Ok(fast) => more.push(("speech, 220 words/min".into(), fast)),
            Err(e) => eprintln!("livechain howl: {e}"),
        }
        for (f0, seed) in [(220.0, 5), (196.0, 7), (262.0, 9), (147.0, 11)] {
            more.push((format!("sung vowel /a/ {f0} Hz"), source::sung_vowel(sr, 6.0, f0, 30.0, seed)));
            // Other realisations of the same vowel (its jitter and breath noise), on request.
            if std::env::args().any(|a| a == "--seeds") {
                for other in [seed + 100, seed + 200, seed + 300] {
                    more.push((format!("sung vowel /a/ {f0} Hz, seed {other}"), source::sung_vowel(sr, 6.0, f0, 30.0, other)));
                }
            }
        }
        canceller(rooms, &more);
        music(sr);
        return;
    }
    println!(
        "Closed loop at {} kHz, {}-sample blocks; the loop gain rises 1 dB/s from 3 dB under the room's MSG.",
        sr / 1000.0,
        howl::BLOCK
    );
    println!("MSG: the gain at which the rising loop ran away, in dB over the MSG of the room's response; ASG = on − off.");
    println!("Detection: a step from 6 dB under the response MSG to {} dB over the MSG the rising loop found; time to the first notch, the output's highest", howl::STEP_DB);
    println!(
        "100 ms over the source's loudest 100 ms through the loop held under the MSG, with the notches and with the canceller. SD: spectral distortion of the notches the ramp left, loop open; + shift, + canceller: of the"
    );
    println!("suppressor in those modes, fresh, loop open. 6 notches: mode notch + fixed with at most 6 dynamic notches (fb_count; 8 by default), and their SD.\n");
    println!(
        "| room | delay ms | RT60 s | source | MSG dB | off | on | ASG dB | + shift | ASG dB | + canceller | ASG dB | rung out | ASG dB | notches | 6 notches | ASG dB | SD dB (ERB / flat) | detection ms | howl peak dB | + canceller: a howl in sight ms | howl peak dB | SD dB (ERB / flat) | SD + shift dB | SD + canceller dB |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for room in rooms {
        for (name, src) in &sources {
            if quick && name.starts_with("sung") {
                continue;
            }
            let f = howl::measure(room, name, src);
            let asg_on = asg(f.off_db, f.on_db);
            let asg_shift = asg(f.off_db, f.shift_db);
            let asg_rung = asg(f.off_db, f.rung_db);
            let asg_cancel = asg(f.off_db, f.cancel_db);
            println!(
                "| {} | {:.1} | {:.2} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} |",
                f.room,
                room.delay_ms,
                room.rt60,
                f.source,
                f.msg_db,
                fmt(f.off_db, howl::OFF_TOP_DB),
                fmt(f.on_db, howl::RAMP_TOP_DB),
                asg_on,
                fmt(f.shift_db, howl::RAMP_TOP_DB),
                asg_shift,
                fmt(f.cancel_db, howl::RAMP_TOP_DB),
                asg_cancel,
                fmt(f.rung_db, howl::RAMP_TOP_DB),
                asg_rung,
                f.notches,
                fmt(f.few_db, howl::RAMP_TOP_DB),
                asg(f.off_db, f.few_db),
                f.sd_few_db,
                ms(f.step.ms),
                peak(f.step.peak_db),
                ms(f.step_cancel.ms),
                peak(f.step_cancel.peak_db),
                f.sd_db,
                f.sd_shift_db,
                f.sd_cancel_db
            );
        }
    }
    bounds(rooms, &sources[0].1);
    music(sr);
}

/// What the suppressor's own bells could add to each room's loudest peak, each on the loudest
/// point left (`Room::greedy_notches_db`), at the default depth and width and the widest the
/// suppressor offers, for the counts it offers, and what the most of them do to speech (their
/// spectral distortion, loop open). The loop's phase is left out (a singer who moves turns it);
/// the last column is where it puts the edge (`Room::phase_margin_db`).
fn bounds(rooms: &[Room], speech: &[f32]) {
    let d = livechain::dsp::feedback::FeedbackSettings::default();
    let counts = [1, 6, 8, 16, 24];
    let widths = [d.width_oct, 1.0 / 10.0];
    println!(
        "\nWhat the suppressor's notches ({:.0} dB deep, each on the loudest point left) add to the response's loudest peak, dB, and the SD of the {} on speech (ERB / flat):",
        d.max_depth_db,
        counts[counts.len() - 1]
    );
    let mut head: Vec<String> = Vec::new();
    for w in widths {
        head.extend(counts.iter().map(|n| format!("{n} × 1/{:.0} oct", 1.0 / w)));
        head.push(format!("SD of {} × 1/{:.0} dB", counts[counts.len() - 1], 1.0 / w));
    }
    println!("| room | {} | Nyquist edge over the response MSG dB |\n| --- |{}", head.join(" | "), " --- |".repeat(head.len() + 1));
    for room in rooms {
        let mut row: Vec<String> = Vec::new();
        for w in widths {
            let placed = room.greedy_notches_db(counts[counts.len() - 1], w, d.max_depth_db);
            row.extend(counts.iter().map(|&n| format!("{:.1}", placed[n - 1].1)));
            let notches: Vec<(f32, f32)> = placed.iter().map(|&(hz, _)| (hz, d.max_depth_db)).collect();
            row.push(howl::spectral_distortion_at(speech, &notches, w).to_string());
        }
        println!("| {} | {} | {:.1} |", room.name, row.join(" | "), room.phase_margin_db());
    }
}

/// How many times a peak as howl-like as `howl` comes up in `signals`, and how many a second;
/// "—" when the howl's features were not measured.
fn times(signals: &[howl::Spectra], howl: &howl::Features) -> String {
    if !howl.rise_db.is_finite() {
        return "—".to_string();
    }
    let (n, per_s) = howl::Spectra::anywhere_in(signals, howl::GROWTH_LAG, howl);
    format!("{n} ({per_s:.1}/s)")
}

/// A closed-loop SD, or "runs away".
fn sd(d: Option<howl::Distortion>) -> String {
    d.map_or_else(|| "runs away".to_string(), |d| d.to_string())
}

/// The microphone's moves `--moving` tries in the shoebox (m, along x and y).
const MOVES: [(f32, f32); 4] = [(0.1, 0.0), (0.3, 0.0), (0.0, 0.5), (-1.0, 0.5)];

/// `--moving`: the canceller holding a loop in the shoebox 6 and 10 dB over where it ran away
/// with the suppressor off, then the microphone moving (`howl::moved`).
fn moving(sources: &[(&str, Vec<f32>)], sr: f32) {
    let room = Room::shoebox_heard_at(sr, howl::room::SHOEBOX_MIC);
    println!("The shoebox's loop rising 1 dB/s to 6 or 10 dB over where it ran away with the suppressor off, held 4 s (mode canceller), then the microphone");
    println!("moving over {} ms, the loop gain staying, for 6 s more. The output's loudest 100 ms over the source's level: the second before the move, after it, the last 2 s.\n", howl::MOVE_S * 1000.0);
    println!("| move (m) | source | over dB | before the move dB | after dB | ran away after the move | last 2 s dB |\n| --- | --- | --- | --- | --- | --- | --- |");
    for (dx, dy) in MOVES {
        let [x, y, z] = howl::room::SHOEBOX_MIC;
        let to = Room::shoebox_heard_at(sr, [x + dx, y + dy, z]);
        for (name, src) in sources {
            let off = howl::off_msg(&room, src);
            for over in [6.0, 10.0] {
                let m = howl::moved(&room, &to, src, off, over, howl::CANCEL, 4.0, 6.0);
                let ran = m.ran_after.map_or("no".into(), |s| format!("at {:.2} s", s));
                let after = if m.ran_after.is_some() { "runs away".into() } else { format!("{:+.1}", m.after_db) };
                let last = if m.last_db.is_finite() { format!("{:+.1}", m.last_db) } else { "runs away".into() };
                let before = if m.ran_before.is_some() { "runs away".into() } else { format!("{:+.1}", m.before_db) };
                println!("| ({dx}, {dy}) | {name} | {over} | {before} | {after} | {ran} | {last} |");
            }
        }
    }
}

/// `--switched-off`: the canceller holding each room's loop 6 and 10 dB over where it ran away
/// with the suppressor off, with the source at the bench's level and 20 dB under it, then the
/// speaker switched off (`howl::switched_off`).
fn switched_off(rooms: &[Room], sources: &[(&str, Vec<f32>)]) {
    println!("The loop rising 1 dB/s to 6 or 10 dB over where it ran away with the suppressor off, held 4 s (mode canceller), then the speaker switched off");
    println!("(nothing more goes into the room; its reverberation dies away) for 3 s. The output's loudest 100 ms over the source's loudest 100 ms in the same stretch, after the switch-off; and its level over the");
    println!("source's from 0.25 to 3 s (what rings on in the pauses).\n");
    let head: Vec<String> = howl::OFF_WINDOWS.iter().map(|(a, b)| format!("{a}–{b} s dB")).collect();
    println!(
        "| room | source | level dB | over dB | {} | 0.25–3 s level dB |\n| --- | --- | --- | --- |{}",
        head.join(" | "),
        " --- |".repeat(head.len() + 1)
    );
    for room in rooms {
        for (name, src) in sources {
            let off = howl::off_msg(room, src);
            for level in [0.0f32, -20.0] {
                let quiet = source::gained_db(src, level);
                for over in [6.0, 10.0] {
                    let s = howl::switched_off(room, &quiet, off, over, 4.0);
                    let cells: Vec<String> = match s.ran {
                        Some(t) if t < 0.0 => vec![format!("runs away {:.2} s before", -t); 5],
                        _ => s
                            .over_db
                            .iter()
                            .chain([&s.level_db])
                            .map(|v| if v.is_finite() { format!("{v:+.1}") } else { "runs away".into() })
                            .collect(),
                    };
                    println!("| {} | {name} | {level} | {over} | {} |", room.name, cells.join(" | "));
                }
            }
        }
    }
}

/// `--held`: each room's loop 1 and 3 dB over the response's MSG, the suppressor off and the
/// safety ceiling on, then the suppressor switched on (`howl::switched_on_held`).
fn held(rooms: &[Room], sources: &[(&str, Vec<f32>)]) {
    println!(
        "The loop 1 or 3 dB over the response's MSG with the suppressor off and the safety ceiling on at {} dBFS (the howl runs up to it and stays) for 4 s,",
        howl::HELD_CEILING_DB
    );
    println!("then the suppressor switched on (mode notch + fixed) for 6 s: the output's level over the source's, and the notches at the end (Hz: dB).\n");
    println!("| room | source | over dB | the second before dB | 1–2 s after dB | last 2 s dB | found | notches |\n| --- | --- | --- | --- | --- | --- | --- | --- |");
    for over in [1.0f32, 3.0] {
        for room in rooms {
            for (name, src) in sources {
                let on = howl::switched_on_held(room, src, over, 4.0, 6.0);
                let notches: Vec<String> = on.notches.iter().map(|(f, d)| format!("{f:.0}: {d:.0}")).collect();
                println!(
                    "| {} | {name} | {over} | {:+.1} | {:+.1} | {:+.1} | {} | {} |",
                    room.name,
                    on.before_db,
                    on.after_db,
                    on.last_db,
                    on.found,
                    notches.join(", ")
                );
            }
        }
    }
}

/// `--playback`: each room's loop held 6 and 10 dB over where it ran away with the suppressor
/// off, then the source played back with no loop (`howl::played_back`), with and without
/// "clear".
fn playback(rooms: &[Room], sources: &[(&str, Vec<f32>)]) {
    const SECS: usize = 12;
    println!("The loop rising 1 dB/s to 6 or 10 dB over where it ran away with the suppressor off, held 4 s (mode canceller), then the host's stop and play");
    println!("(the plugin activated again, the path kept) and the source played back with no loop for {SECS} s: per second, the output's difference from a");
    println!("fresh plugin's over its level (dB), as it is and with \"clear\" pressed as the playback starts.\n");
    let secs: Vec<String> = (1..=SECS).map(|k| format!("{k}")).collect();
    println!("| room | source | over dB | clear | {} s |\n| --- | --- | --- | --- |{}", secs.join(" | "), " --- |".repeat(SECS));
    let cell = |db: f64| if db == f64::NEG_INFINITY { "same".to_string() } else { format!("{db:.0}") };
    for room in rooms {
        for (name, src) in sources {
            let off = howl::off_msg(room, src);
            for over in [6.0, 10.0] {
                for clear in [false, true] {
                    let cells = match howl::played_back(room, src, off, over, 4.0, SECS, clear) {
                        Some(db) => db.into_iter().map(cell).collect(),
                        None => vec!["runs away while held".to_string(); SECS],
                    };
                    println!("| {} | {name} | {over} | {} | {} |", room.name, if clear { "yes" } else { "no" }, cells.join(" | "));
                }
            }
        }
    }
}

/// `--reset`: the canceller holding each room's loop 6 and 10 dB over where it ran away with
/// the suppressor off, then the host resetting the plugin (`howl::reset_while_held`).
fn resets(rooms: &[Room], sources: &[(&str, Vec<f32>)]) {
    println!("The loop rising 1 dB/s to 6 or 10 dB over where it ran away with the suppressor off, held 4 s (mode canceller), then the host resetting the");
    println!("plugin (a CLAP reset or start_processing, a VST3 setProcessing), or deactivating and activating it again with nothing changed (a VST3 setActive),");
    println!("the room going on, for 3 s more: where it ran away after.\n");
    println!("| room | source | reset, 6 dB over | reset, 10 dB over | activated again, 6 dB over | activated again, 10 dB over |\n| --- | --- | --- | --- | --- | --- |");
    for room in rooms {
        for (name, src) in sources {
            let off = howl::off_msg(room, src);
            let ran = |how: howl::Reset, over: f32| match howl::reset_while_held(room, src, off, over, howl::CANCEL, how, 4.0, 3.0) {
                None => "holds".to_string(),
                Some(s) if s < 0.0 => "ran away before".to_string(),
                Some(s) => format!("runs away {:.2} s after", s),
            };
            let (host, again) = (howl::Reset::Host, howl::Reset::Reactivate);
            println!("| {} | {name} | {} | {} | {} | {} |", room.name, ran(host, 6.0), ran(host, 10.0), ran(again, 6.0), ran(again, 10.0));
        }
    }
}

/// Detection alone: the step over the MSG the rising loop found with the suppressor off.
fn detection(rooms: &[Room], sources: &[(&str, Vec<f32>)]) {
    let music: Vec<howl::Spectra> = source::music(howl::SR).iter().map(|(_, x)| howl::Spectra::of(x)).collect();
    let tones: Vec<howl::Spectra> = source::lone_tones(howl::SR).iter().map(|(_, x)| howl::Spectra::of(x)).collect();
    println!("Detection: a step from 6 dB under the response MSG to {} dB over the MSG the rising loop found.\n", howl::STEP_DB);
    println!(
        "Howl peak: the output's loudest 100 ms after the step over the source's loudest 100 ms through the loop held under the MSG.\n"
    );
    println!(
        "Closed-loop SD: the speaker signal against the source over the step's last second (ERB / flat), and with no suppressor and the loop 6 dB under the response MSG.\n"
    );
    println!(
        "No suppressor: the same step, the howl watched at the frequency it ran away at ({} ms Hann frames): its level {} ms after the step over the source's there, and under the frame's loudest bin; its growth from then to the runaway; what a detector sees {1} ms after the step: how far its bin rose since the step, how far it stands over its loudest neighbour 3 to 5 bins away, and in how many of the 11 frames (5 ms apart) from the step's on it stood over every such neighbour; and how many times a second the loop held under the MSG (no howl) does as much by itself: the same bin rising as far in {1} ms, the same bin as howl-like by all four features (rise, over its neighbours, under the loudest bin, frames a peak), and a peak anywhere from 100 Hz to 10 kHz so (one that glides from bin to bin counted once); and the music below, with no loop, anywhere so (how many times, and how many a second), all of it and its lone tones (the whistle and the sweep, no harmonics to tell them by).\n",
        (howl::GROWTH_FFT as f32 / howl::SR * 1000.0).round(),
        howl::GROWTH_AT_MS
    );
    println!("| room | source | off | detection ms | howl peak dB | closed-loop SD dB | + canceller: detection ms | howl peak dB | closed-loop SD dB | no suppressor, 6 dB under: SD dB | no suppressor: runs away after ms | howl Hz | at 50 ms: over the source dB | under the loudest bin dB | growth dB/s | rose in 50 ms dB | over its neighbours dB | a peak in frames | source alone: rises as much /s | as howl-like there /s | anywhere /s | music anywhere: times (/s) | its lone tones: times (/s) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for room in rooms {
        for (name, src) in sources {
            let d = howl::detection(room, src);
            let g = d.growth;
            println!(
                "| {} | {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {:+.1} | {:.1} | {:.0} | {:+.1} | {:+.1} | {} | {:.1} | {:.1} | {:.1} | {} | {} |",
                room.name,
                fmt(d.off, howl::OFF_TOP_DB),
                ms(d.notch.ms),
                peak(d.notch.peak_db),
                sd(d.notch.sd),
                ms(d.cancel.ms),
                peak(d.cancel.peak_db),
                sd(d.cancel.sd),
                d.held_sd,
                ms(g.runaway_ms),
                g.hz,
                g.over_held_db,
                g.seen.under_top_db,
                g.rate_db_s,
                g.seen.rise_db,
                g.seen.pnpr_db,
                g.seen.persist,
                g.source.per_s,
                g.source_alike.per_s,
                g.anywhere.per_s,
                times(&music, &g.seen),
                times(&tones, &g.seen)
            );
        }
    }
}

/// The canceller alone: where the rising loop runs away without the suppressor and with it in
/// mode "canceller", the canceller's distortion of the source with the loop open; then the mean
/// and the least ASG of the speech rows and of the vowel rows.
fn canceller(rooms: &[Room], sources: &[(String, Vec<f32>)]) {
    println!("Canceller: the rising loop (1 dB/s) with the suppressor off and in mode canceller; SD with the loop open.\n");
    println!("| room | source | off | + canceller | ASG dB | SD + canceller dB (ERB / flat) |\n| --- | --- | --- | --- | --- | --- |");
    let (mut speech, mut vowel) = (Vec::new(), Vec::new());
    let mut offs = Vec::new();
    for room in rooms {
        for (name, src) in sources {
            let off = howl::off_msg(room, src);
            offs.push(off);
            let (on, _) = howl::on_msg(room, src, howl::CANCEL);
            let sd = howl::mode_sd(src, howl::CANCEL);
            println!(
                "| {} | {name} | {} | {} | {} | {sd:.2} |",
                room.name,
                fmt(off, howl::OFF_TOP_DB),
                fmt(on, howl::RAMP_TOP_DB),
                asg(off, on)
            );
            // (A loop that never ran away counts at the ramp's top: at least that.)
            let gain = on.unwrap_or(howl::RAMP_TOP_DB) - off.unwrap_or(howl::OFF_TOP_DB);
            if name.starts_with("speech") {
                speech.push(gain)
            } else {
                vowel.push(gain)
            }
        }
    }
    for (kind, v) in [("speech", &speech), ("sung vowels", &vowel)] {
        if !v.is_empty() {
            let mean = v.iter().sum::<f32>() / v.len() as f32;
            let least = v.iter().cloned().fold(f32::MAX, f32::min);
            let goal = if kind == "speech" { 10.0 } else { 8.0 };
            let met = v.iter().filter(|&&g| g >= goal).count();
            println!("\n{kind}: ASG {mean:.1} dB on average over {} rows, {least:.1} dB at least, {goal} dB or more in {met}.", v.len());
        }
    }
    // Held there: a canceller that learns only with a howl in sight must keep what it learnt.
    let (secs, settle) = (60.0, 10.0);
    println!(
        "\nThe loop rising at 1 dB/s to {HELD_DB} dB over the MSG the rising loop found with the suppressor off, then held there for {secs} s, mode canceller: whether it ran away (s into the hold), and the blocks that found a howl after the hold's first {settle} s.\n"
    );
    println!("| room | source | ran away | blocks finding a howl after {settle} s |\n| --- | --- | --- | --- |");
    let mut offs = offs.into_iter();
    for room in rooms {
        for (name, src) in sources {
            let off = offs.next().flatten();
            if name != "speech (espeak-ng)" && name != "sung vowel /a/ 220 Hz" {
                continue;
            }
            let (ran, later) = howl::sustained(room, src, off, HELD_DB, howl::CANCEL, secs, settle);
            let ran = ran.map_or("no".to_string(), |t| if t < 0.0 { "during the rise".to_string() } else { format!("at {t:.1} s") });
            println!("| {} | {name} | {ran} | {later} |", room.name);
        }
    }
}

/// How far over the suppressor-off MSG `canceller` holds the loop (dB): over what the notches
/// add, well under what the canceller does.
const HELD_DB: f32 = 6.0;

/// Music with no loop: nothing may be notched, the level must stay.
fn music(sr: f32) {
    println!("\nMusic with no loop: howls found and level change (suppressor on, defaults), and the level change with the canceller. The loud rows play at {} dBFS RMS:", source::LOUD_DB);
    println!("a steady lone tone that loud is found as a howl a limiter holds, its notch on trial, let go when the tone does not fall under it (counted as found; in sight, with the canceller, only if kept).");
    println!("The tremolo rows play at -20 dBFS RMS: each rise of their level looks like a howl's growth, but climbs back only to where the tone stood.");
    println!("The swelling rows (-20 dBFS RMS) grow as a howl does and are found, but their notch does not slow them: it is let go (counted as found).\n");
    println!(
        "| signal | howls found | level change dB | with the canceller: howls in sight | level change dB |\n| --- | --- | --- | --- | --- |"
    );
    let music =
        source::music(sr).into_iter().chain(source::swinging_music(sr)).chain(source::swelling_music(sr)).chain(source::loud_music(sr));
    for (name, x) in music {
        let (found, change) = howl::music_check(&x);
        let (cancel_found, cancel) = howl::music_check_in(&x, howl::CANCEL);
        println!("| {name} | {found} | {change:+.3} | {cancel_found} | {cancel:+.3} |");
    }
}

/// The step sizes and floors `--loop-aware` tries: the canceller's own (0.35, 0.0003) and
/// slower, more cautious ones.
const SHADOW_STEPS: [(f32, f32); 8] =
    [(0.35, 0.0003), (0.35, 0.01), (0.35, 0.1), (0.35, 1.0), (0.05, 0.0003), (0.05, 0.01), (0.05, 0.1), (0.05, 1.0)];

/// A gate would need the estimate within this of the truth at the howl's frequency (dB) ...
const LEARNT_DB: f32 = 3.0;
/// ... and music's estimate this far under 0 dB at its loudest.
const MUSIC_UNDER_DB: f32 = 10.0;

/// `--loop-aware`: per step size and floor, how well the shadow knows each loop before the step
/// and the loudest it makes of music with no loop.
fn loop_aware(rooms: &[Room], sources: &[(&str, Vec<f32>)], sr: f32) {
    use howl::shadow;
    println!("The canceller's estimator learning all the time as a shadow (never subtracting), 6 dB under the MSG for 2 s, no suppressor.");
    println!("Per row: the estimate at the loop's loudest frequency against the truth (dB; and the truth of the response's first 0.16 s, all the estimator models),");
    println!("and the estimate's own loudest point (Hz, dB; truth there). Music: the estimate's loudest, read every 50 ms.\n");
    let music = source::music(sr);
    println!("| step, floor | room | source | loop's loudest Hz | truth dB | its first 0.16 s dB | estimate dB | estimate's loudest | truth there dB |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut summary = Vec::new();
    for &(mu, floor) in &SHADOW_STEPS {
        let mut within = 0;
        let mut rows = 0;
        for room in rooms {
            for (name, src) in sources {
                let l = shadow::learnt(room, src, mu, floor);
                rows += 1;
                if (l.est_db - l.truth_db).abs() <= LEARNT_DB {
                    within += 1;
                }
                println!(
                    "| {mu}, {floor} | {} | {name} | {:.0} | {:+.1} | {:+.1} | {:+.1} | {:.0} Hz {:+.1} dB | {:+.1} |",
                    room.name, l.howl_hz, l.truth_db, l.reach_db, l.est_db, l.est_peak_hz, l.est_peak_db, l.truth_at_est_peak_db
                );
            }
        }
        // (The loudest; the first of equals.)
        let worst = music.iter().map(|(name, m)| (name, shadow::on_music(m, mu, floor))).reduce(|a, b| if b.1 .0 > a.1 .0 { b } else { a });
        summary.push((mu, floor, within, rows, worst));
    }
    println!("\nA gate needs every loop learnt within {LEARNT_DB} dB at its loudest frequency and music's estimate {MUSIC_UNDER_DB} dB under 0 dB or more.\n");
    println!("| step, floor | loops learnt within {LEARNT_DB} dB | music's loudest estimate | usable |\n| --- | --- | --- | --- |");
    for (mu, floor, within, rows, worst) in summary {
        let (name, (db, hz, at)) = worst.expect("music");
        let usable = within == rows && db <= -MUSIC_UNDER_DB;
        println!(
            "| {mu}, {floor} | {within} of {rows} | {db:+.1} dB at {hz:.0} Hz ({name}, {at:.1} s) | {} |",
            if usable { "yes" } else { "no" }
        );
    }

    scalar_fit(rooms, sources, &music);
}

/// The gain fit's smoothing times `--loop-aware` tries (s).
const SCALAR_TAUS: [f32; 2] = [0.02, 0.1];

/// `--loop-aware`, second part: with the loop's shape known (as a ring-out could teach it), a
/// one-parameter fit of its gain (`howl::shadow::ScalarFit`): how high it puts the loop before
/// the step, how soon after it it says 0 dB, and how high it puts music with no loop.
fn scalar_fit(rooms: &[Room], sources: &[(&str, Vec<f32>)], music: &[(&str, Vec<f32>)]) {
    use howl::shadow;
    println!("\nThe loop's shape known (the room's response), its gain fitted alone (whitened cross-correlation, smoothed over τ).");
    println!("Per row: the loop's loudest gain by the estimate at its highest in the second before the step (truth −6 dB), and when it first says 0 dB after it.\n");
    let overs: Vec<f32> =
        rooms.iter().flat_map(|room| sources.iter().map(move |(_, src)| howl::off_msg(room, src).unwrap_or(0.0) + howl::STEP_DB)).collect();
    println!("| τ s | room | source | before the step dB | 0 dB after ms |\n| --- | --- | --- | --- | --- |");
    let mut summary = Vec::new();
    for &tau in &SCALAR_TAUS {
        let (mut false_before, mut late, mut over) = (0, 0, overs.iter());
        for room in rooms {
            for (name, src) in sources {
                let s = shadow::scaled(room, src, *over.next().expect("one per row"), tau, None);
                false_before += usize::from(s.before_db >= 0.0);
                late += usize::from(s.alarm_ms.is_none_or(|ms| ms > howl::GROWTH_AT_MS));
                println!(
                    "| {tau} | {} | {name} | {:+.1} | {} |",
                    room.name,
                    s.before_db,
                    s.alarm_ms.map_or("none".into(), |ms| format!("{ms:.0}"))
                );
            }
        }
        let worst = music
            .iter()
            .flat_map(|(name, m)| rooms.iter().map(move |room| (name, room.name, shadow::scaled_on_music(room, m, tau, None))))
            .reduce(|a, b| if b.2 > a.2 { b } else { a });
        summary.push((tau, false_before, late, worst));
    }
    println!("\n| τ s | rows at 0 dB before the step | rows not at 0 dB within 50 ms | music's loudest loop by the estimate |\n| --- | --- | --- | --- |");
    for (tau, false_before, late, worst) in summary {
        let (name, room, db) = worst.expect("music");
        println!("| {tau} | {false_before} of {} | {late} | {db:+.1} dB ({name}, {room}'s shape) |", overs.len());
    }
    probed(rooms, sources, music, &overs);
}

/// The probe levels `--loop-aware` tries (dB under the source's level), and the smoothing times.
const PROBE_DB: [f32; 4] = [-10.0, -20.0, -30.0, -40.0];
const PROBE_TAUS: [f32; 3] = [0.02, 0.05, 0.1];

/// `--loop-aware`, third part: the same gain fit with white probe noise going out under the
/// source, correlated with the shape's response to the probe alone (`ScalarFit::push_on`), so
/// that the source cannot bias it: what each probe level buys.
fn probed(rooms: &[Room], sources: &[(&str, Vec<f32>)], music: &[(&str, Vec<f32>)], overs: &[f32]) {
    use howl::shadow;
    println!(
        "\nThe same, with white probe noise going out under the source, the fit correlating with the shape's response to the probe alone."
    );
    println!("Per τ and probe level: the loudest before the step (truth −6 dB) over all rows, the rows at 0 dB before it, the rows not at 0 dB within 50 ms after it, music's loudest.\n");
    println!("| τ s | probe dB under the source | loudest before the step | rows at 0 dB before | not within 50 ms | slowest after ms | music's loudest loop by the estimate |\n| --- | --- | --- | --- | --- | --- | --- |");
    for &tau in &PROBE_TAUS {
        for &probe_db in &PROBE_DB {
            let (mut loudest, mut false_before, mut late, mut slowest, mut over) = (f32::MIN, 0, 0, 0.0f32, overs.iter());
            for room in rooms {
                for (_, src) in sources {
                    let s = shadow::scaled(room, src, *over.next().expect("one per row"), tau, Some(probe_db));
                    loudest = loudest.max(s.before_db);
                    false_before += usize::from(s.before_db >= 0.0);
                    late += usize::from(s.alarm_ms.is_none_or(|ms| ms > howl::GROWTH_AT_MS));
                    slowest = slowest.max(s.alarm_ms.unwrap_or(f32::INFINITY));
                }
            }
            let (name, room, db) = music
                .iter()
                .flat_map(|(name, m)| {
                    rooms.iter().map(move |room| (name, room.name, shadow::scaled_on_music(room, m, tau, Some(probe_db))))
                })
                .reduce(|a, b| if b.2 > a.2 { b } else { a })
                .expect("music");
            let slowest = if slowest.is_finite() { format!("{slowest:.0}") } else { "none within 300".into() };
            println!(
                "| {tau} | {probe_db} | {loudest:+.1} dB | {false_before} of {} | {late} | {slowest} | {db:+.1} dB ({name}, {room}'s shape) |",
                overs.len()
            );
        }
    }
}
