"""Measure the memory of building windows, in a process of its own; run by :func:`bench.memory.memory_probe`.

Usage: ``python memory_probe.py N LOOKBACK DTYPE MODE``, ``MODE`` ``windows`` (a ``WindowDataset``, then
one ordered batch) or ``materialised`` (every window copied). Prints one JSON line: RSS before
(``baseline``), the peak once the windows are built (``built``) and at the end (``peak``), the window
count and the series' bytes (``raw``).
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Callable

import numpy as np
import torch

import tsforecast as tsf


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory field in bytes."""
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith(field)).split()[1]) * 1024


def _high_water_mark() -> int:
    return _status("VmHWM")


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_meter() -> Callable[[], int]:
    """Reset the peak RSS (``VmHWM``) to the current RSS; return the function that reads the peak.

    Where the reset is not allowed, the peak is ``ru_maxrss``, the peak since the process started.
    """
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset the peak (VmHWM) to the current RSS
    except OSError:
        return _max_rss
    return _high_water_mark


def main() -> None:
    n, lookback, dtype, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    tsf.WindowDataset(np.zeros(1000, dtype=dtype), lookback=8, horizon=1)[0]  # warm-up of lazy allocations
    values = np.random.default_rng(0).standard_normal(n, dtype=dtype)
    peak = peak_meter()
    base = _status("VmRSS")
    if mode == "windows":
        ds = tsf.WindowDataset(values, lookback=lookback, horizon=1)
        ds[len(ds) - 1]
        built = peak()
        next(iter(tsf.ordered_loader(ds, batch_size=1024)))
        count = len(ds)
    else:
        windows = torch.as_tensor(values, dtype=torch.float32).unfold(0, lookback, 1).contiguous()
        count = windows.shape[0]
        built = peak()
    print(json.dumps({"baseline": base, "built": built, "peak": peak(), "windows": count, "raw": values.nbytes}))


if __name__ == "__main__":
    main()
