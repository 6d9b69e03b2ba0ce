//! The live sources and the music that must be left alone, made in code (speech by espeak-ng).

use crate::dsp::xorshift32;
use std::f32::consts::TAU;

fn noise(seed: &mut u32) -> f32 {
    xorshift32(seed) as f32 / u32::MAX as f32 * 2.0 - 1.0
}

/// Scales `x` to an RMS of `db` dBFS.
pub fn to_rms_db(mut x: Vec<f32>, db: f32) -> Vec<f32> {
    let rms = (x.iter().map(|v| (v * v) as f64).sum::<f64>() / x.len().max(1) as f64).sqrt() as f32;
    let g = 10f32.powf(db / 20.0) / rms.max(1e-12);
    for v in x.iter_mut() {
        *v *= g;
    }
    x
}

/// `x` made `db` dB louder (quieter where negative).
pub fn gained_db(x: &[f32], db: f32) -> Vec<f32> {
    let k = 10f32.powf(db / 20.0);
    x.iter().map(|v| v * k).collect()
}

/// A two-pole resonator at `f` Hz with bandwidth `bw` Hz (a formant), unity gain at its peak.
fn resonate(x: &mut [f32], sr: f32, f: f32, bw: f32) {
    let r = (-std::f32::consts::PI * bw / sr).exp();
    let (a1, a2) = (-2.0 * r * (TAU * f / sr).cos(), r * r);
    let g = 1.0 - r;
    let (mut y1, mut y2) = (0.0f32, 0.0f32);
    for v in x.iter_mut() {
        let y = g * *v - a1 * y1 - a2 * y2;
        y2 = y1;
        y1 = y;
        *v = y;
    }
}

/// A sung vowel /a/: a Rosenberg glottal pulse train at `f0` with a singer's vibrato (5.5 Hz,
/// ±`vibrato_cents`) and 0.5 % jitter, differentiated (the lips' radiation), through four formants;
/// −20 dBFS RMS.
pub fn sung_vowel(sr: f32, secs: f32, f0: f32, vibrato_cents: f32, seed: u32) -> Vec<f32> {
    let mut seed = seed.max(1);
    let n = (secs * sr) as usize;
    let mut x = vec![0.0f32; n];
    let (mut phase, mut prev, mut jitter) = (0.0f32, 0.0f32, 0.0f32);
    for (i, v) in x.iter_mut().enumerate() {
        let t = i as f32 / sr;
        let f = f0 * 2f32.powf(vibrato_cents / 1200.0 * (TAU * 5.5 * t).sin()) * (1.0 + jitter);
        phase += f / sr;
        if phase >= 1.0 {
            phase -= 1.0;
            jitter = 0.005 * noise(&mut seed);
        }
        // Opening over 40 % of the period, closing over 16 %, closed after.
        let g = if phase < 0.4 {
            0.5 * (1.0 - (std::f32::consts::PI * phase / 0.4).cos())
        } else if phase < 0.56 {
            (std::f32::consts::PI * (phase - 0.4) / 0.32).cos()
        } else {
            0.0
        };
        *v = g - prev + 0.002 * noise(&mut seed);
        prev = g;
    }
    for (f, bw) in [(730.0, 90.0), (1090.0, 110.0), (2440.0, 170.0), (3400.0, 250.0)] {
        resonate(&mut x, sr, f, bw);
    }
    let fade = (0.05 * sr) as usize;
    for i in 0..fade.min(n) {
        let g = i as f32 / fade as f32;
        x[i] *= g;
        x[n - 1 - i] *= g;
    }
    to_rms_db(x, -20.0)
}

/// A held chord (C4, E4, G4), each note's partials at the prime harmonics 1, 2, 3, 5, 7, 11
/// and 13 with amplitudes 1/k: steady, lone-looking partials (no 2f above most of them) that a
/// naive peak-to-harmonic test would take for howls; −20 dBFS RMS.
pub fn prime_chord(sr: f32, secs: f32) -> Vec<f32> {
    let n = (secs * sr) as usize;
    let mut x = vec![0.0f32; n];
    let mut seed = 77u32;
    for f0 in [261.63f32, 329.63, 392.0] {
        for k in [1.0f32, 2.0, 3.0, 5.0, 7.0, 11.0, 13.0] {
            let f = f0 * k;
            let ph = noise(&mut seed) * std::f32::consts::PI;
            let w = TAU * f / sr;
            for (i, v) in x.iter_mut().enumerate() {
                *v += (w * i as f32 + ph).sin() / k;
            }
        }
    }
    to_rms_db(x, -20.0)
}

