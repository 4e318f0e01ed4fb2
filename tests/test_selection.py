"""Honest model selection: nested walk-forward tuning (WalkForwardSearch) and per-series choice (AutoSelect)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

import tsforecast as tsf
from tsforecast.audit import AuditOptions
from tsforecast.columns import TIME
from tsforecast.errors import DataError, DataTypeError
from tsforecast.models import MODELS, Naive, SeasonalNaive, make_model
from tsforecast.split import panel_folds


class NoisyNaive(Naive):
    """The naive forecast plus noise of one size whose draw depends on ``seed`` and the history only.

    Every ``seed`` is a candidate of the same quality: any difference between their scores is luck.
    """

    def __init__(self, horizon: int = 1, seed: int = 0) -> None:
        self.horizon = horizon
        self.seed = seed

    def _forecast_panel(self, values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        table = np.random.default_rng(self.seed).normal(0.0, 2.0, (256, 64, self.horizon))
        series = (np.abs(values[starts]) * 1e6).astype(np.int64) % 256  # NOTE: the first value tells series apart
        return values[starts + lengths - 1][:, None] + table[series, lengths % 64]


SEEN: list[tuple[str, Any]] = []
"""What each fit and forecast of a :class:`Recorder` read last: ``("fit" | "predict", timestamp)``."""


class Recorder(Naive):
    """The naive forecast, recording the last timestamp of every frame it is fitted on or forecasts from."""

    def __init__(self, horizon: int = 1, tag: int = 0) -> None:
        self.horizon = horizon
        self.tag = tag

    def _fit(self, frame: pd.DataFrame) -> None:
        SEEN.append(("fit", frame[TIME].max()))
        super()._fit(frame)

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        SEEN.append(("predict", frame[TIME].max()))
        return super()._predict(frame)


def _walks(n_series: int, length: int, seed: int) -> pd.DataFrame:
    """A panel of random walks on integer time."""
    rng = np.random.default_rng(seed)
    y = 100.0 + rng.normal(0.0, 1.0, (n_series, length)).cumsum(axis=1)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], length),
            "ds": np.tile(np.arange(length), n_series),
            "y": y.ravel(),
        }
    )


def test_the_best_of_30_equal_candidates_looks_better_than_it_is_and_the_nested_search_does_not() -> None:
    # 30 candidates of identical quality. On each of 12 outer folds, the best of them chosen on that fold's
    # test (non-nested) scores about 2 standard deviations of the candidates' scores below the median one;
    # the nested search, which chooses on the fold's past only, scores one more draw of a typical candidate.
    # The per-fold gaps, in those standard deviations, are averaged over the folds: independent replicates.
    horizon, outer = 2, tsf.WalkForward(12, 2)
    df = _walks(8, 36, 0)
    candidates = {f"seed={k}": NoisyNaive(horizon, seed=k) for k in range(30)}
    flat = tsf.backtest(candidates, df, outer, baselines=(), season=1).metrics
    by_fold = flat[flat["model"] != "seasonal_naive"].groupby(["fold", "model"])["mase"].mean().unstack()
    search = tsf.WalkForwardSearch(NoisyNaive(horizon), {"seed": list(range(30))}, inner_cv=tsf.WalkForward(2, 2))
    runs = tsf.backtest({"search": search}, df, outer, baselines=(), season=1).metrics
    nested = runs[runs["model"] == "search"].groupby("fold")["mase"].mean()
    median, spread = by_fold.median(axis=1), by_fold.std(axis=1)
    best_gap = ((by_fold.min(axis=1) - median) / spread).mean()
    nested_gap = ((nested - median) / spread).mean()
    assert best_gap < -1.4  # non-nested "best of 30 on the reported folds": clearly below the median candidate
    assert abs(nested_gap) < 1.0  # the nested search: within noise of the median candidate
    assert nested_gap - best_gap > 1.0


@st.composite
def _splitters(draw: st.DrawFn) -> tuple[tsf.WalkForward, tsf.WalkForward]:
    """An outer splitter and an inner one whose folds test at most the outer horizon plus gap."""
    horizon, gap = draw(st.integers(1, 3)), draw(st.integers(0, 1))
    sliding = draw(st.booleans())
    outer = tsf.WalkForward(
        draw(st.integers(1, 3)),
        horizon,
        step=draw(st.none() | st.integers(1, 3)),
        gap=gap,
        window="sliding" if sliding else "expanding",
        train_size=draw(st.integers(12, 20)) if sliding else None,
    )
    inner_horizon = draw(st.integers(1, horizon + gap))
    inner = tsf.WalkForward(
        draw(st.integers(1, 3)),
        inner_horizon,
        step=draw(st.none() | st.integers(1, 2)),
        gap=draw(st.integers(0, horizon + gap - inner_horizon)),
    )
    return outer, inner


@settings(max_examples=15)
@given(cvs=_splitters(), late=st.integers(0, 6))
def test_no_inner_fold_reaches_past_the_outer_cutoff(cvs: tuple[tsf.WalkForward, tsf.WalkForward], late: int) -> None:
    outer, inner = cvs
    df = _walks(2, 36, 0)
    df = df[(df["unique_id"] == "s0") | (df["ds"] >= late)]  # the second series may start later
    search = tsf.WalkForwardSearch(Recorder(outer.horizon + outer.gap), {"tag": [0, 1, 2]}, inner_cv=inner, season=1)
    for fold in panel_folds(outer, df):
        SEEN.clear()
        fitted = clone(search).fit(fold.train)
        assert max(t for _, t in SEEN) <= fold.cutoff
        fits = [t for kind, t in SEEN if kind == "fit"]
        assert fits.count(fold.cutoff) == 1  # only the chosen candidate's refit reads up to the outer cutoff
        assert len(fits) == 1 + 3 * len(fitted.cv_results_.filter(like="mase_fold_").columns)


def _known_panel() -> pd.DataFrame:
    """Three series whose best model is known: pure seasonal (period 4), a random walk (with drift), flat noise."""
    rng = np.random.default_rng(0)
    n = 80
    series = {
        "seasonal": np.tile([10.0, 30.0, 20.0, 0.0], n // 4) + rng.normal(0.0, 0.1, n),
        "walk": 50.0 + (1.0 + rng.normal(0.0, 1.0, n)).cumsum(),
        "flat": 5.0 + rng.normal(0.0, 1.0, n),
    }
    return pd.DataFrame(
        {
            "unique_id": np.repeat(list(series), n),
            "ds": np.tile(np.arange(n), len(series)),
            "y": np.concatenate(list(series.values())),
        }
    )


def test_auto_select_picks_each_series_best_model() -> None:
    df = _known_panel()
    auto = tsf.AutoSelect(["naive", "seasonal_naive", "mean"], horizon=4, season=4, inner_cv=tsf.WalkForward(8, 4))
    auto.fit(df)
    assert auto.choice_.to_dict() == {"flat": "mean", "seasonal": "seasonal_naive", "walk": "naive"}
    assert list(auto.inner_scores_.columns) == ["naive", "seasonal_naive", "mean"]
    overall = auto.inner_scores_.mean().idxmin()  # what a series without inner scores gets
    renamed = df[df["unique_id"] == "walk"].assign(unique_id="new")
    alone = make_model(overall, horizon=4, season=4).fit(renamed).predict()["y_hat"]
    np.testing.assert_allclose(auto.predict(renamed)["y_hat"].to_numpy(), alone.to_numpy())
    forecast = auto.predict().set_index("unique_id")["y_hat"]
    for uid, name in auto.choice_.items():
        alone = make_model(name, horizon=4, season=4).fit(df[df["unique_id"] == uid]).predict()
        np.testing.assert_allclose(forecast.loc[uid].to_numpy(), alone["y_hat"].to_numpy())


def test_auto_select_mean_k_averages_each_series_k_best() -> None:
    df = _known_panel()
    auto = tsf.AutoSelect(
        ["naive", "seasonal_naive", "mean"], horizon=4, season=4, inner_cv=tsf.WalkForward(8, 4), combine="mean_k"
    ).fit(df)
    forecast = auto.predict().set_index("unique_id")["y_hat"]
    for uid, row in auto.inner_scores_.iterrows():
        two = row.sort_values().index[:2]
        alone = [make_model(n, horizon=4, season=4).fit(df[df["unique_id"] == uid]).predict()["y_hat"] for n in two]
        np.testing.assert_allclose(forecast.loc[uid].to_numpy(), np.mean(alone, axis=0))


def test_a_search_and_auto_inside_a_backtest_pass_the_audit_and_are_named_sensibly() -> None:
    df = _known_panel()
    search = tsf.WalkForwardSearch(SeasonalNaive(horizon=4), {"season": [1, 4]}, inner_cv=tsf.WalkForward(2, 4))
    auto = tsf.AutoSelect(["naive", "mean"], horizon=4, inner_cv=tsf.WalkForward(2, 4))
    result = tsf.backtest(
        [search, auto, "auto"],
        df,
        tsf.WalkForward(2, 4),
        baselines=(),
        season=4,
        audit=AuditOptions(fresh_process=False),
    )
    assert result.audit is not None
    assert result.audit.passed
    assert result.models == [
        "search(seasonal_naive)",
        "auto(inner_cv=<WalkForward>, models=<list>)",
        "auto",
        "seasonal_naive",
    ]


@pytest.mark.parametrize(
    "model",
    [
        tsf.AutoSelect(["naive", "seasonal_naive"], horizon=2, inner_cv=tsf.WalkForward(2, 2)),
        tsf.WalkForwardSearch(SeasonalNaive(2), {"season": [1, 8]}, inner_cv=tsf.WalkForward(2, 2)),
    ],
)
def test_a_series_too_short_for_some_candidate_is_skipped_in_a_backtest(model: Any) -> None:
    seasonal = _known_panel().query("unique_id == 'seasonal'")
    df = pd.concat([seasonal, seasonal.query("ds >= 70").assign(unique_id="short")])
    result = tsf.backtest(model, df, tsf.WalkForward(2, 2), season=8, baselines=())
    skipped = result.skipped[result.skipped["model"] != "seasonal_naive"]
    assert skipped["unique_id"].tolist() == ["short"]
    assert skipped["reason"].tolist() == ["too short for the model (6 rows, needs 8)"]


def test_the_search_records_its_choice_and_the_inner_table() -> None:
    df = _known_panel().query("unique_id == 'seasonal'")
    search = tsf.WalkForwardSearch(SeasonalNaive(horizon=4), {"season": [1, 2, 4]}, inner_cv=tsf.WalkForward(3, 4))
    search.fit(df)
    table = search.cv_results_
    assert search.best_params_ == {"season": 4}
    assert search.best_index_ == 2
    assert search.best_score_ == table["mean_mase"].min()
    assert list(table["rank"]) == [3, 2, 1]
    assert table["series_folds"].tolist() == [3, 3, 3]
    assert list(table.filter(like="mase_fold_").columns) == ["mase_fold_0", "mase_fold_1", "mase_fold_2"]
    assert search.last_seen_ == df["ds"].max()


def test_ties_go_to_the_earlier_candidate() -> None:
    df = _walks(3, 30, 2)
    search = tsf.WalkForwardSearch(Recorder(2), {"tag": [5, 3, 4]}, inner_cv=tsf.WalkForward(2, 2)).fit(df)
    assert search.best_params_ == {"tag": 5}


def test_param_distributions_draw_n_iter_settings() -> None:
    search = tsf.WalkForwardSearch(NoisyNaive(2), param_distributions={"seed": range(100)}, n_iter=4, random_state=0)
    settings_ = search.candidates()
    assert len(settings_) == 4
    assert settings_ == search.candidates()
    search.fit(_walks(3, 30, 2))
    assert search.best_params_ in settings_
    assert len(search.cv_results_) == 4


def test_get_params_and_clone_round_trip() -> None:
    search = tsf.WalkForwardSearch(
        SeasonalNaive(horizon=3, season=2), {"season": [1, 2]}, inner_cv=tsf.WalkForward(2, 3)
    )
    copy = clone(search)
    assert copy.get_params(deep=False).keys() == search.get_params(deep=False).keys()
    assert repr(copy) == repr(search)
    assert copy.model is not search.model
    assert copy.set_params(model__season=5).model.season == 5
    assert search.model.season == 2
    assert copy.horizon == 3
    auto = tsf.AutoSelect(["naive", "mean"], horizon=2, combine="mean_k", k=2)
    assert clone(auto).get_params() == auto.get_params()
    assert isinstance(make_model("auto", horizon=6, season=12), tsf.AutoSelect)
    assert "auto" in MODELS
    assert make_model("auto", horizon=6, season=12).get_params()["models"] == ("seasonal_naive", "ets", "theta")


def test_selection_optimism_reports_the_inner_best_next_to_the_backtest_outer_score() -> None:
    df = _walks(4, 40, 3)
    search = tsf.WalkForwardSearch(NoisyNaive(3), {"seed": list(range(5))}, inner_cv=tsf.WalkForward(2, 3), season=1)
    outer = tsf.WalkForward(3, 3)
    table = tsf.selection_optimism(search, df, outer)
    result = tsf.backtest({"search": search}, df, outer, baselines=(), season=1)
    scores = result.metrics[result.metrics["model"] == "search"].groupby("fold")["mase"].mean()
    np.testing.assert_allclose(table["outer_mase"].to_numpy(), scores.to_numpy())
    assert table["fold"].tolist() == [0, 1, 2]
    np.testing.assert_allclose(table["optimism"], table["outer_mase"] - table["inner_best_mase"])
    first = clone(search).fit(df[df["ds"] <= table["cutoff"].iloc[0]])
    assert table["best_params"].iloc[0] == first.best_params_
    assert table["inner_best_mase"].iloc[0] == first.best_score_


def test_a_search_of_something_else_than_a_forecaster_is_refused() -> None:
    with pytest.raises(DataTypeError, match="tunes a tsforecast Forecaster, got str"):
        tsf.backtest(tsf.WalkForwardSearch("ets", {}), _walks(1, 30, 0), tsf.WalkForward(2, 2))


def test_repeated_candidates_get_numbered_names() -> None:
    auto = tsf.AutoSelect([Naive(2), "naive", Naive(2)], horizon=2, inner_cv=tsf.WalkForward(2, 2))
    assert auto.fit(_walks(2, 30, 0)).names_ == ["naive", "naive #2", "naive #3"]


@pytest.mark.parametrize(
    ("search", "message"),
    [
        (tsf.WalkForwardSearch(Naive(2)), "exactly one of param_grid"),
        (tsf.WalkForwardSearch(Naive(2), {"horizon": [1, 2]}), "cannot tune horizon"),
        (tsf.WalkForwardSearch(Naive(2), {"horizon": [2]}, inner_cv=tsf.WalkForward(2, 3)), "cannot tune horizon"),
        (tsf.WalkForwardSearch(Naive(2), {}, inner_cv=tsf.WalkForward(2, 3)), "test more than the 2 step"),
        (tsf.AutoSelect(["naive"], horizon=2, combine="median"), "'combine' parameter of AutoSelect must be one of"),
        (tsf.WalkForwardSearch(Naive(2), {}, n_iter=0), "'n_iter' parameter of WalkForwardSearch"),
        (tsf.AutoSelect(["naive"], horizon=2, combine="mean_k", k=2), "between 1 and the 1"),
        (tsf.AutoSelect([Naive(3)], horizon=2), "give every candidate the selector's horizon"),
        (tsf.AutoSelect([], horizon=2), "at least one candidate"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(search: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        search.fit(_walks(2, 30, 0))


def test_the_measurement_script_prints_its_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "measure_selection.py"
    monkeypatch.setattr(sys, "argv", [script.name, "--datasets", "uk_lung_deaths"])
    runpy.run_path(str(script), run_name="__main__")
    header, row = capsys.readouterr().out.splitlines()[:3:2]
    assert header.split() == [
        "series_folds",
        "non_nested_best",
        "median_candidate",
        "nested_search",
        "inner_best",
        "auto",
        "best_single",
        "seasonal_naive",
    ]
    numbers = [float(x) for x in row.split()[1:]]
    assert row.split()[0] == "uk_lung_deaths"
    assert numbers[0] == 6
    assert numbers[1] <= numbers[2]  # the best candidate is at most the median one


# ---------------------------------------------------------------------- the note under the leaderboard ---- #

_NOTE = "optimistic estimate of a choice made by this comparison"


def _air(models: Any, **kwargs: Any) -> tsf.BacktestResult:
    return tsf.backtest(models, tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12), audit=False, **kwargs)


def test_one_ranked_model_gets_no_selection_note() -> None:
    assert _air("seasonal_naive", baselines=()).selection_note() == ""


def test_the_selection_note_counts_the_models_and_series_folds_and_says_nested_selection_was_not_run() -> None:
    res = _air("naive")
    note = res.selection_note()
    assert note.startswith(f"2 models compared on the same {len(res.compared())} series-folds: ")
    assert _NOTE in note
    assert note.endswith("; nested selection was not run")


def test_the_selection_note_names_a_nested_selector_with_its_score(tmp_path: Path) -> None:
    res = _air(["auto", "naive"])
    note = res.selection_note()
    assert note.startswith(f"3 models compared on the same {len(res.compared())} series-folds: ")
    assert note.endswith(f"; nested selection was run: auto (mean MASE {res.summary().loc['auto', 'mase']:.3f})")
    html = (res.save(tmp_path) / "report.html").read_text(encoding="utf-8")
    assert f'<p class="note" id="selection-note">{note}.</p>' in html


def test_the_cli_prints_the_selection_note_after_the_leaderboard_and_q_silences_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tsforecast import cli

    argv = ["backtest", "air_passengers", "--horizon", "12", "--folds", "2", "--model", "naive,seasonal_naive"]
    assert cli.main([*argv, "--no-audit", "--out", str(tmp_path / "a")]) == 0
    lines = capsys.readouterr().out.splitlines()
    note = [line for line in lines if _NOTE in line]
    assert note == ["note: 2 models compared on the same 2 series-folds: " + note[0].split(": ", 2)[2]]
    assert lines.index(note[0]) > next(i for i, line in enumerate(lines) if line.startswith("ranked on the"))
    assert note[0].endswith("nested selection was not run")
    assert cli.main([*argv, "--no-audit", "--out", str(tmp_path / "b"), "-q"]) == 0
    assert capsys.readouterr().out == ""


def test_the_measurement_script_scores_auto_against_each_single_model_on_evaluate_sgds_folds() -> None:
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    measure = runpy.run_path(str(scripts / "measure_selection.py"))["measure_against_singles"]
    row = measure("ausbeer", tsf.load_dataset("ausbeer"), 2)
    assert row["season"] == 4
    assert row["series_folds"] == 2
    singles = [row[m] for m in ("seasonal_naive", "ets", "theta")]
    assert row["best_single_hindsight"] == min(singles)
    assert min(singles) > 0
    assert row["auto"] > 0


def test_the_selection_note_recognises_a_users_subclass_of_a_selector() -> None:
    class MySearch(tsf.WalkForwardSearch):  # a user's own search: still nested selection
        pass

    search = MySearch(tsf.ETS(horizon=12), {"damped": [True, False]}, inner_cv=tsf.WalkForward(2, 12))
    res = tsf.backtest(search, tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12), baselines=("naive",))
    assert "; nested selection was run: " in res.selection_note()


def test_a_search_is_checkpointed_and_resumed_like_any_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    df, cv = tsf.load_dataset("ausbeer"), tsf.WalkForward(3, 8)
    search = tsf.WalkForwardSearch(tsf.ETS(horizon=8), {"damped": [True, False]}, inner_cv=tsf.WalkForward(2, 8))
    first = tsf.backtest(search, df, cv, baselines=(), checkpoint=tmp_path)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a stored fold was recomputed")

    monkeypatch.setattr(tsf.WalkForwardSearch, "fit_forecast", refuse)
    again = tsf.backtest(search, df, cv, baselines=(), checkpoint=tmp_path)  # in this process: the patch holds
    pd.testing.assert_frame_equal(first.forecasts, again.forecasts)
