"""Command-line interface: ``tsforecast backtest | forecast | datasets``.

Exit status: 0 success; 2 bad input or usage (one line on stderr, no traceback unless ``--debug``);
3 the leakage audit failed (every result is still written), so a team can gate CI on a backtest.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from ._validation import check_names
from .backtest import backtest as run_backtest
from .covariates import CALENDAR, Covariates
from .data import dataset_info, infer_freq, list_datasets, load_csv, load_dataset, load_parquet, season_length
from .errors import DataError, TsforecastError
from .metrics import METRICS
from .models import MODELS, make_model
from .split import WalkForward

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_AUDIT_FAILED = 0, 2, 3
_ALWAYS = ("naive", "seasonal_naive")
_BACKTEST_EXAMPLE = """example:
  tsforecast backtest air_passengers --horizon 12 --folds 5 --model sgd,ets --out results/
  tsforecast backtest sales.csv --id-col store --time-col date --target-col units --horizon 7 --out results/
  tsforecast backtest elecdaily --horizon 7 --known-future WorkDay --past-only Temperature --out results/"""
_FORECAST_EXAMPLE = """example:
  tsforecast forecast air_passengers --horizon 12 --out forecast.csv
  tsforecast forecast sales.csv --horizon 7 --known-future promo --future promo_next_week.csv --out forecast.csv"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _load(args: argparse.Namespace) -> tuple[pd.DataFrame, str]:
    """Read DATA: a CSV/Parquet path or a shipped dataset name."""
    path = Path(args.data)
    columns = {"time_col": args.time_col, "target_col": args.target_col, "id_col": args.id_col}
    if path.suffix.lower() == ".parquet":
        return load_parquet(path, **columns), str(path)
    if path.suffix or path.exists():
        return load_csv(path, **columns), str(path)
    if args.data in list_datasets():
        return load_dataset(args.data), f"shipped dataset {args.data!r} ({dataset_info(args.data).source})"
    close = difflib.get_close_matches(args.data, list_datasets(), n=1)
    hint = f" Did you mean the dataset {close[0]!r}?" if close else ""
    raise DataError(f"{args.data!r} is neither a file nor a shipped dataset.{hint} See `tsforecast datasets`.")