/// A whistled tune: notes between 1.2 and 2.4 kHz, 0.3 to 0.7 s each with short glides between,
/// a whistler's vibrato and drift, breath noise; −20 dBFS RMS.
pub fn whistle(sr: f32, secs: f32, seed: u32) -> Vec<f32> {
    let mut seed = seed.max(1);
    let n = (secs * sr) as usize;
    let mut x = vec![0.0f32; n];
    let (mut phase, mut f, mut target, mut left, mut drift) = (0.0f32, 1_800.0f32, 1_800.0f32, 0usize, 0.0f32);
    let mut amp = 0.0f32;
    for (i, v) in x.iter_mut().enumerate() {
        if left == 0 {
            target = 1_200.0 * 2f32.powf(noise(&mut seed).abs());
            left = ((0.3 + 0.4 * noise(&mut seed).abs()) * sr) as usize;
        }
        left -= 1;
        // A glide of about 30 ms toward the note, a slow wander, 5 Hz vibrato of ±0.5 %.
        f += (target - f) * (1.0 / (0.03 * sr));
        drift = 0.999 * drift + 0.0004 * noise(&mut seed);
        let t = i as f32 / sr;
        let fi = f * (1.0 + 0.005 * (TAU * 5.0 * t).sin() + drift);
        phase = (phase + fi / sr).fract();
        let env = if left < (0.04 * sr) as usize { 0.3 } else { 1.0 };
        amp += (env - amp) * (1.0 / (0.01 * sr));
        *v = amp * (TAU * phase).sin() + 0.01 * noise(&mut seed);
    }
    to_rms_db(x, -20.0)
}

/// A held note played with accents: a 440 Hz tone (three partials) whose level steps between
/// two, 18 dB apart, every 250 ms, over a little noise; −20 dBFS RMS. Each step up, sliding into
/// the detector's window, rises faster than any howl for a moment.
pub fn accents(sr: f32, secs: f32, f0: f32) -> Vec<f32> {
    let mut seed = 5u32;
    let n = (secs * sr) as usize;
    let step = (0.25 * sr) as usize;
    let x = (0..n)
        .map(|i| {
            let env = if (i / step).is_multiple_of(2) { 1.0 } else { 0.125 };
            let ph = TAU * f0 * i as f32 / sr;
            env * (ph.sin() + 0.3 * (2.0 * ph).sin() + 0.1 * (3.0 * ph).sin()) + 0.05 * noise(&mut seed)
        })
        .collect();
    to_rms_db(x, -20.0)
}

/// A slow logarithmic sine sweep from 100 Hz to 6.4 kHz (six octaves) over `secs`; −20 dBFS RMS.
pub fn sweep(sr: f32, secs: f32) -> Vec<f32> {
    let n = (secs * sr) as usize;
    let mut phase = 0.0f32;
    let x = (0..n)
        .map(|i| {
            let f = 100.0 * 64f32.powf(i as f32 / n as f32);
            phase = (phase + f / sr).fract();
            (TAU * phase).sin()
        })
        .collect();
    to_rms_db(x, -20.0)
}

/// A held instrument note with vibrato: a band-limited sawtooth at `f0` (partials to 8 kHz),
/// 5.5 Hz vibrato of ±40 cents; −20 dBFS RMS.
pub fn vibrato_note(sr: f32, secs: f32, f0: f32) -> Vec<f32> {
    let n = (secs * sr) as usize;
    let mut phase = 0.0f32;
    let partials = (8_000.0 / f0) as usize;
    let x = (0..n)
        .map(|i| {
            let t = i as f32 / sr;
            let f = f0 * 2f32.powf(40.0 / 1200.0 * (TAU * 5.5 * t).sin());
            phase = (phase + f / sr).fract();
            (1..=partials).map(|k| (TAU * phase * k as f32).sin() / k as f32).sum::<f32>()
        })
        .collect();
    to_rms_db(x, -20.0)
}

