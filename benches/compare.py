"""Side by side: the same 30 s of stereo audio through the same kind of chain, three ways.

1. Livechain's VST3 in pedalboard, every stage on.
2. pedalboard's own chain (Gain, HighpassFilter, LowpassFilter, Compressor, Delay, Reverb, Gain)
   in the same host, same buffer size.
3. The seed's approach: the chain in Python with numpy/scipy, run in 64-frame callbacks as the
   seed's stream callback would, each stage vectorised over the block.

Then each stage alone, Livechain's against the pedalboard plugin that stands for it, to show
where the two chains' costs differ.

Run by `cargo xtask compare` (release bundle, venv with pedalboard, numpy and scipy). Prints the
time of each, its real-time factor (seconds of audio per second of processing) and its cost
relative to Livechain. Usage: compare.py LIVECHAIN.vst3 [SECONDS] [--csv FILE]; with --csv it also
writes the figures to FILE in the long form `cargo xtask charts` reads (chart,category,series,value:
"compare" in % of one core, "compare-stages" in ns per stereo frame), which `cargo xtask compare`
draws as SVG charts beside it.
"""

import argparse
import os
import re
import subprocess
import tempfile
import time
import wave

# Before numpy loads: at 64-frame blocks no BLAS call gains from threads, and OpenBLAS's idle
# threads spin on the other core of a 2-core machine, slowing whichever way is being timed.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pedalboard
import scipy.signal as sig

SR = 48000
BLOCK = 64


def stage_switches(vst3):
    """Livechain's stage switches as pedalboard names them (a parameter's name in snake case),
    from the chain's own list (`Livechain stages`, the standalone beside the bundle), and the
    safety ceiling's."""
    standalone = os.path.join(os.path.dirname(os.path.abspath(vst3)), "Livechain")
    lines = subprocess.run([standalone, "stages"], check=True, capture_output=True, text=True).stdout.splitlines()
    names = [line.split("\t")[1] for line in lines if "\t" in line]
    return tuple(re.sub(r"[^a-z0-9]+", "_", n.lower()).strip("_") for n in names) + ("safety_ceiling",)


def speech(seconds):
    """espeak-ng reading a paragraph, resampled to 48 kHz, looped to length."""
    text = (
        "Every millisecond of delay is felt by a musician who plays through the computer. "
        "The buffer must be small, the callback must never wait, and the chain must cost little. "
    ) * 4
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "speech.wav")
        subprocess.run(["espeak-ng", "-w", path, text], check=True)
        with wave.open(path) as w:
            sr = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    t = np.arange(int(len(x) * SR / sr)) * sr / SR
    x = np.interp(t, np.arange(len(x)), x).astype(np.float32)
    reps = int(np.ceil(seconds * SR / len(x)))
    return np.tile(x, reps)[: int(seconds * SR)]