def _models(names: str, *, horizon: int, season: int, args: argparse.Namespace) -> list[Any]:
    """Build the models named on the command line, reporting every unknown name at once."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    check_names("model", wanted, MODELS)
    overrides = {k: v for k, v in (("epochs", args.epochs), ("seed", args.seed)) if v is not None}
    models = []
    for name in dict.fromkeys(wanted):
        model = make_model(name, horizon=horizon, season=season)
        model.set_params(**{k: v for k, v in overrides.items() if k in model.get_params()})
        models.append(model)
    return models


def _columns(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _covariates(args: argparse.Namespace) -> Covariates | None:
    """The covariates declared by --known-future, --past-only, --static and --calendar (None if none)."""
    declared = {
        "known_future": _columns(args.known_future),
        "past_only": _columns(args.past_only),
        "static": _columns(args.static),
        "calendar": _columns(args.calendar),
    }
    check_names("calendar feature", declared["calendar"], CALENDAR)
    return Covariates(**declared) if any(declared.values()) else None  # type: ignore[arg-type]


def _season(args: argparse.Namespace, df: pd.DataFrame) -> int:
    return int(args.season or season_length(infer_freq(df)))


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise DataError(f"Output {str(out)!r} already exists and is not empty. Choose another --out or pass --force.")


def _print_table(table: pd.DataFrame) -> None:
    shown = table[[c for c in (*METRICS, "mase_vs_seasonal_naive", "failed") if c in table]]
    print(shown.to_string(float_format=lambda v: f"{v:.4f}"))


def _backtest(args: argparse.Namespace) -> int:
    df, source = _load(args)
    cv = WalkForward(
        n_splits=args.folds,
        horizon=args.horizon,
        step=args.step,
        gap=args.gap,
        window=args.window,
        train_size=args.train_size,
    )
    out = Path(args.out)
    _check_out(out, args.force)
    season = _season(args, df)
    models = _models(args.model, horizon=args.horizon + args.gap, season=season, args=args)
    result = run_backtest(
        models,
        df,
        cv,
        baselines=[b for b in _ALWAYS if b not in args.model.split(",")],
        season=season,
        engine=args.engine,
        n_jobs=args.jobs,
        checkpoint=args.checkpoint,
        audit=args.audit,
        progress=None if not args.quiet else False,
        source=source,
        covariates=_covariates(args),
    )
    result.save(out)
    _print_table(result.summary())
    print(f"\nreport: {(out / 'report.html').resolve()}")
    if result.audit is not None and not result.audit.passed:
        failed = result.audit.folds[~result.audit.folds["identical"]]
        print(
            f"tsforecast backtest: leakage audit FAILED on fold(s) {sorted(set(failed['fold']))}: forecasts changed "
            "when only data after the cutoff changed. Results were written; see the report's audit section.",
            file=sys.stderr,
        )
        return EXIT_AUDIT_FAILED
    return EXIT_OK


def _forecast(args: argparse.Namespace) -> int:
    df, _ = _load(args)
    out = Path(args.out)
    _check_out(out, args.force)
    (model,) = _models(args.model, horizon=args.horizon, season=_season(args, df), args=args)
    covariates = _covariates(args)
    future = None
    if args.future is not None:
        future = pd.read_parquet(args.future) if args.future.lower().endswith(".parquet") else pd.read_csv(args.future)
        future = future.rename(columns={args.time_col: "ds", **({args.id_col: "unique_id"} if args.id_col else {})})
    elif covariates is not None and covariates.known_future:
        raise DataError(
            f"--known-future {','.join(covariates.known_future)} needs their values for the horizon: pass "
            "--future FILE.csv with columns unique_id, ds and those columns."
        )
    forecast = model.fit(df, covariates=covariates).predict(future=future)
    out.parent.mkdir(parents=True, exist_ok=True)
    forecast.to_csv(out, index=False)
    print(f"{len(forecast)} forecasts for {forecast['unique_id'].nunique()} series written to {out}")
    return EXIT_OK


def _datasets(_: argparse.Namespace) -> int:
    print(f"{'name':<16} {'freq':<8} {'season':>6} {'series':>6} {'length':>7}  source")
    for name in list_datasets():
        info, df = dataset_info(name), load_dataset(name)
        print(f"{name:<16} {info.freq:<8} {info.season:>6} {df['unique_id'].nunique():>6} {len(df):>7}  {info.source}")
    return EXIT_OK


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", metavar="DATA", help="CSV or Parquet file, or the name of a shipped dataset")
    parser.add_argument("--time-col", default="ds", help="timestamp column (default: ds)")
    parser.add_argument("--target-col", default="y", help="target column (default: y)")
    parser.add_argument("--id-col", default=None, help="series id column for panels (default: unique_id if present)")
    parser.add_argument("--horizon", type=_positive, required=True, help="steps to forecast")
    parser.add_argument("--season", type=_positive, default=None, help="seasonal period (default: from frequency)")
    parser.add_argument("--epochs", type=_positive, default=None, help="training epochs of the sgd model")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the sgd model")
    parser.add_argument("--known-future", default=None, help="comma-separated covariates known for the horizon")
    parser.add_argument("--past-only", default=None, help="comma-separated covariates observed with the target")
    parser.add_argument("--static", default=None, help="comma-separated covariates constant within a series")
    parser.add_argument("--calendar", default=None, help=f"calendar features from ds: {', '.join(CALENDAR)}")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or logs")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log training (-v epochs, -vv debug)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def build_parser() -> argparse.ArgumentParser:
    """The ``tsforecast`` argument parser."""
    parser = _Parser(prog="tsforecast", description="Leakage-safe forecasting and walk-forward backtests.")
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
    bt.add_argument("--gap", type=int, default=0, help="steps skipped between cutoff and test (default: 0)")
    bt.add_argument("--window", choices=("expanding", "sliding"), default="expanding", help="training window")
    bt.add_argument("--train-size", type=_positive, default=None, help="length of a sliding training window")
    bt.add_argument("--model", default="sgd", help="comma-separated models, e.g. sgd,ets,theta (default: sgd)")
    bt.add_argument("--audit", action=argparse.BooleanOptionalAction, default=True, help="leakage audit (default: on)")
    bt.add_argument("--jobs", type=int, default=1, help="parallel workers (default: 1)")
    bt.add_argument("--engine", choices=("serial", "joblib", "dask"), default="serial", help="task engine")
    bt.add_argument("--checkpoint", default=None, help="directory to store finished tasks and resume from")
    bt.add_argument("--out", required=True, help="output directory")
    bt.set_defaults(run=_backtest)

    fc = commands.add_parser(
        "forecast",
        help="fit on all data and forecast the future",
        description="Fit a model on all the data and write the next --horizon values of every series.",
        epilog=_FORECAST_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_arguments(fc)
    fc.add_argument("--model", default="sgd", help="model name (default: sgd)")
    fc.add_argument("--future", default=None, help="CSV/Parquet of the known-future covariates for the horizon")
    fc.add_argument("--out", required=True, help="output CSV file")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status."""
    args = build_parser().parse_args(argv)
    _configure_logging(args)
    try:
        return int(args.run(args))
    except TsforecastError as exc:
        if args.debug:
            raise
        print(f"tsforecast {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
