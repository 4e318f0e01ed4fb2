"""Command-line interface: ``tsforecast backtest | forecast | datasets``.

Exit status: 0 success; 2 bad input or usage (one line on stderr, no traceback unless ``--debug``);
3 the leakage audit found a leak; 4 the audit could not judge (not reproducible, incomplete or not run).
Every result is still written, so a team can gate CI on a backtest.

Each subcommand imports what it needs when it runs, so ``--help`` and ``--version`` answer without
loading pandas, scikit-learn, SciPy or torch, and ``datasets`` without torch. Usage errors, bad flag
values and levels (at parse time), a missing DATA or --future file or an unusable ``--out`` or
``--checkpoint`` (before the data are read), and a DATA that names neither a file nor a shipped
dataset are answered before pandas loads. Messages name parameters as flags (``--time-col``, not
``time_col=``): the work runs inside :func:`tsforecast.errors.spelled_as` with :data:`FLAGS`.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from ._validation import check_levels, check_names
from .errors import DataError, TsforecastError, spelled_as

if TYPE_CHECKING:
    import pandas as pd

    from .backtest import BacktestResult
    from .covariates import Covariates

__all__ = ["FLAGS", "build_parser", "main"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_AUDIT_FAILED, EXIT_AUDIT_UNJUDGED, EXIT_INTERRUPTED = 0, 2, 3, 4, 130

FLAGS = {
    "time_col": "--time-col",
    "target_col": "--target-col",
    "id_col": "--id-col",
    "fill": "--fill",
    "date_format": "--date-format",
    "n_splits": "--folds",
    "horizon": "--horizon",
    "step": "--step",
    "gap": "--gap",
    "window": "--window",
    "train_size": "--train-size",
    "season": "--season",
    "lookback": "--lookback",
    "epochs": "--epochs",
    "seed": "--seed",
    "model": "--model",
    "engine": "--engine",
    "n_jobs": "--jobs",
    "checkpoint": "--checkpoint",
    "scheduler": "--scheduler",
    "audit": "--audit",
    "known_future": "--known-future",
    "past_only": "--past-only",
    "static": "--static",
    "calendar": "--calendar",
    "screen": "--covariate-screen",
    "future": "--future",
    "level": "--level",
    "interval_method": "--interval-method",
    "sort_by": "--sort-by",
}
"""API keyword -> the CLI flag that sets it; messages raised under the CLI name the flag."""

_ALWAYS = ("naive", "seasonal_naive")
_MODEL_NAMES = ("sgd", "naive", "seasonal_naive", "mean", "drift", "ets", "arima", "theta", "auto")
"""The names of :data:`tsforecast.models.MODELS`, for ``--help`` without importing the models (pandas, torch)."""
_METRIC_NAMES = ("mae", "rmse", "smape", "mase")
"""The names of :data:`tsforecast.metrics.METRICS`, the choices of ``--sort-by``, without importing NumPy."""
_MODEL_HELP = f"comma-separated models among {', '.join(_MODEL_NAMES)} (default: sgd)"
_SHOWN_MODELS = 5
_RESULT_FILES = ("forecasts.csv", "metrics.csv", "summary.json", "report.html")
_MODEL_SETTINGS = ("lookback", "epochs", "seed")
_BACKTEST_EXAMPLE = """example:
  tsforecast backtest air_passengers --horizon 12 --folds 5 --model sgd,ets --out results/
  tsforecast backtest sales.csv --id-col store --time-col date --target-col units --horizon 7 --out results/
  tsforecast backtest elecdaily --horizon 7 --known-future WorkDay --past-only Temperature --out results/
  tsforecast backtest air_passengers --horizon 12 --model ets --level 80,95 --out results/"""
_FORECAST_EXAMPLE = """example:
  tsforecast forecast air_passengers --horizon 12 --model sgd,ets --out forecast.csv
  tsforecast forecast sales.csv --horizon 7 --known-future promo --future promo_next_week.csv --out forecast.csv
  tsforecast forecast air_passengers --horizon 12 --model ets --level 80,95 --interval-method native --out f.csv"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --- checks done before any work ------------------------------------------------------------------


