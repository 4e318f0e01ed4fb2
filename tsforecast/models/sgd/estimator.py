"""The public estimator :class:`SGDForecaster` and its parameters.

The forecaster is an ensemble of *members*. Each member is one explicit
:class:`~tsforecast.models.sgd.base_forecast.Recipe`: a base forecast computed inside the input
window (:mod:`~tsforecast.models.sgd.base_forecast`) or, for the ``"es"`` family, from the window's
origin (:mod:`~tsforecast.models.smoothing`), a network that predicts the scaled residual
over that base, a loss and a window weighting. Its training data is built by
:mod:`~tsforecast.models.sgd.training_data`, its training loop is
:mod:`~tsforecast.models.sgd.training`. What ``fit`` learns is one
:class:`~tsforecast.models.sgd.state.SGDState`, in ``state_``, which :meth:`SGDForecaster.save` writes in
the format of :mod:`~tsforecast.models.sgd.save_format`. ``docs/sgd-design.md`` explains the design and the
measurements behind the defaults.

Nothing after a forecast's origin can reach it: every input window is normalised by its own
statistics, the seasonal indices of the ``"decomposed"`` family and the state of the ``"es"``
family are computed from the history the forecast is made from (in training, the seasonal indices
and the ``"es"`` parameters from the values before the first validation target, so the validation
cost is honest), validation windows are the most recent ones (never random),
and batches are visited in time order (:class:`~tsforecast.shuffle_guard.OrderedSampler` checks every
one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from functools import partial
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.utils.data import BatchSampler, SequentialSampler

from ..._validation import NONE, Interval, Options
from ...columns import ID, TARGET, TIME
from ...covariates import Covariates
from ...errors import SHUFFLE_REASON, DataError, ShuffleError, TsforecastError, spell, spell_value
from ...schedules import check_decay_params
from ...seasonality import panel_season
from ...shuffle_guard import OrderedSampler
from ..batch import Fit, FitResult, Histories
from ..forecaster import Forecaster, _forecast_requests, check_provenance
from ..networks import ModuleFactory, ResidualMLP
from ..smoothing import Smoothing, SmoothingStates, smoothing_states
from .base_forecast import FAMILIES, Recipe, es_parameters, family_base_matrix, normalise
from .save_format import read_model, write_model
from .state import SGDState
from .training import HISTORY_COLUMNS, PARTIAL_SHARE, Member, Trainer, TrainingSettings, forward, single_thread
from .training_data import (
    MIN_VAL_WINDOWS,
    ModelSeries,
    Scalers,
    adjustments,
    fit_scalers,
    histories,
    member_windows,
    model_series,
    training_smoothing,
)

__all__ = ["AUTO_DRIFT_SEASON", "LOSSES", "MAX_BATCH_WINDOWS", "PARTIAL_SHARE", "SGDForecaster"]

LOSSES = ("auto", "huber", "l1", "mse")
"""Values of ``SGDForecaster(loss=...)``; ``"auto"`` uses each family's own loss."""

MAX_BATCH_WINDOWS = 8_192
"""The most windows of one SGD step: a panel of more than ``MAX_BATCH_WINDOWS / batch_size`` series takes
fewer windows per series per step (at least one), so a step's memory does not grow with the panel."""

_FAMILY_LOSS = {"drift": "huber", "decomposed": "l1", "es": "l1"}
_FAMILY_RECENCY = {"drift": 0.1, "decomposed": 0.0, "es": 0.0}
AUTO_DRIFT_SEASON = 12
"""``family="auto"`` adds the ``"drift"`` family to ``"es"`` for seasons at least this long."""
_FAMILY_SETS = {"drift+es": ("drift", "es"), "all": FAMILIES, "both": ("drift", "decomposed")}
_MIN_FIT_WINDOWS = 4
_POSITIVE_INT = Interval(Integral, 1, None, closed="left")
_DECAY_PARAMS = ("decay", "decay_rate", "step_size", "gamma", "patience")


