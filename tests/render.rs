//! `livechain render` and `demo`: the offline path equals the real-time path through a real CLAP
//! host in random block sizes, and bad input is refused with a message and exit status 2.

mod common;
use common::*;
use livechain::host::Event;
use livechain::render::{self, Settings};
use std::path::PathBuf;
use std::process::Command;

fn bin() -> PathBuf {
    common::bundled(&format!("Livechain{}", std::env::consts::EXE_SUFFIX))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("livechain-render-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// The settings both paths use, as events at sample 0 (so both glide from the defaults alike).
const SETTINGS: &[(&str, &str, f32)] = &[
    ("High-Pass", "hp_on", 1.0),
    ("HP Frequency", "hp_freq", 120.0),
    ("Compressor", "comp_on", 1.0),
    ("Threshold", "comp_thresh", -24.0),
    ("Lookahead", "comp_lookahead", 2.0),
    ("Delay", "dly_on", 1.0),
    ("Delay Time", "dly_time", 90.0),
    ("Reverb", "rev_on", 1.0),
    ("Decay", "rev_decay", 1.5),
    ("Input Gain", "in_gain", 3.0),
];

#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn offline_render_equals_the_plugin_in_a_real_host_with_random_blocks() {
    use common::clap::{load_entry, new_instance, param_id, param_table, process_blocks, text_value};
    let sr = 48_000.0;
    let input = [noise(40_000, 0.3, 5), noise(40_000, 0.3, 6)];
    // Offline.
    let events: Vec<Event> = SETTINGS.iter().map(|(_, id, v)| Event { time: 0, id: id.to_string(), value: *v }).collect();
    let s = Settings { events, tail_s: Some(0.0), compensate_latency: false, block: 97, ..Default::default() };
    let (offline, _) = render::render(&input[..], sr as u32, &s).unwrap();
    // Through the CLAP plugin, block sizes drawn at random.
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let clap_events: Vec<(usize, _, f64)> = SETTINGS
        .iter()
        .map(|(name, _, v)| {
            let id = param_id(&table, name);
            // Switches are 0/1 in CLAP's value space; the rest as a user would type them.
            let is_switch = ["High-Pass", "Compressor", "Delay", "Reverb"].contains(name);
            (0, id, if is_switch { *v as f64 } else { text_value(&mut inst, id, &v.to_string()) })
        })
        .collect();
    let mut rng = Lcg(17);
    let blocks: Vec<usize> = (0..2_000).map(|_| rng.range(1, 700)).collect();
    let online = process_blocks(&mut inst, sr, &blocks, &[input[0].clone(), input[1].clone()], &clap_events);
    for ch in 0..2 {
        let worst = offline[ch].iter().zip(&online[ch]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        let first = offline[ch].iter().zip(&online[ch]).position(|(a, b)| (a - b).abs() > 1e-6);
        assert!(worst < 1e-6, "channel {ch}: offline and real-time differ by {worst}, first at {first:?}");
        assert!(rms(&offline[ch]) > 0.01);
    }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn write_wav(path: &std::path::Path, rate: u32, channels: &[Vec<f32>]) {
    render::write_wav(path, channels, rate).unwrap();
}

#[test]
#[ignore = "system: runs the bundled standalone (cargo xtask test)"]
fn the_cli_renders_a_file_with_a_preset_and_sets() {
    let input = tmp("in.wav");
    let output = tmp("out.wav");
    write_wav(&input, 44_100, &[sine(44_100, 440.0, 44_100.0, 0.25), sine(44_100, 660.0, 44_100.0, 0.25)]);
    let (code, out, err) = run(&[
        "render",
        input.to_str().unwrap(),
        output.to_str().unwrap(),
        "--preset",
        "slapback",
        "--set",
        "out_gain=-6",
        "--tail",
        "0.5",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (audio, rate) = render::read_wav(&output).unwrap();
    assert_eq!(rate, 44_100);
    assert_eq!(audio.len(), 2);
    assert_eq!(audio[0].len(), 44_100 + 22_050, "input plus the 0.5 s tail");
    assert!(out.contains("integrated loudness") && out.contains("DSP load"), "{out}");
    // −6 dB of output gain on a slapback: the echo adds, the gain takes away; far below input.
    assert!(rms(&audio[0][10_000..40_000]) < 0.25 * std::f64::consts::FRAC_1_SQRT_2 * 0.9);
}

#[test]
#[ignore = "system: runs the bundled standalone (cargo xtask test)"]
fn bad_input_is_refused_with_a_message_and_status_2() {
    let output = tmp("never.wav");
    let o = output.to_str().unwrap();
    let (code, _, err) = run(&["render", "/nonexistent/input.wav", o]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/input.wav"), "{err}");

    let corrupt = tmp("corrupt.wav");
    std::fs::write(&corrupt, b"RIFF\x10\x00\x00\x00WAVEnot really").unwrap();
    let (code, _, err) = run(&["render", corrupt.to_str().unwrap(), o]);
    assert_eq!(code, 2);
    assert!(err.contains("corrupt.wav"), "{err}");

    let low = tmp("low.wav");
    write_wav(&low, 4_000, &[vec![0.0; 4_000]]);
    let (code, _, err) = run(&["render", low.to_str().unwrap(), o]);
    assert_eq!(code, 2);
    assert!(err.contains("4000 Hz") && err.contains("8000 to 384000"), "{err}");

    let ok = tmp("ok.wav");
    write_wav(&ok, 48_000, &[vec![0.0; 480]]);
    let (code, _, err) = run(&["render", ok.to_str().unwrap(), o, "--set", "rev_sise=3"]);
    assert_eq!(code, 2);
    assert!(err.contains("rev_sise") && err.contains("rev_size"), "names the bad ID and the valid ones: {err}");
    let (code, _, err) = run(&["render", ok.to_str().unwrap(), o, "--preset", "no such preset"]);
    assert_eq!(code, 2);
    assert!(err.contains("Tape Echo"), "lists the factory presets: {err}");
    let (code, _, err) = run(&["render", ok.to_str().unwrap(), o, "--set", "rev_size"]);
    assert_eq!(code, 2);
    assert!(err.contains("ID=VALUE"), "{err}");
    assert!(!output.exists(), "nothing is written on error");
}

#[test]
fn every_channel_count_wav_allows_is_rendered_in_pairs() {
    let sr = 22_050;
    let chans: Vec<Vec<f32>> = (0..5).map(|c| sine(4_410, 200.0 * (c + 1) as f32, sr as f32, 0.2)).collect();
    let s = Settings { params: vec![("in_gain".into(), 6.0)], tail_s: Some(0.0), ..Default::default() };
    let (out, report) = render::render(&chans, sr, &s).unwrap();
    assert_eq!(out.len(), 5);
    for (o, i) in out.iter().zip(&chans) {
        let db = 20.0 * (rms(o) / rms(i)).log10();
        assert!((db - 6.0).abs() < 0.01, "{db}");
    }
    assert_eq!(report.peak_dbfs.len(), 5);
}

#[test]
#[ignore = "system: runs the bundled standalone (cargo xtask test)"]
fn demo_renders_and_reports_the_meters() {
    let output = tmp("demo.wav");
    let (code, out, err) = run(&["demo", output.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    for want in ["sample peak", "RMS", "integrated loudness", "DSP load"] {
        assert!(out.contains(want), "{want} missing from:\n{out}");
    }
    let (audio, rate) = render::read_wav(&output).unwrap();
    assert_eq!(rate, 48_000);
    assert!(audio[0].len() >= 12 * 48_000);
    assert!(audio.iter().flatten().all(|x| x.is_finite()));
}

/// `livechain stages` lists the chain's list, in order, with switch IDs the renderer accepts:
/// each one, set alone, turns on a stage that changes the sound of a noise burst (of a howl in
/// it, for the feedback suppressor).
#[test]
#[ignore = "system: runs the bundled standalone (cargo xtask test)"]
fn the_stages_command_lists_the_chain_in_order() {
    let (code, out, err) = run(&["stages"]);
    assert_eq!(code, 0, "{out}{err}");
    let listed: Vec<(String, String)> =
        out.lines().map(|l| l.split_once('\t').map(|(a, b)| (a.to_string(), b.to_string())).expect("ID<TAB>name")).collect();
    let want: Vec<(String, String)> = livechain::host::Stages::infos().map(|s| (s.switch.to_string(), s.name.to_string())).collect();
    assert_eq!(listed, want);
    let dry = vec![noise(24_000, 0.3, 9), noise(24_000, 0.3, 10)];
    // The feedback suppressor leaves noise alone by design: it gets a howl in the noise (a tone
    // growing 68 dB/s from −40 dBFS), which it must notch.
    let howl: Vec<Vec<f32>> = dry
        .iter()
        .map(|ch| {
            ch.iter()
                .enumerate()
                .map(|(i, x)| {
                    let t = i as f32 / 48_000.0;
                    x + 10f32.powf((-40.0 + 68.0 * t) / 20.0) * (std::f32::consts::TAU * 2_000.0 * t).sin()
                })
                .collect()
        })
        .collect();
    for (id, name) in &listed {
        let settings = Settings { params: vec![(id.clone(), 1.0)], tail_s: Some(0.0), ..Default::default() };
        let input = if id == "fb_on" { &howl } else { &dry };
        let (wet, _) = render::render(input, 48_000, &settings).unwrap();
        let moved = wet[0].iter().zip(&input[0]).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(moved > 1e-3, "{name} ({id}) on left the noise as it was");
    }
}