/// The flute-like tone at phase `ph` (radians): a sine with weak second and third partials.
fn flute_tone(ph: f32) -> f32 {
    ph.sin() + 0.1 * (2.0 * ph).sin() + 0.03 * (3.0 * ph).sin()
}

/// A held flute-like note with no vibrato: a sine at `f0` with weak second and third partials
/// (−20 and −30 dB, too quiet to make a harmonic series of it), a 20 ms onset and a little
/// breath noise; −20 dBFS RMS. Loud, it is a steady lone tone, as a howl a limiter holds is.
pub fn flute(sr: f32, secs: f32, f0: f32) -> Vec<f32> {
    let mut seed = 9u32;
    let n = (secs * sr) as usize;
    let x = (0..n)
        .map(|i| {
            let ph = TAU * f0 * i as f32 / sr;
            let onset = (i as f32 / (0.02 * sr)).min(1.0);
            onset * flute_tone(ph) + 0.003 * noise(&mut seed)
        })
        .collect();
    to_rms_db(x, -20.0)
}

/// A flute-like melody: the notes of `flute` on a pentatonic scale from D5, 0.3 to 1 s each,
/// each ending in a 10 ms fade as the next begins; −20 dBFS RMS.
pub fn flute_melody(sr: f32, secs: f32, seed: u32) -> Vec<f32> {
    const SCALE: [f32; 6] = [1.0, 1.122, 1.26, 1.498, 1.682, 2.0];
    let mut seed = seed.max(1);
    let n = (secs * sr) as usize;
    let (mut phase, mut left, mut f, mut env) = (0.0f32, 0usize, 587.0f32, 0.0f32);
    let x = (0..n)
        .map(|_| {
            if left == 0 {
                f = 587.0 * SCALE[((noise(&mut seed).abs() * 6.0) as usize).min(5)];
                left = ((0.3 + 0.7 * noise(&mut seed).abs()) * sr) as usize;
            }
            left -= 1;
            let target = if left < (0.03 * sr) as usize { 0.0 } else { 1.0 };
            env += (target - env) / (0.01 * sr);
            phase = (phase + f / sr).fract();
            let ph = TAU * phase;
            env * flute_tone(ph) + 0.003 * noise(&mut seed)
        })
        .collect();
    to_rms_db(x, -20.0)
}

/// `flute`'s note at `f0` with a flautist's tremolo: its level swinging ±`am_db` five times a
/// second (no pitch vibrato); −20 dBFS RMS.
pub fn tremolo_flute(sr: f32, secs: f32, f0: f32, am_db: f32) -> Vec<f32> {
    let swing =
        flute(sr, secs, f0).iter().enumerate().map(|(i, v)| v * 10f32.powf(am_db * (TAU * 5.0 * i as f32 / sr).sin() / 20.0)).collect();
    to_rms_db(swing, -20.0)
}

/// `tremolo_flute` with a pitch vibrato of ±`cents` at the same 5 Hz as well; −20 dBFS RMS.
pub fn vibrato_flute(sr: f32, secs: f32, f0: f32, am_db: f32, cents: f32) -> Vec<f32> {
    let mut seed = 9u32;
    let (n, mut phase) = ((secs * sr) as usize, 0.0f32);
    let x = (0..n)
        .map(|i| {
            let swing = (TAU * 5.0 * i as f32 / sr).sin();
            phase = (phase + f0 * 2f32.powf(cents * swing / 1200.0) / sr).fract();
            let ph = TAU * phase;
            let onset = (i as f32 / (0.02 * sr)).min(1.0);
            let tone = flute_tone(ph);
            onset * 10f32.powf(am_db * swing / 20.0) * tone + 0.003 * noise(&mut seed)
        })
        .collect();
    to_rms_db(x, -20.0)
}