class SGDForecaster(Forecaster):
    """Ensemble of small torch networks trained by decayed SGD to correct in-window base forecasts.

    Parameters
    ----------
    lookback : int, default=24
        Base input window length ``L``, at least two seasons (two seasons is a good choice: 24 for
        monthly data). Members use ``scales`` multiples of it, shortened for short histories but
        never below ``L``; :meth:`min_length` is computed from ``L``.
    horizon : int, default=12
        Number of steps forecast in one shot.
    season : int, optional
        Seasonal period ``m``; ``None`` takes it from the data frequency
        (:func:`tsforecast.frequency.season_length`: 12 monthly, 4 quarterly, 7 daily, ...). Integer
        time (a plain array, integer timestamps) carries no calendar: then it is inferred from the
        training values (:func:`tsforecast.seasonality.panel_season`: the most common
        :func:`~tsforecast.seasonality.infer_season` answer over the series, among the candidate
        periods up to ``lookback // 2``, 1 when none qualifies). ``season_`` shows the choice.
    family : {"auto", "es", "drift+es", "all", "both", "drift", "decomposed"}, default="auto"
        Base-forecast families of the members (see :class:`Recipe`): one family, or
        ``"drift+es"`` the ``"drift"`` and ``"es"`` families, ``"all"`` all three, ``"both"``
        ``"drift"`` and ``"decomposed"`` (the default before the ``"es"`` family). ``"auto"``:
        ``"drift+es"`` when the season is 12 or longer (monthly data), else ``"es"`` -- the
        best of the candidates per frequency on the tune set (docs/accuracy-research.md §5).
    scales : tuple of float, default=(1.5, 2.0, 3.0)
        Member lookbacks are ``round(scale · lookback)``, each capped so that at least 4 fitting
        and 8 validation windows remain in the shortest series; with ``lookback`` = 2 seasons
        they span 3, 4 and 6 seasons. One member per family and scale. Measured (docs/sgd-design.md): these beat
        ``(1.0, 1.5, 2.5)`` on monthly and daily data and tie on quarterly data.
    hidden : int, default=32
        Hidden width of the default network :class:`~tsforecast.models.networks.ResidualMLP`.
    module : callable, optional
        A factory ``module(lookback, horizon, channels) -> torch.nn.Module`` mapping inputs of
        shape ``(N, C, L)`` to ``(N, horizon)``; it replaces the default network. Its output is
        read as the scaled residual over the base, so zero-initialised output layers start
        training at the base forecast.
    loss : {"auto", "huber", "l1", "mse"}, default="auto"
        Training cost on scaled residuals. ``"auto"`` uses each family's measured best:
        Huber (δ = 0.5) for ``"drift"``, L1 for ``"decomposed"`` and ``"es"``.
    lr : float, default=0.01
        Initial learning rate of :class:`torch.optim.SGD`.
    momentum : float, default=0.9
        SGD momentum.
    weight_decay : float, default=0.0
        SGD L2 penalty.
    decay : {"plateau", "step", "inverse_time", "exponential", "none"}, default="plateau"
        Learning-rate decay (:mod:`tsforecast.schedules`), stepped once per epoch; ``"plateau"``
        steps on the validation cost.
    decay_rate : float, default=0.01
        ``k`` of the ``"inverse_time"`` and ``"exponential"`` decays.
    step_size : int, default=50
        Epochs between reductions of the ``"step"`` decay.
    gamma : float, default=0.5
        Reduction factor of ``"step"`` and ``"plateau"``.
    patience : int, default=10
        Epochs without validation improvement before ``"plateau"`` reduces the rate.
    epochs : int, default=300
        Most epochs per member.
    max_steps : int, default=1200
        Most optimizer steps per member: the epoch budget is ``min(epochs, max_steps // steps per
        epoch)`` (at least one epoch). When one pass over the fitting windows would take more
        steps (long series), the single epoch covers each series' most recent
        ``max_steps · batch_size`` fitting windows, so the budget holds within the epoch.
    batch_size : int, default=32
        Windows per series per step: a panel of ``n`` series trains on batches of
        ``batch_size · n`` windows, so its step count does not grow with the number of series;
        on a panel so large that this exceeds :data:`MAX_BATCH_WINDOWS` (8,192), on
        ``max(1, 8192 // n)`` windows per series.
    validation : float, default=0.15
        Fraction of the windows held out for validation (at least 8), the most recent ones. The
        validation cost is computed on at most 10,000 of them, those whose targets start last.
    early_stopping : int or None, default=40
        Stop a member after this many epochs without a lower validation cost and restore its best
        weights; ``None`` trains every epoch of the budget (the best weights are still restored).
    clip : float, optional
        Clip the gradient norm at this value before each step.
    min_gain : float, default=0.125
        A member whose network lowered the validation cost of its base by less than this fraction
        (``best < (1 - min_gain) · base``; the base is the untrained member, epoch 0) forecasts
        with half its network's correction, half-way between its base and its network
        (:data:`PARTIAL_SHARE`); 0 keeps every network's whole correction (the behaviour before).
        Chosen on the tune set (``docs/accuracy-research.md`` §6): on quarterly and daily data the
        networks often beat their base on the few validation windows by chance.
    seed : int, default=0
        Seeds the networks' initialisation (member ``i`` uses ``seed + i``); the global torch
        random state is left untouched.
    shuffle : bool, default=False
        Present only to be refused: ``shuffle=True`` raises :class:`~tsforecast.errors.ShuffleError`.

    Attributes
    ----------
    state_ : SGDState
        Everything ``fit`` learned (:class:`~tsforecast.models.sgd.state.SGDState`): what ``predict``
        reads and :meth:`save` writes. The attributes below are views of it.
    season_ : int
        Seasonal period used: ``season``, the frequency's, or the one inferred.
    log_ : bool
        Whether the model works on the log of the series (every training value is > 0).
    recipes_ : list of Recipe
        The members' recipes, lookbacks after capping.
    best_epochs_ : list of int
        Per member, the epoch whose weights were kept (0: the untrained base forecast).
    shares_ : list of float
        Per member, the share of its network's correction in its forecasts: 1.0, or
        :data:`PARTIAL_SHARE` where the network's validation gain fell short of ``min_gain``.
    history_ : DataFrame
        One row per member and epoch: ``member, family, lookback, epoch, lr, train_cost,
        val_cost``; ``member`` is its position in ``recipes_`` (from 0), ``family`` and
        ``lookback`` its recipe's, ``lr`` the rate the optimizer used in that epoch.
    freq_, last_seen_, covariates_
        See :class:`~tsforecast.models.forecaster.Forecaster`.

    Raises
    ------
    ShuffleError
        From ``fit`` if ``shuffle=True``.
    DataError
        From ``fit``/``predict`` for a parameter out of range, a series shorter than
        :meth:`min_length` (``predict``: than the longest member lookback), or, on the log scale,
        a history with a value <= 0.

    Notes
    -----
    **Recipe of one member** (``z`` = log of the series when every training value is > 0, else
    the series itself; window ``w`` = the last ``L`` values of ``z``, after removing seasonal
    indices for the ``"decomposed"`` family):

    1. ``base`` = the family's base forecast: a fixed linear map of ``w`` (``"drift"``,
       ``"decomposed"``), or for ``"es"`` damped Holt-Winters from the window's origin (on a
       positive series: on its values, with a multiplicative season, the ``ETS(A, Ad, M)`` model,
       its forecast's log; otherwise on ``z``, additive), its parameters fitted on the training
       history (:mod:`~tsforecast.models.smoothing`; saved with the model; training windows
       use parameters fitted on the values before the first validation target);
    2. ``scale`` = mean absolute seasonal difference of ``w``; network input ``(w - mean(w)) / scale``,
       shape ``(N, C, L)``;
    3. the network predicts ``r = (future - base) / scale``; its output layers start at zero, so
       the untrained member forecasts the base;
    4. forecast ``= base + share · scale · r`` (plus the seasonal indices; ``exp`` back from log
       space), ``share`` 1, or 1/2 when the trained network lowered the validation cost of its base
       by less than ``min_gain`` (12.5 %): half-way between the base and the network.

    **Training**: every window of the training data at stride 1, each inside one series; the last
    15 % (≥ 8) by target time are validation windows, and fitting windows whose targets overlap
    theirs are purged. ``torch.optim.SGD`` (lr 0.01, momentum 0.9), batches of 32 windows in time
    order, ``ReduceLROnPlateau`` (factor 0.5, patience 10) on the validation cost, at most 300
    epochs / 1,200 steps, early stopping after 40 epochs without improvement with the best
    weights restored, the untrained base counting as epoch 0 -- so training can never make a
    member worse than its base on the validation windows. The windows stay views of one buffer
    and each batch is normalised when it is drawn (once for all, when that copy takes at most
    32 MiB), so training takes O(T + batch) memory; on a long series an epoch covers the most
    recent windows the step budget allows and validation uses at most the 10,000 most recent
    validation windows (see ``max_steps``, ``validation``).

    **Covariates** (``fit(df, covariates=tsf.Covariates(...))``): they feed only the network that
    predicts the residual, never the base, and the network's output layers start at zero, so an
    untrained member still forecasts its base. Past-only columns are extra channels of the
    ``(N, 1 + P, L)`` input, each normalised by its own statistics in the window; known-future
    values over the window's horizon (``K·h`` numbers) and the static values (``S``) form an extra
    vector into the network, standardised with means and deviations of the training frame (fitted
    per fit, on data up to ``last_seen_``). ``predict(future=...)`` takes the known-future values
    for the horizon (calendar features are computed from the timestamps).

    **Ensemble**: with ``family="auto"``, 2 families (``"drift"``, ``"es"``) × 3 lookbacks = 6
    members when the season is 12 or longer, else ``"es"`` × 3 lookbacks = 3 members; the forecast
    is their mean (each member with its network's share, step 4). This rule measured best on the
    tune set among drift + decomposed (the previous default), all three, ``"es"`` alone, ``"drift"``
    + ``"es"`` everywhere and other subsets (``python scripts/choose_ensemble.py``;
    ``docs/accuracy-research.md`` §5); the shares, among other weightings of the networks against
    their bases (``python scripts/diagnose_quarterly.py --all``, §6). Each ingredient (the
    residual over a base, log space, the seasonal scale, L1/Huber losses, the ensemble) was kept
    because it brought MASE closer to ETS; ``docs/sgd-design.md`` records those measurements and
    which of them ``python scripts/evaluate_sgd.py`` reproduces.

    **Divergence**: a non-finite training or validation cost stops the member with a
    ``RuntimeWarning`` and restores its best weights (at worst the base forecast), so a NaN never
    reaches a forecast silently.

    **Determinism**: no randomness besides the networks' initialisation, drawn inside
    ``torch.random.fork_rng``; training runs on one torch thread (restored afterwards), so the same
    data and seed give bit-identical forecasts in any process.

    **Save format**: :meth:`save` writes ``state_`` and the parameters to one ``torch.save`` file
    holding only tensors and strings (the JSON config, the members' ``state_dict`` tensors, the
    training data needed by ``predict()``, and a SHA-256 digest of all of them, or with a secret key
    in ``TSFORECAST_KEY`` or ``TSFORECAST_KEY_FILE`` their HMAC-SHA256 under it); :meth:`load` reads
    it with ``weights_only=True`` and refuses a file that fails its digest or code or whose contents
    do not fit together (:mod:`~tsforecast.models.sgd.save_format`).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(96)
    >>> y = 10 + np.sin(2 * np.pi * t / 12) + 0.01 * t
    >>> model = SGDForecaster(lookback=24, horizon=12, season=12, epochs=3).fit(y)
    >>> model.predict().shape
    (12,)
    >>> list(model.history_.columns)
    ['member', 'family', 'lookback', 'epoch', 'lr', 'train_cost', 'val_cost']
    """

    uses_covariates: ClassVar[bool] = True
    calibration_refits: ClassVar[bool] = False
    """Conformal calibration fits the model once per fitted model (at the start of the calibration span)."""
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "lookback": [_POSITIVE_INT],
        "horizon": [_POSITIVE_INT],
        "season": [_POSITIVE_INT, NONE],
        "family": [Options(("auto", *_FAMILY_SETS, *FAMILIES))],
        "scales": [tuple],
        "hidden": [_POSITIVE_INT],
        "loss": [Options(LOSSES)],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "epochs": [_POSITIVE_INT],
        "max_steps": [_POSITIVE_INT],
        "batch_size": [_POSITIVE_INT],
        "validation": [Interval(Real, 0, 0.5, closed="neither")],
        "early_stopping": [_POSITIVE_INT, NONE],
        "clip": [Interval(Real, 0, None, closed="neither"), NONE],
        "min_gain": [Interval(Real, 0, 1, closed="left")],
        "seed": [Interval(Integral, 0, None, closed="left")],
        "shuffle": [Options((False, True))],
    }

    def __init__(
        self,
        lookback: int = 24,
        horizon: int = 12,
        *,
        season: int | None = None,
        family: str = "auto",
        scales: tuple[float, ...] = (1.5, 2.0, 3.0),
        hidden: int = 32,
        module: ModuleFactory | None = None,
        loss: str = "auto",
        lr: float = 0.01,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        decay: str = "plateau",
        decay_rate: float = 0.01,
        step_size: int = 50,
        gamma: float = 0.5,
        patience: int = 10,
        epochs: int = 300,
        max_steps: int = 1200,
        batch_size: int = 32,
        validation: float = 0.15,
        early_stopping: int | None = 40,
        clip: float | None = None,
        min_gain: float = 0.125,
        seed: int = 0,
        shuffle: bool = False,
    ) -> None:
        self.lookback = lookback
        self.horizon = horizon
        self.season = season
        self.family = family
        self.scales = scales
        self.hidden = hidden
        self.module = module
        self.loss = loss
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.decay = decay
        self.decay_rate = decay_rate
        self.step_size = step_size
        self.gamma = gamma
        self.patience = patience
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.validation = validation
        self.early_stopping = early_stopping
        self.clip = clip
        self.min_gain = min_gain
        self.seed = seed
        self.shuffle = shuffle

    # ----------------------------------------------------------------- the fitted state ---- #

    @property
    def log_(self) -> bool:
        """Whether the model works on the log of the series (see ``state_``)."""
        return self.state_.log

    @property
    def recipes_(self) -> list[Recipe]:
        """The members' recipes, lookbacks after capping (see ``state_``)."""
        return list(self.state_.recipes)

    @property
    def best_epochs_(self) -> list[int]:
        """Per member, the epoch whose weights were kept (see ``state_``)."""
        return [member.best_epoch for member in self.state_.members]

    @property
    def shares_(self) -> list[float]:
        """Per member, the share of its network's correction in its forecasts (see ``state_``)."""
        return [member.share for member in self.state_.members]

    @property
    def history_(self) -> pd.DataFrame:
        """The training log, one row per member and epoch (see ``state_``)."""
        return self.state_.history

    def _restore(self, state: SGDState) -> None:
        """Become the model fitted to ``state``, including what the base class reads (``load``)."""
        self.state_ = state
        self.season_, self.freq_, self.covariates_ = state.season, state.freq, state.covariates
        self._train_frame, self._array_input, self.last_seen_ = state.frame, state.array_input, state.last_seen

    # ---------------------------------------------------------------- sizes and parameters ---- #

    def _min_length(self, lookback: int) -> int:
        # lookback + horizon for one window, then 8 validation + (horizon - 1) purged + 4 fitting windows
        return lookback + 2 * self.horizon + MIN_VAL_WINDOWS + _MIN_FIT_WINDOWS - 2

    def min_length(self) -> int:
        """Fewest observations a series needs to be fitted: ``lookback + 2·horizon + 10``.

        One window needs ``lookback + horizon`` values; training needs 8 validation windows, the
        ``horizon - 1`` windows purged before them, and 4 fitting windows (the untrained base is
        always a candidate, so few fitting windows cannot make a member worse on validation).
        """
        return self._min_length(self.lookback)

    def _validate_params(self) -> None:
        """Check every parameter under the name the user typed, before any data is prepared."""
        super()._validate_params()
        check_decay_params(type(self).__name__, **{name: getattr(self, name) for name in _DECAY_PARAMS})
        if self.shuffle:
            raise ShuffleError(
                f"SGDForecaster(shuffle=True) was requested. {SHUFFLE_REASON} "
                "Leave shuffle=False: the windows are visited in time order."
            )
        bad_scale = not self.scales or any(isinstance(s, bool) or not isinstance(s, Real) or s < 1 for s in self.scales)
        if bad_scale:
            raise DataError(
                f"The 'scales' parameter of SGDForecaster must be a non-empty tuple of numbers >= 1. "
                f"Got {self.scales!r} instead."
            )

    def _check_lookback(self, season: int) -> None:
        if self.lookback < 2 * season:
            raise DataError(
                f"The 'lookback' parameter of SGDForecaster must be at least two seasons (2 x season={season} = "
                f"{2 * season}) so the base forecasts can estimate a seasonal slope. Got {self.lookback} instead."
            )

    def _recipes(self, shortest: int) -> list[Recipe]:
        cap = shortest - self._min_length(0)  # the longest lookback the shortest series can train
        return [
            Recipe(
                family=family,
                lookback=min(round(scale * self.lookback), cap),
                loss=_FAMILY_LOSS[family] if self.loss == "auto" else self.loss,
                recency=_FAMILY_RECENCY[family],
            )
            for family in self._families()
            for scale in self.scales
        ]

    def _families(self) -> tuple[str, ...]:
        if self.family == "auto":
            return _FAMILY_SETS["drift+es"] if self.season_ >= AUTO_DRIFT_SEASON else ("es",)
        return _FAMILY_SETS.get(self.family, (self.family,))

    # ------------------------------------------------------------------------- data to series ---- #

    def _series(self, frame: pd.DataFrame, *, minimum: int, log: bool, seasonal: bool, scalers: Scalers) -> ModelSeries:
        """The frame's histories in model space, after checking their lengths (and signs on the log scale).

        ``seasonal``: with the seasonal indices of each whole history (what ``predict`` forecasts from;
        training estimates its own, :func:`~tsforecast.models.sgd.training_data.training_adjustments`);
        ``scalers`` standardise the covariate inputs.
        """
        values = histories(frame)
        for uid, y in zip(sorted(frame[ID].unique()), values, strict=True):
            self._check_history(uid, y, minimum=minimum, log=log)
        return model_series(
            frame,
            values,
            log=log,
            season=self.season_,
            horizon=self.horizon,
            seasonal=seasonal,
            covariates=getattr(self, "covariates_", None),
            scalers=scalers,
        )

    def _check_history(self, uid: str, y: np.ndarray, *, minimum: int, log: bool) -> None:
        if len(y) < minimum:
            raise DataError(
                f"Series {uid!r} has {len(y)} observations; SGDForecaster with "
                f"{spell_value('lookback', self.lookback)} and {spell_value('horizon', self.horizon)} needs at least "
                f"{minimum}. Provide a longer history or "
                f"reduce the lookback ({spell('lookback')}) or the horizon ({spell('horizon')})."
            )
        if log and y.min() <= 0:
            raise DataError(
                f"Series {uid!r} has a value <= 0 ({y.min():g}), but the model was fitted on the log of strictly "
                "positive series. Forecast positive histories with it, or refit on data including such values."
            )

    # ------------------------------------------------------------------------------- training ---- #

    def _build_module(self, recipe: Recipe, index: int, covariates: Covariates | None) -> nn.Module:
        """Member ``index``'s untrained network, for the inputs ``covariates`` add."""
        factory = self.module if self.module is not None else partial(ResidualMLP, hidden=self.hidden)
        channels, extra = self._layout(covariates)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + index)
            if extra:
                return factory(recipe.lookback, self.horizon, channels, extra=extra)  # type: ignore[call-arg]
            return factory(recipe.lookback, self.horizon, channels)

    def _layout(self, cov: Covariates | None) -> tuple[int, int]:
        """Input channels ``1 + P`` and the extra-input length ``K·h + S`` of the networks."""
        if cov is None:
            return 1, 0
        return 1 + len(cov.past_only), len(cov.future_columns) * self.horizon + len(cov.static)

    def _fit(self, frame: pd.DataFrame) -> None:
        season = self.season
        if season is None:  # the frequency's season, else inferred among those the lookback holds twice
            season = panel_season(frame, self.freq_, longest=self.lookback // 2)
        self._check_lookback(season)
        self.season_ = season
        log = bool(frame[TARGET].min() > 0)
        scalers = fit_scalers(frame, self.covariates_)
        series = self._series(frame, minimum=self.min_length(), log=log, seasonal=False, scalers=scalers)
        fitted: dict[str, tuple[int, Smoothing]] = {}
        if "es" in self._families():  # for predict, on the whole training frame (training fits its own)
            params = es_parameters(series.z, season, log)
            fitted = {uid: (start, p) for (uid, start), p in zip(_starts(frame).items(), params, strict=True)}
        recipes = self._recipes(min(len(z) for z in series.z))
        smoothing = training_smoothing(series, recipes, season, self.horizon, self.validation, log)
        members, histories = [], []
        with single_thread():
            for index, recipe in enumerate(recipes):
                member, history = self._fit_member(index, recipe, series, smoothing, len(recipes))
                members.append(member)
                histories.append(history)
        self.state_ = SGDState(
            season=season,
            log=log,
            members=tuple(members),
            history=pd.concat(histories, ignore_index=True),
            smoothing=fitted,
            scalers=scalers,
            frame=frame,
            freq=self.freq_,
            array_input=self._array_input,
            covariates=self.covariates_,
        )

    def _fit_member(
        self, index: int, recipe: Recipe, series: ModelSeries, smoothing: SmoothingStates | None, count: int
    ) -> tuple[Member, pd.DataFrame]:
        """Train member ``index`` of ``count``; its fitted member and its training log."""
        per_series = max(1, min(self.batch_size, MAX_BATCH_WINDOWS // len(series.z)))  # windows per series per step
        windows, fit, val = member_windows(
            series,
            recipe,
            season=self.season_,
            horizon=self.horizon,
            validation=self.validation,
            extra=bool(self._layout(self.covariates_)[1]),
            budget=self.max_steps * per_series,
            smoothing=smoothing,
        )
        module = self._build_module(recipe, index, self.covariates_)
        batches = BatchSampler(SequentialSampler(range(len(fit))), per_series * len(series.z), drop_last=False)
        sampler = OrderedSampler(batches, dataset=range(len(fit)), where="SGDForecaster")
        settings = TrainingSettings(**{f.name: getattr(self, f.name) for f in fields(TrainingSettings)})
        trainer = Trainer(settings, module, recipe, index, count)
        best_epoch, share, rows = trainer.run(windows.drawer(fit), windows.batch(val), sampler)
        return Member(recipe, module, best_epoch, share), pd.DataFrame(rows, columns=HISTORY_COLUMNS)

    def _with_smoothing(self, frame: pd.DataFrame, series: ModelSeries) -> ModelSeries:
        """``series`` with the ``"es"`` states after every row (when an ``"es"`` member exists)."""
        fitted = self.state_.smoothing
        if not fitted:
            return series
        # NOTE: the fitted states start at the training history's first timestamp; a history given to predict()
        # that starts elsewhere, or a series the model never saw, gets its own parameters, fitted on that history
        # (still causal: nothing after its last value is read).
        known: list[Smoothing | None] = []
        for uid, start in _starts(frame).items():
            stored = fitted.get(str(uid))
            known.append(stored[1] if stored is not None and stored[0] == start else None)
        missing = [z for z, p in zip(series.z, known, strict=True) if p is None]
        # NOTE: files saved before the multiplicative "es" base hold additive parameters; refits follow the stored kind
        multiplicative = next(iter(fitted.values()))[1].multiplicative
        refitted = iter(es_parameters(missing, self.season_, multiplicative))
        params = [p if p is not None else next(refitted) for p in known]
        return replace(series, smoothing=smoothing_states(series.z, params, self.horizon, log=multiplicative))

    # ----------------------------------------------------------------------------- predicting ---- #

    def _predict(self, frame: pd.DataFrame, future: pd.DataFrame | None = None) -> np.ndarray:
        state = self.state_
        longest = max(recipe.lookback for recipe in state.recipes)
        seasonal = "decomposed" in self._families()
        series = self._series(frame, minimum=longest, log=state.log, seasonal=seasonal, scalers=state.scalers)
        series = self._with_smoothing(frame, series)
        extra = None
        cov = state.covariates
        if cov is not None and self._layout(cov)[1]:
            mean, std = state.scalers["known"]
            assert future is not None  # the base class always builds it for a model with covariates
            known = (future[list(cov.future_columns)].to_numpy(dtype="float64") - mean) / std  # (n·h, K)
            n = len(series.z)
            blocks = known.reshape(n, self.horizon, -1).transpose(0, 2, 1).reshape(n, -1)  # (n, K·h), like training
            assert series.static is not None
            extra = torch.as_tensor(np.hstack([blocks, series.static]), dtype=torch.float32)
        with single_thread(), torch.no_grad():
            forecasts = [self._member_forecast(member, series, extra) for member in state.members]
        stacked = np.stack(forecasts)
        return np.mean(np.exp(stacked) if state.log else stacked, axis=0)

    def _member_forecast(self, member: Member, series: ModelSeries, extra: torch.Tensor | None = None) -> np.ndarray:
        """One member's forecasts ``(n_series, horizon)`` in model space."""
        m, h, lookback = self.season_, self.horizon, member.recipe.lookback
        shifts = adjustments(series, member.recipe, h)
        last = np.stack([(z - s[: len(z)])[-lookback:] for z, s in zip(series.z, shifts, strict=True)])
        windows = torch.as_tensor(last[:, None, :], dtype=torch.float32)  # (N, C, L): batch, channels, time
        if series.past is not None and len(series.past):
            ends = np.cumsum([len(z) for z in series.z])
            past = np.stack([series.past[:, end - lookback : end] for end in ends])  # (n, P, L)
            windows = torch.cat([windows, torch.as_tensor(past, dtype=torch.float32)], dim=1)
        inputs, base, scale = normalise(windows, family_base_matrix(member.recipe, h, m), m)
        if member.recipe.family == "es":
            assert series.smoothing is not None
            ends = np.cumsum([len(z) for z in series.z])
            base = base + torch.as_tensor(series.smoothing.forecasts(ends - 1), dtype=torch.float32)
        adjusted = (base + member.share * scale * forward(member.module, inputs, extra)).double().numpy()
        return adjusted + np.stack([s[len(z) :] for z, s in zip(series.z, shifts, strict=True)])

    # ------------------------------------------------------------------------- the one engine ---- #

    def fit_forecast(
        self, data: Histories, fits: Sequence[Fit], *, native: tuple[float, ...] | None = None
    ) -> list[FitResult]:
        """A fit per :class:`~tsforecast.models.batch.Fit`, then all its forecasts from many origins in one pass.

        Each fit is :meth:`fit` on the fit's rows, as the default does. The requests whose history
        starts where a fitted series' rows start (every fold and calibration origin of an expanding
        window) are forecast together: the states of the ``"es"`` base run once over the longest
        history of each series, and each member sees every requested window ``(N, C, L)`` in one
        batch; this computes what ``predict(history)`` computes (a property test checks it, up to
        the float32 rounding of batched matrix products). Other requests, covariates, the
        ``"decomposed"`` family and ``native`` bands take the default path.
        """
        if (
            native is not None
            or data.covariates is not None
            or "decomposed" in _FAMILY_SETS.get(self.family, (self.family,))
        ):
            return Forecaster.fit_forecast(self, data, fits, native=native)
        results = []
        for fit in fits:
            model = clone(self)
            model.fit(data.rows(fit.first, fit.end))
            check_provenance(model, fit.cutoff)
            results.append(FitResult(model._forecast_origins(data, fit), model.history_))
        return results

    def _forecast_origins(self, data: Histories, fit: Fit) -> np.ndarray:
        """The fitted model's forecasts ``(n_requests, horizon)`` of a fit's requests (see :meth:`fit_forecast`)."""
        held = np.isin(fit.request_first, fit.first)
        forecasts = np.full((fit.n_requests, self.horizon), np.nan)
        if (~held).any():  # NOTE: a history that starts elsewhere gets its own "es" parameters: predict() per request
            others = Fit(fit.first, fit.end, fit.cutoff, fit.request_first[~held], fit.request_end[~held])
            forecasts[~held] = _forecast_requests(self, data, others, None).forecasts
        chosen = np.flatnonzero(held)
        if not len(chosen):
            return forecasts
        firsts, owner = np.unique(fit.request_first[chosen], return_inverse=True)
        longest = np.zeros(len(firsts), dtype=np.int64)
        np.maximum.at(longest, owner, fit.request_end[chosen])
        frame = data.rows(firsts, longest)
        state = self.state_
        shortest = int(max(recipe.lookback for recipe in state.recipes))
        series = self._series(frame, minimum=shortest, log=state.log, seasonal=False, scalers=state.scalers)
        series = self._with_smoothing(frame, series)
        ids = frame[ID].to_numpy()[np.cumsum(longest - firsts) - 1]
        order = np.argsort(np.argsort(ids, kind="stable"), kind="stable")  # each history's place in id order
        place = order[owner]
        row = fit.request_end[chosen] - firsts[owner] - 1  # the origin, a row of its series' longest history
        short = row + 1 < shortest
        if short.any():
            self._check_history(
                str(ids[owner[short][0]]), np.zeros(int(row[short][0]) + 1), minimum=shortest, log=False
            )
        with single_thread(), torch.no_grad():
            made = [self._member_origins(member, series, place, row) for member in state.members]
        stacked = np.stack(made)
        forecasts[chosen] = np.mean(np.exp(stacked) if state.log else stacked, axis=0)
        if not np.isfinite(forecasts).all():
            raise DataError(
                f"{type(self).__name__} produced a non-finite forecast (NaN or inf): its fit diverged. "
                "Check the series for extreme values (for SGDForecaster, also try a lower lr)."
            )
        return forecasts

    def _member_origins(self, member: Member, series: ModelSeries, place: np.ndarray, row: np.ndarray) -> np.ndarray:
        """One member's forecasts ``(N, horizon)`` in model space from row ``row[k]`` of history ``place[k]``."""
        m, h, lookback = self.season_, self.horizon, member.recipe.lookback
        values = np.concatenate(series.z)
        ends = np.cumsum([len(z) for z in series.z])
        at = (ends - np.array([len(z) for z in series.z]))[place] + row  # rows of ``values``
        windows = torch.as_tensor(values[at[:, None] + np.arange(1 - lookback, 1)][:, None, :], dtype=torch.float32)
        inputs, base, scale = normalise(windows, family_base_matrix(member.recipe, h, m), m)  # (N, C, L) windows
        if member.recipe.family == "es":
            assert series.smoothing is not None
            base = base + torch.as_tensor(series.smoothing.forecasts(at), dtype=torch.float32)
        return (base + member.share * scale * forward(member.module, inputs, None)).double().numpy()

    # ---------------------------------------------------------------------------- persistence ---- #

    def save(self, path: str | Path) -> None:
        """Write the fitted model to one file (see Notes: *Save format*).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model has not been fitted.
        """
        check_is_fitted(self)
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "module"}
        write_model(path, params, self.module is not None, self.state_)

    @classmethod
    def load(cls, path: str | Path, *, module: ModuleFactory | None = None) -> SGDForecaster:
        """Restore a model written by :meth:`save`; its forecasts are identical.

        Parameters
        ----------
        path : str or Path
            The file.
        module : callable, optional
            The module factory, required if the model was fitted with a custom ``module``
            (a factory is code, which the file deliberately does not hold).

        Raises
        ------
        DataError
            If the file is missing, not a file written by :meth:`save`, was modified since (it fails
            its digest, or with a secret key its code), or its contents do not fit together; or if
            the secret key is misconfigured.
        """
        saved = read_model(Path(path))
        if saved.custom_module and module is None:
            raise DataError(
                f"{str(path)!r} was fitted with a custom module factory; pass it as load(path, module=...)."
            )
        try:
            scales = saved.params.get("scales")
            model = cls(
                **{**saved.params, "scales": tuple(scales) if isinstance(scales, list) else scales}, module=module
            )
            model._validate_params()
        except (TypeError, TsforecastError) as exc:  # NOTE: an unknown or invalid parameter of a forged file
            raise DataError(f"{str(path)!r} holds invalid SGDForecaster parameters: {exc}") from exc
        model._restore(saved.state(model._build_module))
        return model


def _starts(frame: pd.DataFrame) -> pd.Series:
    """The first timestamp (as int64) of each series of ``frame``, indexed by its id as a string, in id order."""
    first = frame.groupby(ID, sort=True)[TIME].min()
    return pd.Series(first.to_numpy().astype("int64").tolist(), index=[str(uid) for uid in first.index])
