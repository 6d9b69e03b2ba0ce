"""A second VST3 host: DawDreamer loads the bundled Livechain.vst3, automates the output gain
over time and renders; the output level follows the automation.

The automation steps the output gain -20 dB -> -6 dB -> +3 dB at 1 s and 2 s (block boundaries:
DawDreamer applies automation once per block). Away from the 20 ms smoothing after each step,
the level change against the input must equal the automated value to 0.05 dB. Run by
`cargo xtask test` with the path of the bundle as the only argument.
"""

import sys

import dawdreamer as daw
import numpy as np
from hostcheck import fail, rms

SR = 48000
BLOCK = 128


def main(path):
    engine = daw.RenderEngine(SR, BLOCK)
    plugin = engine.make_plugin_processor("livechain", path)
    names = [p["name"] for p in plugin.get_parameters_description()]
    if "Output Gain" not in names:
        fail(f"no Output Gain among {names}")
    index = names.index("Output Gain")

    # The normalised value for a gain in dB, found through the plugin's own text so the test
    # does not assume the parameter's mapping.
    def normalised(db):
        lo, hi = 0.0, 1.0
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            plugin.set_parameter(index, mid)
            if float(plugin.get_parameter_text(index)) < db:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    steps = [(-20.0, 0.0), (-6.0, 1.0), (3.0, 2.0)]
    seconds = 3.0
    n = int(seconds * SR)
    automation = np.zeros(n, dtype=np.float32)
    for db, start in steps:
        automation[int(start * SR):] = normalised(db)
    plugin.set_parameter(index, normalised(-20.0))
    if not plugin.set_automation(index, automation):
        fail("set_automation refused")

    rng = np.random.default_rng(3)
    noise = rng.uniform(-0.1, 0.1, size=(2, n)).astype(np.float32)
    source = engine.make_playback_processor("source", noise)
    engine.load_graph([(source, []), (plugin, ["source"])])
    engine.render(seconds)
    out = plugin.get_audio()
    if out.shape[0] != 2 or out.shape[1] < n - BLOCK:
        fail(f"rendered shape {out.shape}")
    if not np.all(np.isfinite(out)):
        fail("non-finite output")

    for db, start in steps:
        a = int((start + 0.05) * SR)
        b = int((start + 0.95) * SR)
        for ch in range(2):
            got = 20 * np.log10(rms(out[ch, a:b]) / rms(noise[ch, a:b]))
            print(f"output gain automated to {db:+.1f} dB at {start:.0f} s: channel {ch} level change {got:+.3f} dB")
            if abs(got - db) > 0.05:
                fail(f"at {start} s channel {ch}: {got:.3f} dB, automation says {db} dB")
    print("DawDreamer host test: automation followed to 0.05 dB (3 steps x 2 channels)")


if __name__ == "__main__":
    main(sys.argv[1])