def music(seconds, seed=3):
    """Chords of decaying harmonic notes, a kick and hi-hat noise: music-like, made in code."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros((2, n), dtype=np.float64)
    t = np.arange(int(0.5 * SR)) / SR
    beat = SR // 2
    for k, start in enumerate(range(0, n - beat, beat)):
        root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
        note = sum(np.sin(2 * np.pi * root * f * h * t) / h for f in (1, 1.26, 1.5) for h in (1, 2, 3))
        note *= np.exp(-t * 4)
        pan = rng.uniform(0.3, 0.7)
        out[0, start:start + len(t)] += 0.08 * note * (1 - pan)
        out[1, start:start + len(t)] += 0.08 * note * pan
        kick = np.sin(2 * np.pi * 60 * t[:4800] * (1 + 2 * np.exp(-t[:4800] * 40))) * np.exp(-t[:4800] * 12)
        out[:, start:start + 4800] += 0.3 * kick
        hat = rng.standard_normal(1200) * np.exp(-np.arange(1200) / 200)
        out[:, start + beat // 2:start + beat // 2 + 1200] += 0.05 * hat
    return out.astype(np.float32)


class NumpyChain:
    """The chain as the seed would write it: numpy/scipy, state kept between 64-frame callbacks,
    every operation vectorised over the block. What each stage computes:
    gain; 2nd-order Butterworth high-pass 80 Hz and low-pass 16 kHz (scipy sosfilt with state);
    a compressor whose detector is the block's peak (one gain per block, ramped linearly across
    it: per-sample envelopes do not vectorise); a 350 ms feedback delay with a one-pole tone
    filter in the loop; a Freeverb-style reverb (8 damped feedback combs and 4 allpasses per
    channel, all longer than a block, so each block's feedback is already known); dry/wet; gain.
    """

    def __init__(self):
        self.hp = sig.butter(2, 80, "highpass", fs=SR, output="sos")
        self.lp = sig.butter(2, 16000, "lowpass", fs=SR, output="sos")
        self.hp_z = np.zeros((self.hp.shape[0], 2, 2))
        self.lp_z = np.zeros((self.lp.shape[0], 2, 2))
        self.in_gain, self.out_gain = 1.0, 1.0
        self.comp_gain = 1.0
        thr, self.ratio = 10 ** (-18 / 20), 3.0
        self.thr = thr
        self.att = np.exp(-BLOCK / (0.010 * SR))
        self.rel = np.exp(-BLOCK / (0.150 * SR))
        self.d_len = int(0.35 * SR)
        self.d_buf = np.zeros((2, 2 * SR), dtype=np.float32)
        self.d_pos = 0
        self.d_fb, self.d_mix = 0.35, 0.25
        self.tone_b, self.tone_a = [0.5], [1, -0.5]
        self.tone_z = np.zeros((2, 1))
        combs = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617]
        self.combs = [(c + 23 * ch) for ch in range(2) for c in combs]
        self.comb_buf = [np.zeros(c + 4096, dtype=np.float32) for c in self.combs]
        self.comb_pos = [0] * len(self.combs)
        self.comb_z = [np.zeros(1) for _ in self.combs]
        self.damp, self.room = 0.4, 0.84
        aps = [556, 441, 341, 225]
        self.aps = [(a + 23 * ch) for ch in range(2) for a in aps]
        self.ap_buf = [np.zeros(a + 4096, dtype=np.float32) for a in self.aps]
        self.ap_pos = [0] * len(self.aps)
        self.wet = 0.2

    @staticmethod
    def _ring_read(buf, pos, delay, n):
        idx = (pos - delay + np.arange(n)) % len(buf)
        return buf[idx]

    @staticmethod
    def _ring_write(buf, pos, x):
        idx = (pos + np.arange(len(x))) % len(buf)
        buf[idx] = x
        return (pos + len(x)) % len(buf)

    def process(self, x):
        n = x.shape[1]
        x = x * self.in_gain
        x, self.hp_z = sig.sosfilt(self.hp, x, axis=1, zi=self.hp_z)
        x, self.lp_z = sig.sosfilt(self.lp, x, axis=1, zi=self.lp_z)
        # Compressor: one gain computation per block.
        peak = np.max(np.abs(x))
        target = 1.0 if peak <= self.thr else (self.thr * (peak / self.thr) ** (1 / self.ratio)) / peak
        coef = self.att if target < self.comp_gain else self.rel
        new = target + coef * (self.comp_gain - target)
        x = x * np.linspace(self.comp_gain, new, n, endpoint=False)
        self.comp_gain = new
        # Delay: the feedback read is 350 ms old, so the whole block is known.
        idx = (self.d_pos - self.d_len + np.arange(n)) % self.d_buf.shape[1]
        echo = self.d_buf[:, idx]
        fb, self.tone_z = sig.lfilter(self.tone_b, self.tone_a, echo, axis=1, zi=self.tone_z)
        widx = (self.d_pos + np.arange(n)) % self.d_buf.shape[1]
        self.d_buf[:, widx] = x + self.d_fb * fb
        self.d_pos = (self.d_pos + n) % self.d_buf.shape[1]
        x = x + self.d_mix * echo
        # Reverb: per channel, 8 damped combs in parallel, then 4 allpasses in series.
        wet = np.zeros_like(x)
        for ch in range(2):
            inp = x[ch] * 0.015
            acc = np.zeros(n)
            for k in range(8):
                i = ch * 8 + k
                buf, d = self.comb_buf[i], self.combs[i]
                past = self._ring_read(buf, self.comb_pos[i], d, n)
                damped, self.comb_z[i] = sig.lfilter([1 - self.damp], [1, -self.damp], past, zi=self.comb_z[i])
                y = inp + self.room * damped
                self.comb_pos[i] = self._ring_write(buf, self.comb_pos[i], y)
                acc += past
            for k in range(4):
                i = ch * 4 + k
                buf, d = self.ap_buf[i], self.aps[i]
                past = self._ring_read(buf, self.ap_pos[i], d, n)
                v = acc + 0.5 * past
                self.ap_pos[i] = self._ring_write(buf, self.ap_pos[i], v)
                acc = -0.5 * v + past
            wet[ch] = acc
        return ((1 - self.wet) * x + self.wet * wet) * self.out_gain


def timed(f):
    """One run of f: its time and its result."""
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def alternating(plugins, audio, rounds):
    """Each plugin's (or chain's) shortest time over `rounds` rounds, taking them in turn: this
    machine's speed drifts within seconds, and alternating lets all see the same moments."""
    best = [float("inf")] * len(plugins)
    for _ in range(rounds):
        for k, p in enumerate(plugins):
            t = time.perf_counter()
            p.process(audio, SR, buffer_size=BLOCK, reset=True)
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def csv_field(text):
    """A field of the charts' CSV: no commas inside."""
    return str(text).replace(",", ";")


