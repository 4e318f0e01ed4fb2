"""Peak memory and time of fitting ``SGDForecaster`` on one long series.

Usage::

    python scripts/measure_sgd_memory.py [--points 2000000] [--epochs N] [--max-steps N]

The series is ``--points`` float32 values of a sine of period 24 plus Gaussian noise; the model is
``SGDForecaster(lookback=48, horizon=24, season=24)`` with its default ``epochs`` and ``max_steps``
unless given. Run it as its own process: after a small warm-up fit (lazy imports and allocations),
it resets the peak resident set size (``VmHWM``, via ``/proc/self/clear_refs``; where that is not
allowed the lifetime peak ``ru_maxrss`` is used, which can only overstate) and prints one line: the
peak RSS above the RSS with the series loaded, the series' bytes, the wall time of ``fit`` and the
number of ``RuntimeWarning`` s (a member whose cost diverged) it raised.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np

from tsforecast.models.sgd import SGDForecaster

MIB = 2**20


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory field in bytes."""
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith(field)).split()[1]) * 1024


def _reset_peak() -> bool:
    """Reset ``VmHWM`` to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def series(points: int) -> np.ndarray:
    """A float32 sine of period 24 plus noise, the same for every run."""
    t = np.arange(points)
    noise = np.random.default_rng(0).normal(0.0, 0.3, points)
    return (10.0 + np.sin(2 * np.pi * t / 24) + noise).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--epochs", type=int, default=None, help="default: SGDForecaster's")
    parser.add_argument("--max-steps", type=int, default=None, help="default: SGDForecaster's")
    args = parser.parse_args()
    budget = {"epochs": args.epochs, "max_steps": args.max_steps}
    params = {key: value for key, value in budget.items() if value is not None}

    SGDForecaster(lookback=48, horizon=24, season=24, epochs=1).fit(series(200)).predict()  # warm-up
    y = series(args.points)
    base = _status("VmRSS")
    resettable = _reset_peak()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SGDForecaster(lookback=48, horizon=24, season=24, **params).fit(y)
    seconds = time.perf_counter() - start
    peak = _status("VmHWM") if resettable else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    diverged = sum(issubclass(w.category, RuntimeWarning) for w in caught)
    steps = model.history_.groupby("member")["epoch"].max().tolist()
    print(
        f"points={args.points:,} params={params or 'defaults'} series={y.nbytes / MIB:.1f} MiB "
        f"peak_above_baseline={(peak - base) / MIB:.0f} MiB fit={seconds:.1f} s runtime_warnings={diverged} "
        f"epochs_per_member={steps} peak_measure={'VmHWM' if resettable else 'ru_maxrss'}"
    )


if __name__ == "__main__":
    main()
