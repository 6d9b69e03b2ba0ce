"""What the Python host tests share: failing with a message, and the RMS of a signal."""

import sys

import numpy as np


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x.astype(np.float64)))))