def _existing_ancestor(path: Path) -> Path:
    return next(p for p in (path, *path.parents) if p.exists())


def _check_can_create_in(path: Path, flag: str) -> None:
    """Refuse ``path`` if it lies below a file or its nearest existing directory is not writable."""
    base = _existing_ancestor(path)
    if not base.is_dir():
        raise DataError(f"{flag} {str(path)!r} lies below {str(base)!r}, which is a file. Choose another {flag}.")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tsforecast-probe-", dir=base))  # a real write, which os.access is not
    except OSError as exc:
        raise DataError(
            f"{flag} {str(path)!r} cannot be written: {exc.strerror} in {str(base)!r}. Choose a writable {flag}."
        ) from exc


def _check_directory(path: Path, flag: str, *, force: bool | None) -> None:
    """An output directory: not a file, creatable and writable; non-empty only with ``--force`` (if given)."""
    if path.exists() and not path.is_dir():
        raise DataError(
            f"{flag} {str(path)!r} is a file, not a directory; it is never overwritten, even with --force. "
            f"Choose a directory for {flag} (it is created if missing)."
        )
    if force is False and path.is_dir() and any(path.iterdir()):
        raise DataError(f"{flag} {str(path)!r} already exists and is not empty. Choose another {flag} or pass --force.")
    _check_can_create_in(path, flag)


def _check_file(path: Path, flag: str, *, force: bool) -> None:
    """An output file: not a directory, not an existing file without ``--force``, in a writable directory."""
    if path.is_dir():
        raise DataError(
            f"{flag} {str(path)!r} is a directory; {flag} names the CSV file to write, "
            f"e.g. {str(path / 'forecast.csv')!r}."
        )
    if path.exists() and not force:
        raise DataError(f"{flag} {str(path)!r} already exists. Choose another {flag} or pass --force to replace it.")
    _check_can_create_in(path.parent, flag)


def _names_a_file(args: argparse.Namespace) -> bool:
    """Whether DATA is a path (it has a suffix or exists) rather than the name of a shipped dataset."""
    path = Path(args.data)
    return bool(path.suffix) or path.exists()


def _check_input_file(path: Path, flag: str, remedy: str) -> None:
    """An input file: it exists and is not a directory."""
    if path.is_dir():
        raise DataError(f"{flag} {str(path)!r} is a directory, not a file. {remedy}")
    if not path.exists():
        raise DataError(f"{flag} {str(path)!r} does not exist. {remedy}")


def _check_dataset_name(name: str) -> None:
    """Refuse a DATA that names neither a file nor a shipped dataset, suggesting the closest dataset name."""
    from .shipped import list_datasets

    if name in list_datasets():
        return
    close = difflib.get_close_matches(name, list_datasets(), n=1)
    hint = f" Did you mean the dataset {close[0]!r}?" if close else ""
    raise DataError(f"{name!r} is neither a file nor a shipped dataset.{hint} See `tsforecast datasets`.")


def _check_inputs(args: argparse.Namespace) -> None:
    """Refuse a DATA path or --future file that is missing or a directory (a dataset name is checked when loaded)."""
    if _names_a_file(args):
        remedy = "Pass a CSV or Parquet file, or the name of a shipped dataset (see `tsforecast datasets`)."
        _check_input_file(Path(args.data), "DATA", remedy)
    if getattr(args, "future", None) is not None:
        _check_input_file(Path(args.future), "--future", "Pass the file of known-future values for the horizon.")


def _check_inputs_survive(outputs: list[Path], args: argparse.Namespace) -> None:
    """Refuse to write any output over DATA or the --future file."""
    inputs = [Path(p).resolve() for p in (args.data, getattr(args, "future", None)) if p is not None]
    for output in outputs:
        if output.resolve() in inputs:
            raise DataError(
                f"--out would overwrite the input file {str(output)!r}; inputs are never modified. "
                "Choose another --out."
            )


