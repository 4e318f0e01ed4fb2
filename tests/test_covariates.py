"""Covariates with declared availability: declaration, calendar, model inputs, backtest, audit, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
import torch
from leaky import Peeker

import tsforecast as tsf
from tsforecast import cli
from tsforecast.covariates import calendar_features
from tsforecast.models import Forecaster
from tsforecast.models.networks import ResidualMLP
from tsforecast.windows import WindowDataset

COV = tsf.Covariates(known_future=["WorkDay"], past_only=["Temperature"])


@pytest.fixture
def elec() -> pd.DataFrame:
    return tsf.load_dataset("elecdaily")


def small(**params: Any) -> tsf.SGDForecaster:
    """A fast one-member model for daily data."""
    defaults: dict[str, Any] = {
        "lookback": 14,
        "horizon": 7,
        "season": 7,
        "family": "drift",
        "scales": (1.0,),
        "epochs": 3,
    }
    return tsf.SGDForecaster(**{**defaults, **params})


def panel(n: int = 80) -> pd.DataFrame:
    """Two daily series with a known-future, a past-only and a static covariate."""
    rng = np.random.default_rng(0)
    frames = []
    for k, uid in enumerate(["a", "b"]):
        t = np.arange(n)
        promo = (rng.random(n) < 0.2).astype(float)
        temp = 20 + 5 * np.sin(2 * np.pi * t / 30) + rng.normal(0, 1, n)
        y = 50 + 10 * k + 5 * np.sin(2 * np.pi * t / 7) + 8 * promo + 0.5 * temp + rng.normal(0, 1, n)
        ds = pd.date_range("2021-01-01", periods=n, freq="D")
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y, "promo": promo, "temp": temp, "size": k + 1.0}))
    return pd.concat(frames, ignore_index=True)


PANEL_COV = tsf.Covariates(known_future=["promo"], past_only=["temp"], static=["size"])


def future_of(df: pd.DataFrame, cutoff: Any, columns: list[str], horizon: int = 7) -> pd.DataFrame:
    after = df[df["ds"] > cutoff]
    return after.groupby("unique_id", sort=True).head(horizon)[["unique_id", "ds", *columns]]


# ----------------------------------------------------------------------------- declaration ---- #


def test_an_undeclared_column_is_refused_listing_the_columns_and_the_three_choices(elec: pd.DataFrame) -> None:
    pattern = r"Undeclared extra column\(s\) \['WorkDay', 'Temperature'\].*known_future.*past_only.*static"
    with pytest.raises(tsf.DataError, match=pattern):
        small().fit(elec)
    with pytest.raises(tsf.DataError, match=pattern):
        tsf.backtest("seasonal_naive", elec, tsf.WalkForward(2, 7))
    with pytest.raises(tsf.DataError, match=r"Undeclared extra column\(s\) \['Temperature'\]"):
        small().fit(elec, covariates=tsf.Covariates(known_future=["WorkDay"]))


def _with(df: pd.DataFrame, **columns: Any) -> pd.DataFrame:
    out = df.copy()
    for name, value in columns.items():
        out[name] = value
    return out


@pytest.mark.parametrize(
    ("make", "covariates", "pattern"),
    [
        (
            lambda d: d,
            {"known_future": ["WorkDay"], "past_only": ["Temp"]},
            r"\['Temp'\] are not in the data.*Did you mean 'Temperature' for 'Temp'\?",
        ),
        (
            lambda d: _with(d, Temperature="hot"),
            {"known_future": ["WorkDay"], "past_only": ["Temperature"]},
            "not numeric",
        ),
        (
            lambda d: _with(d, Temperature=np.where(np.arange(len(d)) == 5, np.nan, d["Temperature"])),
            {"known_future": ["WorkDay"], "past_only": ["Temperature"]},
            r"'Temperature' .* 1 missing or non-finite value\(s\), the first for series 'elecdaily' at 2014-01-06",
        ),
        (
            lambda d: d,
            {"known_future": ["WorkDay"], "static": ["Temperature"]},
            r"Static covariate 'Temperature' varies within series 'elecdaily'",
        ),
    ],
)
def test_bad_declared_columns_are_refused(
    elec: pd.DataFrame, make: Any, covariates: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(tsf.DataError, match=pattern):
        small().fit(make(elec), covariates=tsf.Covariates(**covariates))


@pytest.mark.parametrize(
    ("covariates", "pattern"),
    [
        ({"known_future": ["WorkDay"], "past_only": ["WorkDay"]}, "'WorkDay' as known_future and past_only"),
        ({"calendar": ["weekday"]}, r"Unknown calendar feature\(s\) \['weekday'\]"),
        ({"past_only": ["y"]}, r"\['y'\] cannot be covariates"),
        ({"known_future": ["month_sin"], "calendar": ["month"]}, r"\['month_sin'\] are also generated"),
    ],
)
def test_bad_declarations_are_refused(covariates: dict[str, Any], pattern: str) -> None:
    with pytest.raises(tsf.DataError, match=pattern):
        tsf.Covariates(**covariates)


def test_covariates_must_be_a_declaration(elec: pd.DataFrame) -> None:
    with pytest.raises(tsf.DataTypeError, match=r"covariates must be a tsforecast.Covariates, got dict"):
        small().fit(elec, covariates={"known_future": ["WorkDay"]})  # type: ignore[arg-type]


# -------------------------------------------------------------------------------- calendar ---- #


def test_calendar_features_are_cyclic_encodings_of_the_timestamp() -> None:
    times = pd.date_range("2024-01-01", periods=14, freq="D")  # a Monday
    features = calendar_features(times, ["dayofweek", "month"])
    assert list(features.columns) == ["dayofweek_sin", "dayofweek_cos", "month_sin", "month_cos"]
    np.testing.assert_allclose(features["dayofweek_sin"][:7], np.sin(2 * np.pi * np.arange(7) / 7), atol=1e-12)
    np.testing.assert_array_equal(features["dayofweek_cos"][:7], features["dayofweek_cos"][7:])
    np.testing.assert_allclose(features["dayofweek_sin"] ** 2 + features["dayofweek_cos"] ** 2, 1.0)


def test_calendar_features_need_datetimes() -> None:
    with pytest.raises(tsf.DataError, match="Calendar features need datetime timestamps"):
        calendar_features(np.arange(5), ["month"])


def test_a_calendar_only_model_needs_no_future_frame(elec: pd.DataFrame) -> None:
    data = elec[["unique_id", "ds", "y"]]
    model = small().fit(data, covariates=tsf.Covariates(calendar=["dayofweek"]))
    forecast = model.predict()
    assert forecast["ds"].min() == pd.Timestamp("2015-01-01")
    assert np.isfinite(forecast["y_hat"]).all()


# ------------------------------------------------------------------- the model's inputs ---- #


def test_channels_are_target_then_past_only_covariates(elec: pd.DataFrame) -> None:
    seen: dict[str, Any] = {}

    class Recording(torch.nn.Module):
        def __init__(self, lookback: int, horizon: int, channels: int) -> None:
            super().__init__()
            seen["factory"] = (lookback, horizon, channels)
            self.net = ResidualMLP(lookback, horizon, channels)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen["x"] = tuple(x.shape)
            return self.net(x)

    data = elec.assign(Temperature2=elec["Temperature"] ** 2).drop(columns="WorkDay")
    cov = tsf.Covariates(past_only=["Temperature", "Temperature2"])
    small(module=Recording).fit(data, covariates=cov).predict()
    assert seen["factory"] == (14, 7, 3)
    assert seen["x"] == (1, 3, 14)  # (N, 1 + n_past_only, L) at predict


def test_known_future_and_static_values_are_an_extra_vector() -> None:
    seen: dict[str, Any] = {}

    def factory(lookback: int, horizon: int, channels: int, extra: int = 0) -> torch.nn.Module:
        seen["layout"] = (channels, extra)
        return ResidualMLP(lookback, horizon, channels, extra=extra)

    df = panel()
    train = df[df["ds"] <= "2021-03-14"]
    model = small(module=factory).fit(train, covariates=PANEL_COV)
    assert seen["layout"] == (2, 1 * 7 + 1)  # target + temp; promo over 7 steps + size
    forecast = model.predict(future=future_of(df, "2021-03-14", ["promo"]))
    assert len(forecast) == 14
    assert np.isfinite(forecast["y_hat"]).all()


def test_the_untrained_network_forecasts_the_base_with_or_without_covariates(elec: pd.DataFrame) -> None:
    univariate = small(epochs=1, lr=1e-12).fit(elec[["unique_id", "ds", "y"]])
    with_cov = small(epochs=1, lr=1e-12).fit(elec, covariates=COV)
    plain = univariate.predict()["y_hat"].to_numpy()
    future = pd.DataFrame(
        {"unique_id": "elecdaily", "ds": pd.date_range("2015-01-01", periods=7), "WorkDay": [0, 1, 1, 0, 0, 1, 1]}
    )
    np.testing.assert_allclose(with_cov.predict(future=future)["y_hat"].to_numpy(), plain, rtol=1e-6)


def test_covariates_change_the_forecast_and_survive_save_and_load(elec: pd.DataFrame, tmp_path: Path) -> None:
    model = small(epochs=20).fit(elec, covariates=COV)
    future = pd.DataFrame({"ds": pd.date_range("2015-01-01", periods=7), "WorkDay": [0, 1, 1, 0, 0, 1, 1]})
    holiday = future.assign(WorkDay=0)
    first, second = model.predict(future=future)["y_hat"], model.predict(future=holiday)["y_hat"]
    assert not np.array_equal(first, second)
    model.save(tmp_path / "m.pt")
    loaded = tsf.SGDForecaster.load(tmp_path / "m.pt")
    assert loaded.covariates_ == COV
    np.testing.assert_array_equal(loaded.predict(future=future)["y_hat"], first)


def test_an_empty_declaration_is_the_univariate_model_bit_for_bit(elec: pd.DataFrame) -> None:
    data = elec[["unique_id", "ds", "y"]]
    plain = small().fit(data).predict()
    declared = small().fit(data, covariates=tsf.Covariates()).predict()
    pd.testing.assert_frame_equal(plain, declared, check_exact=True)


# ----------------------------------------------------------------------- the future frame ---- #


@pytest.fixture
def fitted(elec: pd.DataFrame) -> tsf.SGDForecaster:
    return small().fit(elec.iloc[:-7], covariates=COV)


def test_known_future_values_are_required(fitted: tsf.SGDForecaster) -> None:
    with pytest.raises(tsf.DataError, match=r"known-future covariates \['WorkDay'\]; pass their values.*2014-12-25"):
        fitted.predict()


@pytest.mark.parametrize(
    ("edit", "error", "pattern"),
    [
        (lambda f: f.iloc[:5], tsf.DataError, r"lacks known-future values for 2 horizon step\(s\).*2014-12-30"),
        (lambda f: f.assign(WorkDay=np.nan), tsf.DataError, "'WorkDay' in the future frame has 7 missing"),
        (lambda f: f.assign(y=1.0), tsf.LeakageError, r"holds \['y'\], which are not known in advance"),
        (lambda f: f.assign(Temperature=1.0), tsf.LeakageError, r"holds \['Temperature'\]"),
        (lambda f: f.assign(other=1.0), tsf.DataError, r"not allowed \['other'\]"),
        (lambda f: f.drop(columns="WorkDay"), tsf.DataError, r"missing \['WorkDay'\]"),
    ],
)
def test_the_future_frame_is_validated(
    fitted: tsf.SGDForecaster, elec: pd.DataFrame, edit: Any, error: type[Exception], pattern: str
) -> None:
    future = elec.iloc[-7:][["unique_id", "ds", "WorkDay"]]
    with pytest.raises(error, match=pattern):
        fitted.predict(future=edit(future))


def test_a_univariate_baseline_needs_no_future_frame_but_refuses_a_leaky_one(elec: pd.DataFrame) -> None:
    model = tsf.SeasonalNaive(horizon=7, season=7).fit(elec.iloc[:-7], covariates=COV)
    assert len(model.predict()) == 7
    with pytest.raises(tsf.LeakageError, match="not known in advance"):
        model.predict(future=elec.iloc[-7:])


# -------------------------------------------------------------------------------- windows ---- #


def test_window_future_blocks_are_aligned_views_of_the_target_span() -> None:
    values = np.arange(20.0)
    future = np.vstack([100 + np.arange(20.0), 200 + np.arange(20.0)])
    ds = WindowDataset(values, lookback=4, horizon=3, future=future)
    _, y = ds[2]
    block = ds.future_at(2)
    torch.testing.assert_close(y, torch.tensor([6.0, 7.0, 8.0]))
    torch.testing.assert_close(block, torch.tensor([[106.0, 107.0, 108.0], [206.0, 207.0, 208.0]]))
    assert ds.future is not None
    assert block.untyped_storage().data_ptr() == ds.future.untyped_storage().data_ptr()  # zero-copy
    assert ds.batch_future().shape == (len(ds), 2, 3)
    with pytest.raises(tsf.DataError, match=r"future must have shape \(T,\) or \(K, T\) with T=20"):
        WindowDataset(values, lookback=4, horizon=3, future=np.zeros(19))
    with pytest.raises(tsf.DataError, match="has no future block"):
        WindowDataset(values, lookback=4, horizon=3).batch_future()


def test_from_frame_builds_channels_and_future_blocks() -> None:
    df = panel(30)
    ds = WindowDataset.from_frame(df, 5, 2, channels=["temp"], future=["promo"])
    x, _ = ds.batch()
    assert x.shape[1:] == (2, 5)
    first = df[df["unique_id"] == "a"]
    np.testing.assert_allclose(ds.batch_future()[0, 0].numpy(), first["promo"].to_numpy()[5:7])


# ----------------------------------------------------------------- backtest and provenance ---- #

RECORDS: list[dict[str, Any]] = []


class Recorder(Forecaster):
    """Records what the backtest hands it; forecasts the last value."""

    uses_covariates: ClassVar[bool] = True

    def __init__(self, horizon: int = 7) -> None:
        self.horizon = horizon

    def _fit(self, frame: pd.DataFrame) -> None:
        RECORDS.append({"stage": "fit", "columns": list(frame.columns), "last": frame["ds"].max()})

    def _predict(self, frame: pd.DataFrame, future: pd.DataFrame | None = None) -> np.ndarray:
        assert future is not None
        RECORDS.append({"stage": "predict", "last": frame["ds"].max(), "future": future.copy()})
        return np.repeat(frame.groupby("unique_id", sort=True)["y"].last().to_numpy()[:, None], self.horizon, axis=1)


@pytest.mark.parametrize("refit", [True, 2])
def test_the_backtest_hands_no_target_or_past_only_value_after_the_cutoff(elec: pd.DataFrame, refit: Any) -> None:
    RECORDS.clear()
    cv = tsf.WalkForward(3, 7)
    res = tsf.backtest(Recorder(), elec, cv, baselines=(), covariates=COV, refit=refit)
    cutoffs = list(res.folds["cutoff"])
    predictions = [r for r in RECORDS if r["stage"] == "predict"]
    assert len(predictions) == 3
    for record, cutoff in zip(predictions, cutoffs, strict=True):
        assert record["last"] == cutoff  # history (y, Temperature) ends at the cutoff
        future = record["future"]
        assert list(future.columns) == ["unique_id", "ds", "WorkDay"]  # no y, no Temperature
        assert future["ds"].tolist() == list(pd.date_range(cutoff + pd.Timedelta(days=1), periods=7))
    fits = [r for r in RECORDS if r["stage"] == "fit"]
    assert all(r["columns"] == ["unique_id", "ds", "y", "WorkDay", "Temperature"] for r in fits)
    assert all(r["last"] <= cutoffs[-1] for r in fits)


class ScalerPeeker(Forecaster):
    """Leaky: standardises Temperature with statistics of the full data it kept a reference to."""

    def __init__(self, horizon: int = 7, data: pd.DataFrame | None = None) -> None:
        self.horizon = horizon
        self.data = data

    def _fit(self, frame: pd.DataFrame) -> None:
        assert self.data is not None
        self.mean_ = self.data["Temperature"].mean()
        self.last_seen_ = max(self.last_seen_, self.data["ds"].max())  # honest provenance of a leaky fit

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.full((frame["unique_id"].nunique(), self.horizon), float(self.mean_))


def test_fit_scope_provenance_holds_with_covariates(elec: pd.DataFrame) -> None:
    with pytest.raises(tsf.LeakageError, match=r"fitted on data up to 2014-12-31.*after the cutoff 2014-12-24"):
        tsf.backtest(ScalerPeeker(data=elec), elec, tsf.WalkForward(1, 7), baselines=(), covariates=COV)
    res = tsf.backtest({"sgd": small()}, elec, tsf.WalkForward(2, 7), baselines=(), covariates=COV)
    assert set(res.forecasts["model"]) == {"sgd", "seasonal_naive"}
    model = small().fit(elec[elec["ds"] <= "2014-12-24"], covariates=COV)
    assert model.last_seen_ == pd.Timestamp("2014-12-24")


# ------------------------------------------------------------------------------------ audit ---- #


def test_the_audit_catches_a_model_reading_a_past_only_covariate_after_the_cutoff(elec: pd.DataFrame) -> None:
    audit = tsf.audit_leakage(
        Peeker(horizon=7, data=elec, column="Temperature"), elec, tsf.WalkForward(3, 7), covariates=COV
    )
    assert audit.status == "leak"
    assert audit.failed_folds() == [0, 1, 2]
    assert audit.perturbed == ("y", "Temperature", "WorkDay")
    before = tsf.load_dataset("elecdaily")
    pd.testing.assert_frame_equal(elec, before)  # restored exactly, dtypes included


def test_sgd_with_covariates_passes_the_audit(elec: pd.DataFrame) -> None:
    cov = tsf.Covariates(known_future=["WorkDay"], past_only=["Temperature"], calendar=["dayofweek"])
    audit = tsf.audit_leakage(
        small(), elec, tsf.WalkForward(3, 7), baselines=("seasonal_naive",), covariates=cov, fresh_process=False
    )
    assert audit.passed, audit.folds
    assert audit.perturbations == ("noise", "constant", "reverse")


def test_the_audit_passes_a_panel_with_static_covariates() -> None:
    df = panel()
    audit = tsf.audit_leakage(small(), df, tsf.WalkForward(2, 7), covariates=PANEL_COV, fresh_process=False)
    assert audit.passed, audit.folds


# -------------------------------------------------------------------------------------- CLI ---- #


def test_cli_backtest_with_covariate_flags(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "results"
    argv = ["backtest", "elecdaily", "--horizon", "7", "--folds", "2", "--model", "seasonal_naive,sgd"]
    flags = ["--epochs", "3", "--known-future", "WorkDay", "--past-only", "Temperature", "--out", str(out), "-q"]
    status = cli.main([*argv, *flags])
    assert status == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["models"]) == {"sgd(epochs=3)", "naive", "seasonal_naive"}  # named by what differs
    assert summary["audit"]["passed"] is True
    assert "Temperature" in summary["settings"]["covariates"]


def test_cli_refuses_undeclared_columns_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status = cli.main(["backtest", "elecdaily", "--horizon", "7", "--model", "naive", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert status == 2
    assert "Undeclared extra column(s) ['WorkDay', 'Temperature']" in err
    assert "--known-future" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_forecast_with_a_future_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    future = tmp_path / "future.csv"
    pd.DataFrame({"ds": pd.date_range("2015-01-01", periods=7), "WorkDay": [0, 1, 1, 0, 0, 1, 1]}).to_csv(
        future, index=False
    )
    base = ["forecast", "elecdaily", "--horizon", "7", "--model", "seasonal_naive", "--known-future", "WorkDay"]
    base += ["--past-only", "Temperature"]
    assert cli.main([*base, "--out", str(tmp_path / "a.csv")]) == 2
    assert "--future FILE.csv" in capsys.readouterr().err
    assert cli.main([*base, "--future", str(future), "--out", str(tmp_path / "b.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "b.csv")) == 7


def test_cli_calendar_names_are_checked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["backtest", "air_passengers", "--horizon", "12", "--calendar", "mnth", "--out", str(tmp_path / "r")]
    assert cli.main(argv) == 2
    assert "Unknown calendar feature 'mnth'. Did you mean 'month'?" in capsys.readouterr().err
