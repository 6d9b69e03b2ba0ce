//! The vocoder in a real CLAP host (clack-host): the plugin declares the sidechain port, MIDI
//! notes sent as CLAP note events play its synth carrier (the output's pitch equals the note
//! within 1 %), the held chord sounds when no note is held, and audio on the sidechain port is
//! the carrier when the carrier is set to Sidechain.
//!
//! Needs the bundled `Livechain.clap`: `cargo xtask test` bundles it first.

mod common;
use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use common::clap::*;
use livechain::dsp::vocoder::synth::note_hz;

const SR: f32 = 48_000.0;

/// The fundamental of `x` by autocorrelation (50 Hz to 1 kHz): the first lag within 10 % of the
/// best, refined by a parabola.
fn pitch(x: &[f32]) -> f32 {
    let ac = |lag: usize| -> f64 { x[..x.len() - lag].iter().zip(&x[lag..]).map(|(a, b)| (*a * *b) as f64).sum() };
    let (lo, hi) = ((SR / 1000.0) as usize, (SR / 50.0) as usize);
    let lags: Vec<f64> = (0..=hi + 1).map(ac).collect();
    let best = lags[lo..=hi].iter().cloned().fold(f64::MIN, f64::max);
    let mut l = lo;
    while l < hi && !(lags[l] >= 0.9 * best && lags[l] >= lags[l - 1] && lags[l] >= lags[l + 1]) {
        l += 1;
    }
    let (a, b, c) = (lags[l - 1], lags[l], lags[l + 1]);
    SR / (l as f64 + 0.5 * (a - c) / (a - 2.0 * b + c)) as f32
}

#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn the_plugin_declares_a_sidechain_input_port() {
    let mut inst = new_instance(load_entry());
    for channels in [2u32, 1] {
        select_channels(&mut inst, channels as usize);
        let handle = inst.plugin_handle();
        let ports: PluginAudioPorts = handle.get_extension().expect("audio-ports extension");
        assert_eq!(ports.count(&handle, true), 2, "inputs: the main port and the sidechain");
        let mut buf = AudioPortInfoBuffer::new();
        let side = ports.get(&handle, 1, true, &mut buf).expect("port 1");
        assert_eq!(String::from_utf8_lossy(side.name), "Sidechain");
        assert_eq!(side.channel_count, channels, "the sidechain is as wide as the main input");
    }
}

#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn notes_and_the_sidechain_play_the_vocoder_through_a_real_clap_host() {
    let mut inst = new_instance(load_entry());
    let table = param_table(&mut inst);
    let id = |name: &str| param_id(&table, name);
    let single = text_value(&mut inst, id("Vocoder Chord"), "Single note");
    let root = text_value(&mut inst, id("Vocoder Root"), "A2");
    // A noise "voice" reads as unvoiced: the consonant swap is off so the carrier is heard.
    flush(&mut inst, &[(id("Vocoder"), 1.0), (id("Vocoder Consonants"), 0.0), (id("Vocoder Chord"), single), (id("Vocoder Root"), root)]);
    let frames = 2 * SR as usize;
    let voice = stereo_noise(frames, 0.2, 31).to_vec();
    // A4 (note 69) from 0.5 s to 1 s, E4 (64) from 1.0 s (the same sample as the note-off) to
    // 1.5 s, in blocks that do not line up with the notes.
    let notes = [(24_000, 69, 0.8), (48_000, 69, 0.0), (48_000, 64, 0.9), (72_000, 64, 0.0)];
    let spec = Spec { sample_rate: SR as f64, blocks: &[256, 100, 512], in_place: false, events: &[], side: None, notes: &notes };
    let out = run(&mut inst, &spec, &voice);
    assert!(out.iter().flatten().all(|x| x.is_finite()));
    for (from, want, what) in [
        (4_800, note_hz(45.0), "the held chord (A2)"),
        (28_800, note_hz(69.0), "note 69"),
        (52_800, note_hz(64.0), "note 64"),
        (81_600, note_hz(45.0), "the held chord again"),
    ] {
        let got = pitch(&out[0][from..from + 14_400]);
        println!("{what}: want {want:.2} Hz, vocoded pitch {got:.2} Hz");
        assert!((got / want - 1.0).abs() < 0.01, "{what}: pitch {got:.2} Hz, want {want:.2} Hz");
    }

    // The sidechain carries a 311 Hz saw: with the carrier on Sidechain, that is the pitch.
    let sidechain = text_value(&mut inst, id("Vocoder Carrier"), "Sidechain");
    flush(&mut inst, &[(id("Vocoder Carrier"), sidechain)]);
    let saw: Vec<f32> = (0..frames).map(|i| 0.3 * (2.0 * (i as f32 * 311.0 / SR).fract() - 1.0)).collect();
    let side = [saw.clone(), saw];
    let spec = Spec { sample_rate: SR as f64, blocks: &[256], in_place: false, events: &[], side: Some(&side), notes: &[] };
    let out = run(&mut inst, &spec, &voice);
    let got = pitch(&out[0][24_000..43_200]);
    println!("sidechain saw: want 311.00 Hz, vocoded pitch {got:.2} Hz");
    assert!((got / 311.0 - 1.0).abs() < 0.01, "sidechain carrier: pitch {got:.2} Hz, want 311 Hz");
    // And with the sidechain silent, the vocoder has nothing to shape: silence out.
    let spec = Spec { side: None, ..spec };
    let out = run(&mut inst, &spec, &voice);
    let level = common::rms(&out[0][24_000..]);
    assert!(level < 1e-4, "a silent sidechain still gives {level}");
}