/// Lone tones whose level swings (a flute's tremolo, with and without a pitch vibrato), named:
/// each rise looks like a howl's growth, but climbs back only to where the tone stood before.
pub fn swinging_music(sr: f32) -> Vec<(&'static str, Vec<f32>)> {
    vec![
        ("flute-like note with a 5 Hz tremolo (880 Hz, ±2 dB)", tremolo_flute(sr, 6.0, 880.0, 2.0)),
        ("flute-like note with a 5 Hz tremolo (440 Hz, ±3 dB)", tremolo_flute(sr, 6.0, 440.0, 3.0)),
        ("flute-like note, 5 Hz tremolo ±3 dB and vibrato ±10 cents (880 Hz)", vibrato_flute(sr, 6.0, 880.0, 3.0, 10.0)),
    ]
}

/// A lone tone at `f0` (`flute`'s note, or a sine when `sine`) swelling `rise_db` over `rise_s`
/// from 0.5 s (its level rising on a line in dB, as a howl's does), then held, `secs` long, with
/// a little breath noise; −20 dBFS RMS.
pub fn swelling(sr: f32, secs: f32, f0: f32, rise_db: f32, rise_s: f32, sine: bool) -> Vec<f32> {
    let mut seed = 9u32;
    let x = (0..(secs * sr) as usize)
        .map(|i| {
            let t = i as f32 / sr;
            let db = rise_db * (((t - 0.5) / rise_s).clamp(0.0, 1.0) - 1.0);
            let ph = TAU * f0 * t;
            let tone = if sine { ph.sin() } else { flute_tone(ph) };
            (t / 0.02).min(1.0) * 10f32.powf(db / 20.0) * tone + 0.003 * noise(&mut seed)
        })
        .collect();
    to_rms_db(x, -20.0)
}

/// Crescendos on lone tones, named: each rise grows as a howl's does, but a notch does not slow
/// it (no loop goes through the suppressor).
pub fn swelling_music(sr: f32) -> Vec<(&'static str, Vec<f32>)> {
    vec![
        ("flute-like note swelling 24 dB in 1 s (880 Hz)", swelling(sr, 6.0, 880.0, 24.0, 1.0, false)),
        ("flute-like note swelling 24 dB in 0.5 s (880 Hz)", swelling(sr, 6.0, 880.0, 24.0, 0.5, false)),
        ("sine swelling 24 dB in 0.5 s (1 kHz)", swelling(sr, 6.0, 1_000.0, 24.0, 0.5, true)),
    ]
}

/// A struck bar (a vibraphone with its motor off): partials at 1, 3.9 and 9.2 times 523 Hz,
/// dying away at 10, 26 and 52 dB a second, struck once a second; −20 dBFS RMS.
pub fn struck_bar(sr: f32, secs: f32) -> Vec<f32> {
    let n = (secs * sr) as usize;
    let x = (0..n)
        .map(|i| {
            let since = (i % sr as usize) as f32 / sr;
            let t = i as f32 / sr;
            [(1.0f32, 1.0f32, 1.2f32), (3.9, 0.4, 3.0), (9.2, 0.2, 6.0)]
                .iter()
                .map(|&(ratio, a, decay)| a * (-since * decay).exp() * (TAU * 523.0 * ratio * t).sin())
                .sum::<f32>()
        })
        .collect();
    to_rms_db(x, -20.0)
}

/// A 1 kHz test tone; −20 dBFS RMS.
pub fn test_tone(sr: f32, secs: f32) -> Vec<f32> {
    to_rms_db((0..(secs * sr) as usize).map(|i| (TAU * 1_000.0 * i as f32 / sr).sin()).collect(), -20.0)
}

/// How loud `loud_music` plays (dBFS RMS): a hot input, its peaks within 3 dB of full scale.
pub const LOUD_DB: f32 = -6.0;

/// Music played loud (`LOUD_DB`): steady lone tones, which a howl a limiter holds is too, and a
/// tone dying away, named.
pub fn loud_music(sr: f32) -> Vec<(&'static str, Vec<f32>)> {
    vec![
        ("held flute-like note, no vibrato (880 Hz), loud", to_rms_db(flute(sr, 6.0, 880.0), LOUD_DB)),
        ("flute-like melody (D5 pentatonic, 0.3–1 s notes), loud", to_rms_db(flute_melody(sr, 12.0, 11), LOUD_DB)),
        ("struck bar, once a second (523 Hz), loud", to_rms_db(struck_bar(sr, 6.0), LOUD_DB)),
        ("1 kHz test tone, loud", to_rms_db(test_tone(sr, 6.0), LOUD_DB)),
    ]
}

