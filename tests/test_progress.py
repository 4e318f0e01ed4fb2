"""Progress of long runs: a tqdm bar on a terminal, timed plain lines elsewhere, nothing for quick runs."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable

import pytest

from tsforecast._progress import Progress, _watched
from tsforecast.errors import DataError, DataTypeError

TICK = 0.05
LINE = re.compile(r"^tsforecast: backtest (\d+)/4 tasks, \d+:\d\d elapsed(, about \d+:\d\d left)?$")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds (a slow machine may delay the timer thread, never skip it)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_run_that_ends_before_the_first_interval_prints_nothing() -> None:
    stream = io.StringIO()
    with Progress(4, desc="backtest", stream=stream) as progress:
        for _ in range(4):
            progress.update()
    assert stream.getvalue() == ""


def test_without_a_terminal_a_line_comes_every_interval_then_a_final_one() -> None:
    stream = io.StringIO()
    with Progress(4, desc="backtest", interval=TICK, stream=stream) as progress:
        progress.update()
        wait_for(lambda: len(lines(stream)) >= 2)  # a single long task still prints, again and again
        progress.update(2)
    *running, final = lines(stream)
    assert len(running) >= 2
    for line in running:
        match = LINE.match(line)
        assert match, line
        assert match.group(1) in {"1", "3"}
        assert match.group(2), f"one task is done, so the time left is estimated: {line}"
    assert re.fullmatch(r"tsforecast: backtest 3/4 tasks, \d+:\d\d elapsed, done", final)


def test_the_time_left_is_estimated_only_once_a_task_is_done() -> None:
    stream = io.StringIO()
    with Progress(4, desc="backtest", interval=TICK, stream=stream):
        wait_for(lambda: len(lines(stream)) >= 1)
    assert re.fullmatch(r"tsforecast: backtest 0/4 tasks, \d+:\d\d elapsed", lines(stream)[0])


def test_the_estimate_counts_the_pace_of_this_run_only() -> None:
    progress = Progress(10, desc="backtest", initial=4, enabled=False)
    progress.update(2)
    progress._start -= 60  # 2 tasks in a minute, 4 to go; the 4 read back from a checkpoint cost nothing
    assert progress._line() == "tsforecast: backtest 6/10 tasks, 1:00 elapsed, about 2:00 left"


def test_one_unit_is_not_plural() -> None:
    progress = Progress(1, desc="leakage audit", unit="fold", enabled=False)
    assert progress._line("done").startswith("tsforecast: leakage audit 0/1 fold, ")


def test_a_run_that_raises_ends_with_stopped() -> None:
    stream = io.StringIO()

    def interrupted_run() -> None:
        with Progress(4, desc="backtest", interval=TICK, stream=stream):
            wait_for(lambda: len(lines(stream)) >= 1)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_run()
    assert re.fullmatch(r"tsforecast: backtest 0/4 tasks, \d+:\d\d elapsed, stopped", lines(stream)[-1])


def test_the_timer_is_a_daemon_thread_that_ends_with_the_run() -> None:
    with Progress(4, desc="backtest", interval=TICK, stream=io.StringIO()) as progress:
        timer = progress._timer
        assert timer is not None
        assert timer.daemon
        assert timer.is_alive()
    assert not timer.is_alive()


def test_disabled_progress_prints_nothing_and_starts_no_thread() -> None:
    stream = FakeTerminal()
    with Progress(4, desc="backtest", enabled=False, interval=TICK, stream=stream) as progress:
        progress.update()
        time.sleep(3 * TICK)
        assert progress._timer is None
        assert progress._bar is None
    assert stream.getvalue() == ""


@pytest.mark.parametrize("enabled", [True, None])
def test_a_terminal_gets_a_tqdm_bar_and_no_plain_lines(enabled: bool | None) -> None:
    stream = FakeTerminal()
    with Progress(3, desc="backtest", enabled=enabled, interval=TICK, stream=stream) as progress:
        for _ in range(3):
            progress.update()
        time.sleep(3 * TICK)
        assert progress._timer is None
    output = stream.getvalue()
    assert "backtest" in output
    assert "3/3" in output
    assert "tsforecast:" not in output


def test_a_resumed_run_starts_its_bar_at_the_units_already_done() -> None:
    stream = FakeTerminal()
    with Progress(5, desc="backtest", initial=2, stream=stream) as progress:
        assert progress._bar.n == 2
        progress.update()
    assert "3/5" in stream.getvalue()


def test_update_is_thread_safe() -> None:
    progress = Progress(8000, desc="backtest", enabled=False)

    def work() -> None:
        for _ in range(1000):
            progress.update()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert progress._line("done").startswith("tsforecast: backtest 8000/8000 tasks, ")


def test_a_notebook_counts_as_watched_and_a_closed_or_plain_object_does_not() -> None:
    kernel_stream = type("OutStream", (io.StringIO,), {"__module__": "ipykernel.iostream"})()
    closed = io.StringIO()
    closed.close()
    assert _watched(kernel_stream)  # a notebook's stderr says it is no tty, yet it shows tqdm's widget
    assert _watched(FakeTerminal())
    assert not _watched(io.StringIO())
    assert not _watched(closed)
    assert not _watched(object())


def test_progress_defaults_to_the_stderr_of_the_moment(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress(4, desc="backtest", interval=TICK) as progress:
        progress.update()
        wait_for(lambda: bool(capsys.readouterr().err))


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"total": -1}, DataError, "The 'total' parameter of Progress must be an int in the range [0, inf). Got -1"),
        ({"initial": -2}, DataError, "The 'initial' parameter of Progress must be an int in the range [0, inf)."),
        ({"interval": 0}, DataError, "The 'interval' parameter of Progress must be a float in the range (0, inf)."),
        ({"total": 2.5}, DataTypeError, "The 'total' parameter of Progress must be an int in the range [0, inf)."),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, float], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        Progress(**{"total": 4, **settings}, desc="backtest")  # type: ignore[arg-type]