# --- inputs ---------------------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> tuple[pd.DataFrame, str]:
    """Read DATA: a CSV/Parquet path or a shipped dataset name (an unknown name is refused before pandas loads)."""
    if not _names_a_file(args):
        _check_dataset_name(args.data)
        from .loaders import load_dataset
        from .shipped import dataset_info

        return load_dataset(args.data), f"shipped dataset {args.data!r} ({dataset_info(args.data).source})"
    from .loaders import load_csv, load_parquet

    path = Path(args.data)
    options: dict[str, Any] = {"time_col": args.time_col, "target_col": args.target_col, "id_col": args.id_col}
    options.update({k: v for k, v in (("fill", args.fill), ("date_format", args.date_format)) if v is not None})
    if path.suffix.lower() == ".parquet":
        return load_parquet(path, **options), str(path)
    return load_csv(path, **options), str(path)


def _user_columns(args: argparse.Namespace) -> dict[str, str]:
    """The user's names of the id, time and target columns, to write outputs with."""
    from .columns import ID, TARGET, TIME

    if not _names_a_file(args):
        return {}  # a shipped dataset: the standard names
    names = {ID: args.id_col, TIME: args.time_col, TARGET: args.target_col}
    return {standard: mine for standard, mine in names.items() if mine and mine != standard}


def _split_names(text: str | None) -> list[str]:
    return list(dict.fromkeys(c.strip() for c in (text or "").split(",") if c.strip()))


def _models(args: argparse.Namespace, *, horizon: int, season: int) -> list[Any]:
    """Build the models named by --model, reporting every unknown name at once.

    ``--lookback``, ``--epochs`` and ``--seed`` go to the models that have them (the sgd model);
    one that no chosen model has is an error rather than silently ignored.
    """
    from .models import MODELS, make_model

    wanted = _split_names(args.model)
    if not wanted:
        raise DataError(f"--model {args.model!r} names no model. Pass e.g. --model sgd or --model sgd,ets.")
    check_names("model", wanted, MODELS)
    models = [make_model(name, horizon=horizon, season=season) for name in wanted]
    for setting in _MODEL_SETTINGS:
        value = getattr(args, setting)
        if value is None:
            continue
        takers = [m for m in models if setting in m.get_params()]
        if not takers:
            raise DataError(
                f"--{setting} is a setting of the sgd model, which --model {args.model!r} does not include. "
                f"Add sgd to --model or drop --{setting}."
            )
        for model in takers:
            model.set_params(**{setting: value})
    return models


def _covariates(args: argparse.Namespace) -> Covariates | None:
    """The covariates declared by --known-future, --past-only, --static and --calendar (None if none), screened as
    --covariate-screen says."""
    from .covariates import CALENDAR, Covariates

    declared = {
        "known_future": _split_names(args.known_future),
        "past_only": _split_names(args.past_only),
        "static": _split_names(args.static),
        "calendar": _split_names(args.calendar),
    }
    check_names("calendar feature", declared["calendar"], CALENDAR)
    screen = getattr(args, "covariate_screen", None)
    if screen is not None and not (declared["known_future"] or declared["past_only"] or declared["static"]):
        raise DataError(
            f"--covariate-screen {screen} has no effect without covariate columns to screen. Declare them with "
            "--known-future, --past-only or --static, or drop --covariate-screen."
        )
    if not any(declared.values()):
        return None
    return Covariates(**declared, screen=screen or "refuse")  # type: ignore[arg-type]


def _intervals(args: argparse.Namespace) -> dict[str, Any]:
    """The ``level`` and ``interval_method`` keywords from --level (checked when parsed) and --interval-method."""
    if args.level is None:
        if args.interval_method is not None:
            raise DataError(
                f"--interval-method {args.interval_method} has no effect without --level, which asks for the "
                "prediction intervals. Add e.g. --level 80,95, or drop --interval-method."
            )
        return {}
    return {"level": args.level, "interval_method": args.interval_method or "conformal"}


