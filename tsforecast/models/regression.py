"""Any scikit-learn regressor as a global forecaster on lag windows.

:class:`RegressionForecaster` turns a regressor (``Ridge``, a random forest,
``HistGradientBoostingRegressor``, LightGBM's ``LGBMRegressor``, ...) into one model fitted on the
windows of every series of a panel. Its training rows are the windows of a
:class:`~tsforecast.windows.WindowDataset`: each lies inside one series, in time order, and the
rows are taken in the dataset's order (series by series, oldest window first), never shuffled.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier

from .._validation import NONE, Interval, Options
from ..columns import ID, TARGET
from ..covariates import Covariates, prepare_frame
from ..errors import SHUFFLE_REASON, DataError, DataTypeError, ShuffleError, spell
from ..frames import as_pandas
from ..windows import WindowDataset
from .forecaster import Forecaster, as_long_frame

__all__ = ["RegressionForecaster"]

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")


class RegressionForecaster(Forecaster):
    """A scikit-learn regressor forecasting every series of a panel from its lagged values.

    Parameters
    ----------
    estimator : regressor
        Any scikit-learn regressor: ``fit(X, y)``, ``predict(X)`` and ``get_params`` (``Ridge()``,
        ``HistGradientBoostingRegressor()``, ``lightgbm.LGBMRegressor()``); it is cloned at fit,
        never fitted itself. Classifiers are refused, and so is ``shuffle=True`` (the windows are
        given in time order, and stay so).
    lags : int or sequence of int, default=12
        The lagged values a forecast reads: an int ``L`` means lags ``1, ..., L`` (the last ``L``
        values); a sequence names the lags, e.g. ``[1, 2, 12]``. Every lag is at least 1.
    horizon : int, default=12
        Number of future steps to forecast.
    strategy : {"recursive", "direct"}, default="recursive"
        ``"recursive"``: one model of the next value, fed its own forecasts for later steps.
        ``"direct"``: one clone of ``estimator`` per horizon step, each forecasting its step from
        the same lags.
    difference : int, optional
        Seasonal differencing of order ``m`` (e.g. the season, 12 for monthly data): each lag
        becomes ``y[t] - y[t - m]``, and the target of step ``h`` is its value minus the seasonal
        naive forecast from the window's last lag (the value ``m · ceil(h / m)`` steps before it).
        ``None`` (the default) uses the values as they are.
    scale : {"window", None}, default="window"
        ``"window"``: each window's lags and targets are divided by the mean absolute value of the
        values its lags read (1 where that is 0), so series of different levels share one model.
        ``None``: no scaling.
    random_state : int, optional
        When given, set as the ``random_state`` of every fitted clone whose estimator has one, so
        the same seed and the same data give the same forecasts. ``None`` leaves the estimator's own.

    Attributes
    ----------
    lags_ : ndarray of int
        The lags in use, ascending.
    estimators_ : list of regressor
        The fitted clones: one (``"recursive"``) or one per horizon step (``"direct"``).
    freq_, last_seen_, covariates_
        See :class:`~tsforecast.models.forecaster.Forecaster`.

    Raises
    ------
    DataTypeError
        From ``fit``, if ``estimator`` lacks ``fit``, ``predict`` or ``get_params``, or is a classifier.
    ShuffleError
        From ``fit``, if ``estimator`` (or a step or member of it) shuffles its training rows
        (``shuffle=True``, the default of ``SGDRegressor`` and ``MLPRegressor``), stops early on a random
        validation split (``early_stopping=True``; ``n_iter_no_change`` without an ``early_stopping``
        switch; ``early_stopping="auto"`` above 10,000 windows) or cross-validates its rows (any ``cv``
        parameter). Bootstrap resampling (random forests, bagging) holds nothing out and is allowed.
    DataError
        From ``fit``, for a lag below 1 or a parameter out of range, a series shorter than
        :meth:`min_length`, or past-only covariates with ``strategy="recursive"``; from ``predict``,
        for a series shorter than the window the lags read.

    Notes
    -----
    **Windows.** With ``P = max(lags) + (difference or 0)``, a window is ``P`` consecutive values
    of one series (its *past*, ending at the window's last lag) and the targets right after them
    (1 for ``"recursive"``, ``horizon`` for ``"direct"``): the positions of a
    :class:`~tsforecast.windows.WindowDataset`, whose windows never cross from one series into the
    next, gathered in float64. The dataset's windows follow PyTorch's ``(N, C, L)`` layout (batch,
    channels, time); here ``C = 1``, the target, so the gathered array is ``(N, L)``. Each row's
    features and its target transform (the differences, the seasonal naive base, the scale) are
    computed from that window's past only: nothing from after a window's last lag reaches its
    inputs. Forecasts read the last ``P`` values of each
    history the same way and undo the transforms: ``forecast = base + scale · prediction``.

    **Covariates** (``fit(df, covariates=tsf.Covariates(...))``), each read by its declared availability,
    as extra feature columns after the lags, untransformed (no differencing or scaling):

    - ``past_only``: each column's values at the lags, counted from the window's last lag (the
      cutoff of a forecast), so never after it. Only with ``strategy="direct"``: a recursive model's
      later steps would need them after the cutoff, so that combination is refused.
    - ``known_future`` (and calendar features): each column's values at the targets' times (1 value
      per column for ``"recursive"``, step by step from ``predict(future=...)``; ``horizon`` values
      for ``"direct"``, every step's model reading all of them, like :class:`~tsforecast.SGDForecaster`).
    - ``static``: each column's value for the series.

    Feature columns, in order: the lags of ``y``; per past-only column its lags; per known-future
    column its target-time values; the static columns (:meth:`training_rows` returns them so).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> model = RegressionForecaster(LinearRegression(), lags=2, horizon=3, scale=None)
    >>> model.fit(np.arange(10.0)).predict().round(6)
    array([10., 11., 12.])
    """

    uses_covariates: ClassVar[bool] = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "lags": [_POSITIVE_INT, list, tuple, np.ndarray],
        "horizon": [_POSITIVE_INT],
        "strategy": [Options(("recursive", "direct"))],
        "difference": [_POSITIVE_INT, NONE],
        "scale": [Options(("window",)), NONE],
        "random_state": [Interval(Integral, 0, None, closed="left"), NONE],
    }

    def __init__(
        self,
        estimator: Any,
        lags: int | Sequence[int] = 12,
        horizon: int = 12,
        *,
        strategy: str = "recursive",
        difference: int | None = None,
        scale: str | None = "window",
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.lags = lags
        self.horizon = horizon
        self.strategy = strategy
        self.difference = difference
        self.scale = scale
        self.random_state = random_state

    def min_length(self) -> int:
        """Fewest observations a series needs to be fitted: two windows (scikit-learn estimators need two rows)."""
        return self._past() + self._n_targets() + 1

    def calibration_length(self) -> int:
        """Enough observations for more windows than lags, so that a calibration fit is a determined regression
        like the one it calibrates, not one fitted on a few rows."""
        return self.min_length() + len(self._lags())

    def training_rows(self, y: Any, covariates: Covariates | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The features and targets ``fit`` gives the estimator(s) for the history ``y``.

        Parameters
        ----------
        y : array-like, Series or DataFrame
            A history, as for ``fit``.
        covariates : Covariates, optional
            The declaration of ``y``'s extra columns, as for ``fit``.

        Returns
        -------
        X : ndarray of shape (n_windows, n_features)
            One row per window, series by series in sorted order, each series' windows oldest
            first; column ``j < n_lags`` holds lag ``lags_[j]`` (transformed), the covariates'
            columns follow (see Notes).
        Y : ndarray of shape (n_windows, n_targets)
            The transformed targets: 1 column (``"recursive"``) or ``horizon`` (``"direct"``).

        Raises
        ------
        DataError
            For an invalid parameter, a series shorter than :meth:`min_length`, an invalid
            declaration, or past-only covariates with ``strategy="recursive"``.
        """
        self._validate_params()
        frame, _ = as_long_frame(as_pandas(y)[0])
        frame = prepare_frame(frame, covariates, f"{type(self).__name__}.training_rows")
        declared = covariates if covariates is not None and not covariates.empty else None
        self._check_strategy(declared)
        return self._rows(frame, declared)

    def _validate_params(self) -> None:
        """Check the parameters, the lags and the estimator before any data is prepared."""
        super()._validate_params()
        name = type(self).__name__
        lags = np.asarray(self.lags, dtype=object).ravel().tolist()
        if not lags or any(isinstance(k, bool) or not isinstance(k, Integral) or k < 1 for k in lags):
            raise DataError(
                f"The 'lags' parameter of {name} must be an int >= 1 or a non-empty list of ints >= 1. "
                f"Got {self.lags!r} instead."
            )
        estimator = self.estimator
        if not all(callable(getattr(type(estimator), method, None)) for method in ("fit", "predict", "get_params")):
            raise DataTypeError(
                f"The 'estimator' parameter of {name} must be a scikit-learn regressor with fit, predict and "
                f"get_params (e.g. sklearn.linear_model.Ridge()). Got {type(estimator).__name__} instead."
            )
        problem = _random_split(estimator)
        if problem is not None:
            raise ShuffleError(
                f"{type(estimator).__name__} was passed to {name} with {problem}. {SHUFFLE_REASON} "
                "Pass it without (tune with tsf.WalkForwardSearch), or pass a plain regressor."
            )
        if is_classifier(estimator):
            raise DataTypeError(
                f"The 'estimator' parameter of {name} must be a regressor, got the classifier "
                f"{type(estimator).__name__}. Pass a regressor, e.g. sklearn.linear_model.Ridge()."
            )

    def _lags(self) -> np.ndarray:
        lags = np.asarray(self.lags, dtype=np.int64)
        return np.arange(1, int(lags) + 1) if lags.ndim == 0 else np.unique(lags)

    def _past(self) -> int:
        """``P``: the values a window's lags read, differencing included."""
        return int(self._lags().max()) + (self.difference or 0)

    def _n_targets(self) -> int:
        return 1 if self.strategy == "recursive" else int(self.horizon)

    def _check_strategy(self, covariates: Covariates | None) -> None:
        """Refuse past-only covariates for a recursive model: its later steps would read them after the cutoff."""
        if covariates is not None and covariates.past_only and self.strategy == "recursive":
            raise DataError(
                f"{type(self).__name__}(strategy='recursive') cannot read the past-only covariates "
                f"{list(covariates.past_only)}: its forecast of step 2 would need their values at step 1, after the "
                "cutoff, which are not known then. Use strategy='direct' (every step forecast from values up to the "
                "cutoff), or declare a column known_future if its values are known in advance."
            )

    def _fit(self, frame: pd.DataFrame) -> None:
        self.lags_ = self._lags()
        self._check_strategy(self.covariates_)
        features, targets = self._rows(frame, self.covariates_)
        automatic = _settings(_parts(self.estimator), "early_stopping", "auto")
        if automatic and len(features) > _AUTO_EARLY_STOPPING_ROWS:
            raise ShuffleError(
                f"{type(self.estimator).__name__}({automatic[0]}='auto') stops early above "
                f"{_AUTO_EARLY_STOPPING_ROWS:,} rows, on a random validation split, and these data give "
                f"{len(features):,} training windows. {SHUFFLE_REASON} Pass it with {automatic[0]}=False."
            )
        self.estimators_ = [self._fitted(features, targets[:, k]) for k in range(targets.shape[1])]

    def _fitted(self, features: np.ndarray, target: np.ndarray) -> Any:
        model = clone(self.estimator)
        if self.random_state is not None and "random_state" in model.get_params(deep=False):
            model.set_params(random_state=self.random_state)
        return model.fit(features, target)

    def _rows(self, frame: pd.DataFrame, covariates: Covariates | None) -> tuple[np.ndarray, np.ndarray]:
        """Features ``(N, n_features)`` and transformed targets ``(N, n_targets)`` of every window of ``frame``."""
        self._check_lengths(frame, self.min_length(), "fitted")
        past, steps = self._past(), self._n_targets()
        windows = WindowDataset.from_frame(frame, lookback=past, horizon=steps)
        span = windows.start_of()[:, None] + np.arange(past + steps)  # rows of frame: each window's past, targets
        gathered = frame[TARGET].to_numpy(dtype="float64")[span]  # (N, L): (N, C, L) with its one channel dropped
        features, base, scale = self._transform(gathered[:, :past], steps)
        if covariates is not None:
            known = [frame[c].to_numpy(dtype="float64")[span[:, past:]] for c in covariates.future_columns]
            lagged = self._lagged(frame, covariates, span[:, :past])
            static = self._static(frame, covariates, span[:, 0])
            features = np.hstack([features, *lagged, *known, *static])
        return features, (gathered[:, past:] - base) / scale[:, None]

    def _lagged(self, frame: pd.DataFrame, covariates: Covariates, pasts: np.ndarray) -> list[np.ndarray]:
        """Per past-only column, its values at the lags of the windows whose pasts are the rows ``pasts`` ``(N, P)``."""
        at_lags = pasts[:, pasts.shape[1] - self._lags()]
        return [frame[c].to_numpy(dtype="float64")[at_lags] for c in covariates.past_only]

    def _static(self, frame: pd.DataFrame, covariates: Covariates, rows: np.ndarray) -> list[np.ndarray]:
        """The static columns' values ``(N, 1)`` each, read at ``rows`` of their series."""
        return [frame[c].to_numpy(dtype="float64")[rows][:, None] for c in covariates.static]

    def _transform(self, past: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """From windows' pasts ``(N, P)`` alone: features ``(N, n_lags)``, base ``(N, steps)``, scale ``(N,)``."""
        width = past.shape[1]
        columns = width - self._lags()
        values = past[:, columns]
        m = self.difference
        features = values - past[:, columns - m] if m else values.copy()
        base = past[:, width - m + np.arange(steps) % m] if m else np.zeros((len(past), steps))
        scale = np.abs(values).mean(axis=1) if self.scale == "window" else np.ones(len(past))
        scale[scale == 0] = 1.0
        return features / scale[:, None], base, scale

    def _predict(self, frame: pd.DataFrame, future: pd.DataFrame | None = None) -> np.ndarray:
        past, h = self._past(), int(self.horizon)
        self._check_lengths(frame, past, "forecast")
        # NOTE: a validated frame holds its series in sorted order, each in time order (from_pandas sorts it)
        ends = np.cumsum(frame.groupby(ID, sort=True).size().to_numpy())
        rows = ends[:, None] - past + np.arange(past)  # (n, P): each series' last P rows
        history = frame[TARGET].to_numpy(dtype="float64")[rows]
        covariates: Covariates | None = getattr(self, "covariates_", None)
        lagged, static, known = [], [], np.empty((len(rows), h, 0))
        if covariates is not None:
            assert future is not None  # the base class builds it for a model that reads covariates
            lagged = self._lagged(frame, covariates, rows)
            static = self._static(frame, covariates, rows[:, -1])
            columns = list(covariates.future_columns)
            known = future[columns].to_numpy(dtype="float64").reshape(len(rows), h, len(columns))  # (n, h, K)
        if self.strategy == "direct":
            features, base, scale = self._transform(history, h)
            per_column = known.transpose(0, 2, 1).reshape(len(rows), -1)  # column by column, step by step
            features = np.hstack([features, *lagged, per_column, *static])
            steps = np.column_stack([model.predict(features) for model in self.estimators_])
            return base + scale[:, None] * steps
        for j in range(h):
            features, base, scale = self._transform(history[:, -past:], 1)
            features = np.hstack([features, known[:, j], *static])
            step = base[:, 0] + scale * self.estimators_[0].predict(features)
            history = np.column_stack([history, step])
        return history[:, past:]

    def _check_lengths(self, frame: pd.DataFrame, minimum: int, purpose: str) -> None:
        """Refuse a series with fewer than ``minimum`` observations, naming what it is too short for."""
        sizes = frame.groupby(ID, sort=True).size()
        short = sizes[sizes < minimum]
        if len(short):
            raise DataError(
                f"Series {short.index[0]!r} has {short.iloc[0]} observations; {type(self).__name__} with "
                f"lags up to {int(self._lags().max())} and difference={self.difference} needs at least {minimum} "
                f"to be {purpose}. Provide a longer history or use fewer lags ({spell('lags')})."
            )


_AUTO_EARLY_STOPPING_ROWS = 10_000
"""scikit-learn's gradient boosting stops early, on a random validation split, above this many rows when
``early_stopping="auto"`` (its default)."""


def _parts(estimator: Any) -> list[tuple[str, Any]]:
    """``estimator`` and every estimator inside it, each with its path (``"sgdregressor__"``, ``"members[0]__"``).

    Found through the objects' attributes, not only ``get_params``: a subclass whose ``__init__`` sets
    ``shuffle=True`` without naming it, or a wrapper holding its estimators in a list, set, dict or object
    array, shows it there. A ``(name, estimator)`` pair (a pipeline's step) is named by its name, as
    scikit-learn does. Every object is visited once, so a structure that contains itself ends.
    """
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()

    def visit(obj: Any, path: str) -> None:
        seen.add(id(obj))
        found.append((path, obj))
        for name, value in _attributes(obj).items():
            for where, inner in _inside(value, name, seen):
                visit(inner, f"{path}{where}__")

    visit(estimator, "")
    return found


def _inside(value: Any, name: str, seen: set[int]) -> list[tuple[str, Any]]:
    """The estimators not yet ``seen`` that an attribute ``name`` holds: itself, or those in a container (list,
    tuple, set, dict, object array, nested), with their names; each container is opened once."""
    if id(value) in seen:
        return []
    if hasattr(value, "get_params") and hasattr(value, "fit") and not isinstance(value, type):
        return [(name, value)]
    if isinstance(value, dict):
        items = [(f"{name}[{key!r}]", v) for key, v in value.items()]
    elif isinstance(value, (list, tuple)) and len(value) >= 2 and isinstance(value[0], str):
        items = [(value[0], v) for v in value[1:]]  # a (name, estimator) step: named by its name
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = [(f"{name}[{k}]", v) for k, v in enumerate(value)]
    elif isinstance(value, np.ndarray) and value.dtype == object:
        items = [(f"{name}[{k}]", v) for k, v in enumerate(value.ravel())]
    else:
        return []
    seen.add(id(value))
    return [found for where, v in items for found in _inside(v, where, seen)]


def _settings(parts: list[tuple[str, Any]], name: str, value: object) -> list[str]:
    """The settings called ``name`` equal to ``value`` in the ``parts`` of an estimator (:func:`_parts`), as ``path=``
    names; a setting a part ignores (``shuffle`` of an ``lbfgs`` solver, early stopping on the training loss
    with ``validation_fraction=None``) is left out."""
    hits = []
    for path, part in parts:
        setting = getattr(part, name, None)
        if not _is(setting, value) or getattr(part, "solver", None) == "lbfgs":  # NOTE: lbfgs neither shuffles
            continue  # nor stops early (scikit-learn's MLP: "only used when solver='sgd' or 'adam'")
        if name == "early_stopping" and "validation_fraction" in _attributes(part) and part.validation_fraction is None:
            continue  # NOTE: early stopping on the training loss itself holds no rows out
        hits.append(f"{path}{name}")
    return hits


def _random_split(estimator: Any) -> str | None:
    """What in ``estimator`` (or a step or member of it) shuffles its rows or scores on rows drawn from them at
    random, as a phrase for the refusal; None when nothing does (``early_stopping="auto"`` is judged at fit)."""
    parts = _parts(estimator)
    shuffles, stops = _settings(parts, "shuffle", True), _settings(parts, "early_stopping", True)
    if shuffles:
        return f"{shuffles[0]}=True: it shuffles its training rows"
    if stops:
        return f"{stops[0]}=True: it stops early on a random validation split"
    for path, part in parts:
        if "cv" in _attributes(part):
            return (
                f"its own cross-validation ({path}cv): it would split the windows, stacked series by series, "
                "without regard to time (a default cv is k-fold)"
            )
        patience = getattr(part, "n_iter_no_change", None)
        if patience is not None and "early_stopping" not in _attributes(part):
            return f"{path}n_iter_no_change={patience}: it stops early on a random validation split"
    return None


def _attributes(obj: Any) -> dict[str, Any]:
    return getattr(obj, "__dict__", {})


def _is(setting: object, value: object) -> bool:
    """Whether a parameter's ``setting`` is ``value``: a boolean of any kind (``np.True_`` too) or a string."""
    if isinstance(value, bool):
        return isinstance(setting, (bool, np.bool_)) and bool(setting) is value
    return isinstance(setting, str) and setting == value
