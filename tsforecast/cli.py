"""Command-line interface: ``tsforecast datasets``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .data import dataset_info, list_datasets, load_dataset
from .errors import TsforecastError

__all__ = ["main"]


def _datasets(_: argparse.Namespace) -> int:
    print(f"{'name':<16} {'freq':<8} {'season':>6} {'series':>6} {'length':>7}  source")
    for name in list_datasets():
        info, df = dataset_info(name), load_dataset(name)
        print(f"{name:<16} {info.freq:<8} {info.season:>6} {df['unique_id'].nunique():>6} {len(df):>7}  {info.source}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tsforecast", description="Leakage-safe forecasting and backtests.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("datasets", help="list the shipped datasets").set_defaults(run=_datasets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 bad input or usage)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except TsforecastError as exc:
        print(f"tsforecast: error: {exc}", file=sys.stderr)
        return 2