/// Pink-ish noise (white through a −3 dB/octave filter); −20 dBFS RMS.
pub fn pink_noise(sr: f32, secs: f32, seed: u32) -> Vec<f32> {
    let mut seed = seed.max(1);
    let n = (secs * sr) as usize;
    // Paul Kellet's economy filter.
    let (mut b0, mut b1, mut b2) = (0.0f32, 0.0f32, 0.0f32);
    let x = (0..n)
        .map(|_| {
            let w = noise(&mut seed);
            b0 = 0.99765 * b0 + w * 0.0990460;
            b1 = 0.96300 * b1 + w * 0.2965164;
            b2 = 0.57000 * b2 + w * 1.0526913;
            b0 + b1 + b2 + w * 0.1848
        })
        .collect();
    to_rms_db(x, -20.0)
}

/// espeak-ng reading `text` at 150 words a minute, resampled by sox to `sr`, −20 dBFS RMS; an
/// error says what is missing.
pub fn speech(sr: f32, text: &str) -> Result<Vec<f32>, String> {
    speech_at(sr, text, 150).map(|x| to_rms_db(x, -20.0))
}

/// espeak-ng reading `text` at `wpm` words a minute, resampled by sox to `sr`, as it comes.
pub fn speech_at(sr: f32, text: &str, wpm: u32) -> Result<Vec<f32>, String> {
    // A folder of its own per call (tests call this from several threads at once).
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("livechain-speech-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (raw, wav) = (dir.join("raw.wav"), dir.join("speech.wav"));
    let ok = std::process::Command::new("espeak-ng")
        .args(["-s", &wpm.to_string(), "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .map_err(|e| format!("espeak-ng could not run ({e}): `cargo xtask test` installs it"))?
        .success();
    if !ok {
        return Err("espeak-ng failed".into());
    }
    let ok = std::process::Command::new("sox")
        .arg(&raw)
        .args(["-r", &format!("{}", sr as u32), "-c", "1", "-b", "32", "-e", "floating-point"])
        .arg(&wav)
        .status()
        .map_err(|e| format!("sox could not run ({e})"))?
        .success();
    if !ok {
        return Err("sox failed".into());
    }
    let (audio, rate) = crate::render::read_wav(&wav).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    if rate as f32 != sr {
        return Err(format!("sox gave {rate} Hz, not {sr}"));
    }
    audio.into_iter().next().ok_or_else(|| "no channel".to_string())
}

/// The music that must pass the suppressor untouched (with no loop): held vibrato notes, a
/// chord of prime-harmonic partials, a whistled tune and a slow sweep, named.
pub fn music(sr: f32) -> Vec<(&'static str, Vec<f32>)> {
    let [whistle, sweep]: [_; 2] = lone_tones(sr).try_into().expect("the whistle and the sweep");
    vec![
        ("sung vowel with vibrato (220 Hz, ±30 cents)", sung_vowel(sr, 8.0, 220.0, 30.0, 3)),
        ("held note with vibrato (sawtooth 440 Hz, ±40 cents)", vibrato_note(sr, 8.0, 440.0)),
        ("chord of prime-harmonic partials (C4 E4 G4)", prime_chord(sr, 8.0)),
        whistle,
        ("accented note (440 Hz stepping 18 dB up and down every 250 ms)", accents(sr, 8.0, 440.0)),
        sweep,
    ]
}

/// The music of `music` that is a lone tone (the whistle and the sweep): no harmonics that a
/// detector could tell it from a howl by.
pub fn lone_tones(sr: f32) -> Vec<(&'static str, Vec<f32>)> {
    vec![("whistled tune (1.2–2.4 kHz)", whistle(sr, 8.0, 4)), ("slow sine sweep (100 Hz–6.4 kHz in 20 s)", sweep(sr, 20.0))]
}

/// The sentences the speech source reads.
pub const SENTENCES: &str = "Good evening everyone, and thank you for coming tonight. \
    Can you all hear me at the back of the room? Let me tell you how this started.";