def _check_native(models: list[Any]) -> None:
    """With --interval-method native: refuse a model without native intervals (the baselines all have them)."""
    from .models import model_name
    from .models.forecaster import has_native_intervals

    lacking = [model_name(m) for m in models if not has_native_intervals(m)]
    if lacking:
        raise DataError(
            f"--interval-method native needs each model's own intervals, and {', '.join(lacking)} "
            f"{'has' if len(lacking) == 1 else 'have'} none (ets, arima, theta, naive and seasonal_naive have them). "
            "Use --interval-method conformal, or choose such models."
        )


def _season(args: argparse.Namespace, df: pd.DataFrame, cv: Any = None) -> int:
    from .frequency import infer_freq
    from .seasonality import panel_season

    return int(args.season or panel_season(df, infer_freq(df), cv=cv))


# --- terminal output ------------------------------------------------------------------------------


def _phase(args: argparse.Namespace, text: str) -> None:
    """Announce a phase of the work on stderr, when it is a terminal and -q was not given."""
    if not args.quiet and sys.stderr.isatty():
        print(f"tsforecast {args.command}: {text}", file=sys.stderr, flush=True)


def _say(args: argparse.Namespace, text: str = "", *, stderr: bool = False) -> None:
    """Print a line of the summary on stdout (on stderr when stdout carries the output), unless -q."""
    if not args.quiet:
        print(text, file=sys.stderr if stderr else sys.stdout)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _leaderboard(summary: pd.DataFrame) -> str:
    """The best models (ranked as ``summary`` is), MASE columns first, the coverage of each interval level last."""
    from .metrics import METRICS

    coverage = [c for c in summary if str(c).startswith("coverage_")]
    columns = [
        "mase",
        "mase_vs_seasonal_naive",
        *(m for m in METRICS if m != "mase"),
        *coverage,
        "forecast",
        "left_out",
    ]
    shown = summary[[c for c in columns if c in summary]].head(_SHOWN_MODELS)
    text = shown.to_string(float_format=lambda v: f"{v:.4f}", na_rep="n/a")
    if len(summary) > _SHOWN_MODELS:
        text += f"\n({len(summary) - _SHOWN_MODELS} more models in metrics.csv)"
    compared = int(summary["compared"].max()) if len(summary) else 0
    text += (
        f"\nranked on the {_plural(compared, 'series-fold')} every model forecast; 'forecast' counts each model's own, "
        "'left_out' those it did not forecast (reasons: 'skipped' in summary.json)"
    )
    return text


def _audit_line(result: BacktestResult) -> str:
    if result.audit is None:
        return "leakage audit not run (--no-audit)"
    audit = result.audit
    folds = audit.folds["fold"].nunique()
    notes = "".join(f"\nnote: {note}" for note in audit.notes)
    if audit.status == "passed":
        return (
            f"leakage audit passed: {folds} folds rerun with the data after their cutoff perturbed "
            f"({', '.join(audit.perturbations)}) gave every reported forecast again, bit for bit" + notes
        )
    if audit.status == "leak":
        return (
            f"leakage audit FAILED (leak) on fold(s) {audit.failed_folds('leak')}: forecasts changed when only data "
            "after the cutoff changed" + notes
        )
    if audit.status == "not reproducible":
        return (
            f"leakage audit could not judge fold(s) {audit.failed_folds('not reproducible')}: not reproducible (a "
            "fresh rerun of the whole backtest on the same data gave other forecasts: unseeded randomness, or state "
            "left from earlier work in this process)" + notes
        )
    return f"leakage audit {audit.status}: it could not check everything" + notes


# --- subcommands ----------------------------------------------------------------------------------


def _save(result: BacktestResult, out: Path, columns: dict[str, str], *, wide: bool) -> list[Path]:
    """Write the four result files, with the user's column names in the CSVs; return their paths."""
    result.save(out, columns=columns, wide=wide)
    return [out / name for name in _RESULT_FILES]


