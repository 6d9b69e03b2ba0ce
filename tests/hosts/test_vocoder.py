"""The vocoder through real VST3 hosts.

1. pedalboard: espeak-ng sentences through the vocoder (the built-in saw carrier on its held
   chord, no MIDI); STOI (pystoi) of the vocoded speech against the dry speech for 4, 8, 16, 32
   and 64 bands, >= 0.75 at 16 bands; the energy between 4 and 10 kHz of a sibilant sentence
   within +-3 dB of the dry voice's with the consonant handling on (reported off too).
2. DawDreamer: MIDI notes play the synth carrier (the output's pitch, by autocorrelation, equals
   the note within 1 %), and a synth routed to the sidechain bus is the carrier when the
   carrier is set to Sidechain (where DawDreamer routes the bus: checked and said).

Run by `cargo xtask test` with the path of the bundle as the only argument.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import pedalboard
from hostcheck import fail
from pystoi import stoi
from scipy.io import wavfile
from scipy.signal import resample_poly

SR = 48000
SENTENCES = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish."
)
SIBILANT = "She sells sea shells; six sick sheep sit, and so the sisters sing softly."


def speech(text):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.wav")
        subprocess.run(["espeak-ng", "-s", "150", "-w", path, text], check=True)
        rate, x = wavfile.read(path)
    x = x.astype(np.float64) / 32768.0
    x = resample_poly(x, SR, rate)
    x *= 0.3 / np.max(np.abs(x))
    return np.vstack([x, x]).astype(np.float32)


def param(plugin, prefix):
    """The pedalboard attribute whose name starts with `prefix` (pedalboard adds units)."""
    names = [n for n in plugin.parameters if n.startswith(prefix)]
    if not names:
        fail(f"no parameter {prefix}* among {sorted(plugin.parameters)}")
    return min(names, key=len)


def band_energy(x, f1, f2):
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / SR)
    return float(np.sum(spec[(f >= f1) & (f < f2)]))


def vocode(plugin, x):
    plugin.reset()
    return plugin.process(x, SR, buffer_size=256)


def pedalboard_checks(path):
    plugin = pedalboard.load_plugin(path)
    setattr(plugin, param(plugin, "vocoder"), True)
    setattr(plugin, param(plugin, "vocoder_dry_wet"), 100.0)
    dry = speech(SENTENCES)
    scores = {}
    for bands in (4, 8, 16, 32, 64):
        setattr(plugin, param(plugin, "vocoder_bands"), bands)
        wet = vocode(plugin, dry)
        if not np.all(np.isfinite(wet)):
            fail(f"{bands} bands: non-finite output")
        scores[bands] = stoi(dry[0].astype(np.float64), wet[0].astype(np.float64), SR, extended=False)
    print("vocoder STOI against the dry speech (saw carrier, held chord): "
          + ", ".join(f"{b} bands {s:.3f}" for b, s in scores.items()))
    if scores[16] < 0.75:
        fail(f"STOI {scores[16]:.3f} at 16 bands, the goal is >= 0.75")

    setattr(plugin, param(plugin, "vocoder_bands"), 16)
    dry = speech(SIBILANT)
    results = {}
    for consonants in (100.0, 0.0):
        setattr(plugin, param(plugin, "vocoder_consonants"), consonants)
        wet = vocode(plugin, dry)
        results[consonants] = 10 * np.log10(band_energy(wet[0], 4000, 10000) / band_energy(dry[0], 4000, 10000))
    print(f"sibilant sentence, 4-10 kHz energy against the dry voice: consonants on {results[100.0]:+.2f} dB, "
          f"off {results[0.0]:+.2f} dB")
    if abs(results[100.0]) > 3.0:
        fail(f"4-10 kHz energy {results[100.0]:+.2f} dB off the dry voice with the consonants on")


def pitch(x):
    """The fundamental of x by autocorrelation (50 Hz .. 1 kHz), refined by a parabola."""
    x = x.astype(np.float64)
    ac = np.correlate(x, x, mode="full")[len(x) - 1:]
    lo, hi = SR // 1000, SR // 50
    best = ac[lo:hi].max()
    lag = next(l for l in range(lo, hi) if ac[l] >= 0.9 * best and ac[l] >= ac[l - 1] and ac[l] >= ac[l + 1])
    a, b, c = ac[lag - 1], ac[lag], ac[lag + 1]
    return SR / (lag + 0.5 * (a - c) / (a - 2 * b + c))


def dawdreamer_checks(path):
    import dawdreamer as daw

    engine = daw.RenderEngine(SR, 128)
    plugin = engine.make_plugin_processor("livechain", path)
    names = [p["name"] for p in plugin.get_parameters_description()]

    def set_text(name, text):
        index = names.index(name)
        # The normalised value whose text is `text`: the plugin's own formatting decides.
        for step in range(0, 1001):
            plugin.set_parameter(index, step / 1000.0)
            if plugin.get_parameter_text(index).strip().lower().startswith(text.lower()):
                return
        fail(f"{name}: no value shows as {text!r}")

    plugin.set_parameter(names.index("Vocoder"), 1.0)
    set_text("Vocoder Consonants", "0.0")
    seconds = 2.0
    n = int(seconds * SR)
    rng = np.random.default_rng(9)
    voice = rng.uniform(-0.2, 0.2, size=(2, n)).astype(np.float32)
    # A3 (220 Hz) from 0.5 s to 1.5 s.
    plugin.add_midi_note(57, 100, 0.5, 1.0)
    source = engine.make_playback_processor("voice", voice)
    engine.load_graph([(source, []), (plugin, ["voice"])])
    engine.render(seconds)
    out = plugin.get_audio()
    got = pitch(out[0, int(0.7 * SR):int(1.3 * SR)])
    print(f"DawDreamer: MIDI note 57 (220.00 Hz) -> vocoded pitch {got:.2f} Hz")
    if abs(got / 220.0 - 1.0) > 0.01:
        fail(f"MIDI note 57: pitch {got:.2f} Hz, want 220 Hz within 1 %")

    # The sidechain: a 330 Hz saw on the second input pair, the carrier set to Sidechain.
    plugin.clear_midi()
    set_text("Vocoder Carrier", "Sidechain")
    t = np.arange(n) / SR
    saw = (2.0 * ((330.0 * t) % 1.0) - 1.0).astype(np.float32) * 0.3
    synth = engine.make_playback_processor("synth", np.vstack([saw, saw]))
    engine.load_graph([(source, []), (synth, []), (plugin, ["voice", "synth"])])
    engine.render(seconds)
    channels = plugin.get_num_input_channels()
    out = plugin.get_audio()
    level = float(np.sqrt(np.mean(out[0, int(0.5 * SR):] ** 2)))
    if channels < 4:
        print(f"DawDreamer: the plugin node has {channels} inputs: DawDreamer does not route a VST3 "
              "sidechain bus, so the sidechain is checked through the CLAP host (tests/vocoder.rs)")
        return
    got = pitch(out[0, int(0.5 * SR):int(1.5 * SR)])
    print(f"DawDreamer: 330 Hz saw on the sidechain bus -> vocoded pitch {got:.2f} Hz (level {level:.3f})")
    if abs(got / 330.0 - 1.0) > 0.01:
        fail(f"sidechain carrier: pitch {got:.2f} Hz, want 330 Hz within 1 %")


def main(path):
    pedalboard_checks(path)
    dawdreamer_checks(path)
    print("vocoder host tests passed")


if __name__ == "__main__":
    main(sys.argv[1])