def main(vst3, seconds, csv_path=None):
    s = speech(seconds / 2)
    audio = np.concatenate([music(seconds / 2), np.stack([s, s])], axis=1).astype(np.float32)
    dur = audio.shape[1] / SR
    print(f"input: {dur:.1f} s stereo at {SR} Hz (half music-like, half espeak-ng speech), {BLOCK}-frame blocks")

    lc = pedalboard.load_plugin(vst3)
    stages = stage_switches(vst3)
    for name in stages:
        setattr(lc, name, True)
    board = pedalboard.Pedalboard([
        pedalboard.Gain(0.0),
        pedalboard.HighpassFilter(80.0),
        pedalboard.LowpassFilter(16000.0),
        pedalboard.Compressor(threshold_db=-18, ratio=3, attack_ms=10, release_ms=150),
        pedalboard.Delay(delay_seconds=0.35, feedback=0.35, mix=0.25),
        pedalboard.Reverb(room_size=0.5, damping=0.4, wet_level=0.2, dry_level=0.8),
        pedalboard.Gain(0.0),
    ])
    t_lc, t_pb = alternating([lc, board], audio, 5)

    def numpy_run():
        chain = NumpyChain()
        out = np.empty_like(audio)
        for i in range(0, audio.shape[1], BLOCK):
            out[:, i:i + BLOCK] = chain.process(audio[:, i:i + BLOCK])
        return out

    t_np, out_np = timed(numpy_run)
    if not np.all(np.isfinite(out_np)):
        raise SystemExit("the numpy chain produced non-finite output")

    print(f"{'way':58s} {'time':>9s} {'x real time':>12s} {'core at 64':>11s} {'vs Livechain':>13s}")
    rows = []
    for name, short, t in [
        ("Livechain VST3 in pedalboard, every stage on", "Livechain's VST3 (every stage on)", t_lc),
        ("pedalboard's own chain (7 plugins), same host", "pedalboard's own chain (7 plugins)", t_pb),
        ("seed's approach: numpy/scipy in 64-frame callbacks", "numpy/scipy in 64-frame callbacks", t_np),
    ]:
        print(f"{name:58s} {t:8.3f}s {dur / t:11.1f}x {100 * t / dur:10.2f}% {t / t_lc:12.2f}x")
        rows.append(("compare", short, "this run", f"{100 * t / dur:.3g}"))
    rows += stage_by_stage(lc, board, audio, stages)
    if csv_path:
        with open(csv_path, "w") as f:
            f.write("chart,category,series,value\n")
            for row in rows:
                f.write(",".join(csv_field(x) for x in row) + "\n")
        print(f"figures written to {csv_path}")


def stage_by_stage(lc, board, audio, switches):
    """Each stage alone, in the same host: Livechain with only that stage on against the
    pedalboard plugin that stands for it. Livechain's row for "none" is what every instance pays
    with all stages off (input and output gain, dry/wet, bypass, the meters), pedalboard's is one
    Gain; a stage's own cost is its row minus that one. Said beside the total, this is where the
    two chains differ, stage by stage. Returns the figures as rows for the CSV."""
    stages = [
        ("none (gains, mix, meters)", None, 0),
        ("high-pass 12 dB/oct", "high_pass", 1),
        ("low-pass 12 dB/oct", "low_pass", 2),
        ("compressor", "compressor", 3),
        ("delay", "delay", 4),
        ("reverb", "reverb", 5),
        ("AGC (pedalboard has none)", "agc", None),
        ("safety ceiling (pedalboard has none)", "safety_ceiling", None),
    ]
    print()
    print(f"stage by stage, same host, {BLOCK}-frame blocks (ns per stereo frame; a stage's own cost is its row minus 'none')")
    print(f"{'stage':40s} {'Livechain':>10s} {'pedalboard':>11s}")
    frames = audio.shape[1]
    rows = []
    for label, switch, index in stages:
        for name in switches:
            setattr(lc, name, name == switch)
        if index is None:
            (t_lc,) = alternating([lc], audio, 3)
            t_pb = None
        else:
            t_lc, t_pb = alternating([lc, pedalboard.Pedalboard([board[index]])], audio, 3)
        rows.append(("compare-stages", label, "Livechain", f"{1e9 * t_lc / frames:.1f}"))
        pb = "-"
        if t_pb is not None:
            pb = f"{1e9 * t_pb / frames:10.1f}"
            rows.append(("compare-stages", label, "pedalboard", f"{1e9 * t_pb / frames:.1f}"))
        print(f"{label:40s} {1e9 * t_lc / frames:10.1f} {pb:>11s}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Livechain against pedalboard and a numpy chain, side by side.")
    parser.add_argument("vst3", help="Livechain.vst3 (the release bundle)")
    parser.add_argument("seconds", nargs="?", type=float, default=30.0, help="seconds of audio (default 30)")
    parser.add_argument("--csv", help="also write the figures to this file (chart,category,series,value)")
    args = parser.parse_args()
    main(args.vst3, args.seconds, args.csv)