def _backtest(args: argparse.Namespace) -> int:
    out = Path(args.out)
    _check_directory(out, "--out", force=args.force)
    _check_inputs_survive([out / name for name in _RESULT_FILES], args)
    if args.checkpoint is not None:
        _check_directory(Path(args.checkpoint), "--checkpoint", force=None)
    _check_inputs(args)
    if args.engine == "serial" and args.jobs != 1:
        raise DataError(
            f"--jobs {args.jobs} has no effect with the serial engine, which runs one task at a time. "
            "Add --engine joblib (or dask) to run in parallel, or drop --jobs."
        )
    intervals = _intervals(args)

    df, source = _load(args)  # NOTE: after the checks above, which answer before pandas loads (_load's too)
    from .backtest import backtest
    from .split import WalkForward

    cv = WalkForward(
        n_splits=args.folds,
        horizon=args.horizon,
        step=args.step,
        gap=args.gap,
        window=args.window,
        train_size=args.train_size,
    )
    season = _season(args, df, cv)
    models = _models(args, horizon=args.horizon + args.gap, season=season)
    baselines = [b for b in _ALWAYS if b not in _split_names(args.model)]
    if intervals.get("interval_method") == "native":
        _check_native(models)
    covariates = _covariates(args)
    _phase(args, f"backtest of {_plural(len(models) + len(baselines), 'model')} over {_plural(args.folds, 'fold')}")
    result = backtest(
        models,
        df,
        cv,
        baselines=baselines,
        season=season,
        engine=args.engine,
        n_jobs=args.jobs,
        checkpoint=args.checkpoint,
        scheduler=args.scheduler,
        audit=args.audit,
        progress=False if args.quiet else None,
        source=source,
        covariates=covariates,
        **intervals,
    )
    columns = _user_columns(args)
    result = dataclasses.replace(result, settings={**result.settings, "target": columns.get("y", "y")})
    _phase(args, f"writing results to {out}")
    written = _save(result, out, columns, wide=args.wide)
    _say(args, _leaderboard(result.summary(sort_by=args.sort_by)))
    if note := result.selection_note():
        _say(args, f"note: {note}")
    if len(result.skipped):
        _say(args, f"note: {len(result.skipped)} series left out of a fold (see 'skipped' in summary.json)")
    _say(args, _audit_line(result))
    _say(args, "wrote:")
    for path in written:
        _say(args, f"  {path}")
    if result.audit is not None and not result.audit.passed:
        print(f"tsforecast backtest: {_audit_line(result)}. Results were written; see {written[3]}.", file=sys.stderr)
        if result.audit.status != "leak":
            return EXIT_AUDIT_UNJUDGED
        return EXIT_AUDIT_FAILED
    return EXIT_OK


def _read_future(args: argparse.Namespace) -> pd.DataFrame:
    """The --future file, with the user's column names mapped to the standard ones (ids read as written)."""
    import pandas as pd

    from .columns import ID
    from .loaders import read_raw_csv

    path = Path(args.future)
    try:
        future = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else read_raw_csv(path, args.id_col or ID)
    except (ValueError, OSError) as exc:
        raise DataError(f"--future {str(path)!r} could not be read: {exc}. Is it a valid CSV or Parquet file?") from exc
    standard = {mine: std for std, mine in _user_columns(args).items()}
    return future.rename(columns=standard)


def _forecast(args: argparse.Namespace) -> int:
    to_stdout = args.out == "-"  # the CSV goes to stdout, every message to stderr
    out = Path(args.out)
    if not to_stdout:
        _check_file(out, "--out", force=args.force)
        _check_inputs_survive([out], args)
    _check_inputs(args)
    intervals = _intervals(args)

    df, _ = _load(args)  # NOTE: after the checks above, which answer before pandas loads (_load's too)
    import pandas as pd

    models = _models(args, horizon=args.horizon, season=_season(args, df))
    covariates = _covariates(args)
    future = None
    if args.future is not None:
        future = _read_future(args)
    elif covariates is not None and covariates.known_future:
        raise DataError(
            f"--known-future {','.join(covariates.known_future)} needs their values for the horizon: pass "
            "--future FILE.csv with the id and time columns and those columns."
        )
    from .models import model_name

    parts = []
    for model in models:
        _phase(args, f"fitting {model_name(model)}")
        forecast = model.fit(df, covariates=covariates).predict(future=future, **intervals)
        parts.append(forecast.assign(model=model_name(model)))
    forecasts = pd.concat(parts, ignore_index=True)
    first = [c for c in ("unique_id", "ds", "model") if c in forecasts]
    forecasts = forecasts[first + [c for c in forecasts if c not in first]].rename(columns=_user_columns(args))
    forecasts.to_csv(sys.stdout if to_stdout else out, index=False)
    series = forecasts.iloc[:, 0].nunique()
    counts = f"{series} series x {_plural(len(models), 'model')} x {_plural(args.horizon, 'step')}"
    _say(args, f"wrote {len(forecasts)} forecasts ({counts}):", stderr=to_stdout)
    _say(args, f"  {'<stdout>' if to_stdout else out}", stderr=to_stdout)
    return EXIT_OK


