"""Progress of long runs: a bar where someone watches, a timed line in a log.

A run reports each finished unit of work to a :class:`Progress`. On a terminal, or in a Jupyter
notebook, that draws a ``tqdm.auto`` bar (a widget in a notebook). Anywhere else (a CI log, a
redirected stderr) it prints a plain line at least every ``interval`` seconds while the work runs::

    tsforecast: backtest 3/10 tasks, 0:42 elapsed, about 1:20 left

and one last line when it ends; work that ends before the first interval prints nothing.
"""

from __future__ import annotations

import sys
import threading
import time
from numbers import Integral, Real
from types import TracebackType
from typing import Any, ClassVar, TextIO

from ._validation import Interval, validate_params

__all__ = ["Progress"]


def _clock(seconds: float) -> str:
    """A duration as a clock reads it: ``0:42``, ``12:05``, ``1:02:03``.

    Examples
    --------
    >>> _clock(42.9), _clock(725), _clock(3723)
    ('0:42', '12:05', '1:02:03')
    """
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _watched(stream: Any) -> bool:
    """Whether someone watches ``stream`` as it is written: a terminal, or a Jupyter kernel's output."""
    if type(stream).__module__.startswith("ipykernel."):  # NOTE: a notebook's stderr is no tty
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """Progress of ``total`` units of work, shown as its stream allows; a context manager.

    Parameters
    ----------
    total : int
        Units of work in the run, e.g. the backtest's tasks.
    desc : str
        The phase, named first on each line: ``backtest``, ``leakage audit``.
    unit : str, default="task"
        The name of one unit (an ``s`` is added when ``total`` is not 1).
    initial : int, default=0
        Units already done when the run starts (e.g. read back from a checkpoint): they count as
        done, but not towards the pace that the time left is estimated from.
    enabled : bool, optional
        ``False`` shows nothing. ``True`` or ``None`` (the default) show progress: a ``tqdm.auto`` bar
        when ``stream`` is a terminal or a Jupyter kernel's output, plain lines otherwise.
    interval : float, default=10.0
        Seconds between plain lines.
    stream : text stream, optional
        Where progress goes (default: ``sys.stderr`` as it is when the object is made).

    Raises
    ------
    DataError
        If ``total`` or ``initial`` is negative or ``interval`` is not positive.
    DataTypeError
        If one of them is not a number.

    Notes
    -----
    Plain lines come from a daemon thread started by ``__enter__``, so a run whose single task takes
    five minutes still prints one every ``interval`` seconds: ``tsforecast: backtest 3/10 tasks,
    0:42 elapsed, about 1:20 left`` (the estimate appears once a unit is done in this run). A run
    that printed any line ends with ``..., done`` (``..., stopped`` if it raised); one that ends
    within the first interval prints nothing. :meth:`update` may be called from any thread.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> with Progress(3, desc="backtest", stream=stream) as progress:
    ...     for _ in range(3):
    ...         progress.update()
    >>> stream.getvalue()  # done within the first 10 seconds: nothing to report
    ''
    """

    _constraints: ClassVar[dict[str, list[Any]]] = {
        "total": [Interval(Integral, 0, None, closed="left")],
        "initial": [Interval(Integral, 0, None, closed="left")],
        "interval": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        total: int,
        *,
        desc: str,
        unit: str = "task",
        initial: int = 0,
        enabled: bool | None = None,
        interval: float = 10.0,
        stream: TextIO | None = None,
    ) -> None:
        validate_params("Progress", {"total": total, "initial": initial, "interval": interval}, self._constraints)
        self.total = total
        self.desc = desc
        self.unit = unit
        self.interval = interval
        self.enabled = enabled is not False
        self.stream = sys.stderr if stream is None else stream
        self._initial = self._done = initial
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._bar: Any = None
        self._printed = False

    def __enter__(self) -> Progress:
        self._start = time.monotonic()
        if not self.enabled:
            return self
        if _watched(self.stream):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, initial=self._done, desc=self.desc, unit=self.unit, file=self.stream)
        else:
            self._timer = threading.Thread(target=self._report, name="tsforecast-progress", daemon=True)
            self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.close()
        if self._timer is not None:
            self._stop.set()
            self._timer.join()
            if self._printed:
                self._print(self._line("done" if kind is None else "stopped"))

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done (thread-safe)."""
        with self._lock:
            self._done += n
            if self._bar is not None:
                self._bar.update(n)

    def _line(self, end: str | None = None) -> str:
        """``tsforecast: backtest 3/10 tasks, 0:42 elapsed`` and the time left, or ``end`` (``done``)."""
        with self._lock:
            done = self._done
        elapsed = time.monotonic() - self._start
        plural = "" if self.total == 1 else "s"
        line = f"tsforecast: {self.desc} {done}/{self.total} {self.unit}{plural}, {_clock(elapsed)} elapsed"
        if end is not None:
            return f"{line}, {end}"
        ran = done - self._initial
        if ran > 0 and done < self.total:
            line += f", about {_clock(elapsed / ran * (self.total - done))} left"
        return line

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)
        self._printed = True

    def _report(self) -> None:
        """The timer thread: a line every ``interval`` seconds until the run ends."""
        while not self._stop.wait(self.interval):
            self._print(self._line())