def _datasets(_: argparse.Namespace) -> int:
    from .loaders import load_dataset
    from .shipped import dataset_info, list_datasets

    print(f"{'name':<16} {'freq':<8} {'season':>6} {'series':>6} {'length':>7}  source")
    for name in list_datasets():
        info, df = dataset_info(name), load_dataset(name)
        print(f"{name:<16} {info.freq:<8} {info.season:>6} {df['unique_id'].nunique():>6} {len(df):>7}  {info.source}")
    return EXIT_OK


# --- the parser -----------------------------------------------------------------------------------


def _integer(minimum: int, expected: str, *, also: tuple[int, ...] = ()) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum`` (or one of ``also``), else ``expected ..., got '...'``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum and value not in also:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive = _integer(1, "a positive integer")
_non_negative = _integer(0, "an integer >= 0")
_workers = _integer(1, "a positive number of workers, or -1 for all cores", also=(-1,))


def _percentages(text: str) -> list[float | int]:
    """An argparse type: comma-separated numbers (``80,95``), checked as levels by :class:`_Levels`."""
    values: list[float | int] = []
    for part in text.split(","):
        try:
            values.append(int(part) if part.strip().lstrip("+-").isdigit() else float(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated percentages such as 80,95, got {text!r}"
            ) from None
    return values


class _Levels(argparse.Action):
    """Store --level as checked levels (ascending), or end with a usage error in the words of the flags."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        try:
            with spelled_as(FLAGS):
                levels = check_levels(values)
        except TsforecastError as exc:
            parser.error(str(exc))
        setattr(namespace, self.dest, levels)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", metavar="DATA", help="CSV or Parquet file, or the name of a shipped dataset")
    parser.add_argument("--time-col", default="ds", help="timestamp column (default: ds)")
    parser.add_argument("--target-col", default="y", help="target column (default: y)")
    parser.add_argument("--id-col", default=None, help="series id column for panels (default: unique_id if present)")
    parser.add_argument(
        "--date-format", default=None, help="strftime format of the timestamps, e.g. %%d/%%m/%%Y (default: inferred)"
    )
    parser.add_argument(
        "--fill",
        choices=("ffill", "zero"),
        default=None,
        help="insert missing timestamps with the last value or zero (default: refuse gaps)",
    )
    parser.add_argument("--horizon", type=_positive, required=True, help="steps to forecast")
    parser.add_argument("--season", type=_positive, default=None, help="seasonal period (default: from frequency)")
    parser.add_argument("--lookback", type=_positive, default=None, help="input window of the sgd model, in steps")
    parser.add_argument("--epochs", type=_positive, default=None, help="training epochs of the sgd model")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the sgd model")
    parser.add_argument("--known-future", default=None, help="comma-separated covariates known for the horizon")
    parser.add_argument("--past-only", default=None, help="comma-separated covariates observed with the target")
    parser.add_argument("--static", default=None, help="comma-separated covariates constant within a series")
    parser.add_argument("--calendar", default=None, help="calendar features from the timestamps, e.g. month,dayofweek")
    parser.add_argument(
        "--level",
        type=_percentages,
        action=_Levels,
        default=None,
        metavar="L[,L...]",
        help="prediction intervals at these coverage percentages, e.g. 80,95 (default: none)",
    )
    parser.add_argument(
        "--interval-method",
        choices=("conformal", "native"),
        default=None,
        help="conformal (calibrated on past origins inside the training data; default) or native (the model's own)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log training (-v epochs, -vv debug)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def build_parser() -> argparse.ArgumentParser:
    """The ``tsforecast`` argument parser."""
    parser = _Parser(prog="tsforecast", description="Leakage-safe forecasting and walk-forward backtests.")
    parser.add_argument("--version", action="version", version=f"tsforecast {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    bt = commands.add_parser(
        "backtest",
        help="walk-forward backtest with report",
        description="Walk-forward backtest of one or more models against the naive baselines; writes "
        "forecasts.csv, metrics.csv, summary.json and report.html to --out.",
        epilog=_BACKTEST_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_arguments(bt)
    bt.add_argument("--folds", type=_positive, default=5, help="number of folds (default: 5)")
    bt.add_argument("--step", type=_positive, default=None, help="distance between cutoffs (default: horizon)")
    bt.add_argument("--gap", type=_non_negative, default=0, help="steps skipped between cutoff and test (default: 0)")
    bt.add_argument("--window", choices=("expanding", "sliding"), default="expanding", help="training window")
    bt.add_argument("--train-size", type=_positive, default=None, help="length of a sliding training window")
    bt.add_argument("--model", default="sgd", help=_MODEL_HELP)
    bt.add_argument("--audit", action=argparse.BooleanOptionalAction, default=True, help="leakage audit (default: on)")
    bt.add_argument(
        "--covariate-screen",
        choices=("refuse", "warn", "off"),
        default=None,
        help="covariate leak screen before any fit: refuse a column holding future values of y, only warn, or skip "
        "(default: refuse)",
    )
    bt.add_argument("--jobs", type=_workers, default=1, help="parallel workers, -1 for all cores (default: 1)")
    bt.add_argument("--engine", choices=("serial", "joblib", "dask"), default="serial", help="task engine")
    bt.add_argument("--checkpoint", default=None, help="directory to store finished tasks and resume from")
    bt.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running dask.distributed scheduler (e.g. tcp://127.0.0.1:8786); needs --engine dask",
    )
    bt.add_argument(
        "--sort-by",
        choices=_METRIC_NAMES,
        default="mase",
        help="metric the printed leaderboard ranks the models by, lowest first (default: mase)",
    )
    bt.add_argument("--out", required=True, help="output directory")
    bt.add_argument(
        "--wide",
        action="store_true",
        help="write forecasts.csv as statsforecast's cross_validation does: one row per id, time and cutoff, "
        "one column per model",
    )
    bt.set_defaults(run=_backtest)

    fc = commands.add_parser(
        "forecast",
        help="fit on all data and forecast the future",
        description="Fit each model on all the data and write the next --horizon values of every series "
        "to one CSV file (columns: id, time, model, y_hat; with --level also y_lo_L, y_hi_L per level).",
        epilog=_FORECAST_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_arguments(fc)
    fc.add_argument("--model", default="sgd", help=_MODEL_HELP)
    fc.add_argument("--future", default=None, help="CSV/Parquet of the known-future covariates for the horizon")
    fc.add_argument("--out", required=True, help="output CSV file, or - for stdout (messages then go to stderr)")
    fc.set_defaults(run=_forecast)

    commands.add_parser("datasets", help="list the shipped datasets").set_defaults(run=_datasets, debug=False)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    verbosity = getattr(args, "verbose", 0)
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("tsforecast")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.ERROR if getattr(args, "quiet", False) else level)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename!r}" if exc.filename else exc.strerror
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status."""
    args = build_parser().parse_args(argv)
    _configure_logging(args)
    try:
        with spelled_as(FLAGS):
            return int(args.run(args))
    except (TsforecastError, OSError) as exc:
        if args.debug:
            raise
        print(f"tsforecast {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"tsforecast {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
