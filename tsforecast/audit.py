"""The future-perturbation leakage audit: its verdict is about the forecasts a backtest reported.

A forecast made at cutoff ``c`` must be a function of observations at or before ``c`` only. The
audit checks it empirically, for the forecasts the backtest returned:

1. **Snapshot.** Before the backtest's own (clean) run, the models are serialised together with
   the caller's frame (``cloudpickle``; classes and functions defined in the user's script travel
   by value, with their globals *as they were before the clean run*, so a cache the clean run
   fills is empty in the snapshot). Every reference to the caller's frame, and every column or
   array taken from its perturbed columns, is recorded as a placeholder.
2. **Perturbations.** In fresh Python processes (two, side by side, the folds dealt between
   them), the snapshot is restored and each fold rerun with the future after its cutoff changed,
   in its values (``noise``, a huge ``constant``, ``reverse``) and in its shape (one more row
   per series, a step later): the placeholders resolve to the perturbed frame and columns, and
   the backtest is planned again on the perturbed values. A fold whose forecasts (and, with
   ``level``, bands) are bit-identical to the reported ones is clean.
3. **Control.** Each fold whose perturbed rerun differs is rerun, in the same isolation, on the
   data as they are. If that control rerun reproduces the reported forecasts, the difference was
   caused by the future: the fold *leaks*. If not, the fold is *not reproducible* (unseeded
   randomness, say) and nothing can be concluded about it: the verdict says so instead of
   "leak".

Where the snapshot cannot be taken or restored in a fresh process (an object that cannot be
pickled, a function memoised with ``functools.lru_cache`` in a script), the reruns run in this
process, on deep copies, and the result says which check could not be made: a peek memoised
during the clean run goes unseen there.

With covariates, the target and every past-only covariate are perturbed after the cutoff; the
known-future covariates only after the end of the fold's horizon (inside it they are legitimately
known); static ones are left alone.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import io
import os
import pickle
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cloudpickle
import numpy as np
import pandas as pd

from ._progress import Progress
from .columns import ID, TARGET, TIME
from .errors import DataError
from .frames import MAX_ABS_TARGET, from_pandas
from .frequency import future_times
from .models.intervals import band_columns

if TYPE_CHECKING:
    from ._engine import Forecasts
    from ._plan import Plan
    from .covariates import Covariates

__all__ = [
    "PERTURBATIONS",
    "STATUSES",
    "AuditResult",
    "PendingAudit",
    "Snapshot",
    "audit_leakage",
    "perturbed_columns",
    "snapshot",
    "start_audit",
]

PERTURBATIONS = ("noise", "constant", "reverse")
STATUSES = ("passed", "leak", "not reproducible", "not run")


@dataclass(frozen=True)
class AuditResult:
    """Verdict of :func:`audit_leakage`.

    Attributes
    ----------
    status : {"passed", "leak", "not reproducible", "not run"}
        ``"leak"`` when a fold whose control rerun reproduced the reported forecasts changed under
        a perturbation of its future; else ``"not reproducible"`` when some fold's control rerun
        differed from the reported forecasts (the audit cannot judge it); else ``"passed"``.
        ``"not run"`` when the reruns could not be made at all (``notes`` says why), e.g. the
        fresh process running them was killed; ``folds`` is then empty.
    passed : bool
        ``status == "passed"``.
    folds : DataFrame
        One row per fold and check: ``fold, cutoff, check, max_abs_diff, identical``; ``check`` is a
        perturbation, or ``"control"`` for the control rerun of a fold whose perturbed rerun changed.
    perturbed : tuple of str
        The columns whose values after each cutoff were perturbed: ``y`` and the past-only
        covariates, then the known-future ones (perturbed after each fold's horizon only).
    perturbations : tuple of str
        The kinds of perturbation applied.
    notes : tuple of str
        Checks that could not be made, and why (e.g. the reruns ran in this process).
    """

    status: str
    folds: pd.DataFrame
    perturbed: tuple[str, ...]
    perturbations: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every fold was reproduced and unchanged by every perturbation."""
        return self.status == "passed"

    def to_json(self) -> dict[str, Any]:
        """The verdict for ``summary.json``: status, the folds that leaked or were not reproduced, notes."""
        return {
            "passed": self.passed,
            "status": self.status,
            "perturbations": list(self.perturbations),
            "leaked_folds": self.failed_folds("leak"),
            "unreproduced_folds": self.failed_folds("not reproducible"),
            "notes": list(self.notes),
        }

    def failed_folds(self, check: str = "leak") -> list[int]:
        """The folds that leaked (``"leak"``) or could not be reproduced (``"not reproducible"``)."""
        table = self.folds
        control = table[table["check"] == "control"].set_index("fold")["identical"]
        if check == "not reproducible":
            return sorted(int(k) for k in control.index[~control.to_numpy(dtype=bool)])
        perturbed = table[(table["check"] != "control") & ~table["identical"].to_numpy(dtype=bool)]
        return sorted({int(k) for k in perturbed["fold"] if bool(control.get(k, True))})


# ------------------------------------------------------------------------------ perturbation ---- #


def _scale(values: np.ndarray) -> float:
    """A positive spread computed without overflow (no squares): half the range, at least 1e-3 of the magnitude."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 1.0
    low, high = float(finite.min()), float(finite.max())
    return max(high / 2 - low / 2, max(abs(low), abs(high)) / 1000, 1.0)


def _perturb(values: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Replacement for one series' ``m`` future values: ``m + 1`` values (one row more), finite where the data are.

    ``noise`` raises every value by at least the scale, ``constant`` puts them all far above the
    maximum, ``reverse`` reverses them and adds one above the maximum. Where that would pass the
    loader's ceiling (:data:`~tsforecast.frames.MAX_ABS_TARGET`), the values go down instead; where
    neither fits, they are halved.
    """
    scale = _scale(values)
    finite = values[np.isfinite(values)]
    high, low = (float(finite.max()), float(finite.min())) if finite.size else (0.0, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "noise":
            base = np.append(values, values[-1])
            offsets = scale * (1.0 + 10.0 * np.abs(rng.normal(size=base.shape)))
            candidates = (base + offsets, base - offsets)
        elif kind == "constant":
            base = np.full(len(values) + 1, 1.0)
            candidates = (base * (high + 1e6 * scale), base * (low - 1e6 * scale))
        else:
            base = np.append(values[::-1], 1.0)
            candidates = (np.append(values[::-1], high + scale), np.append(values[::-1], low - scale))
        kept = np.isfinite(base)
        for candidate in candidates:
            # NOTE: within the loader's ceiling, so the backtest can be planned again on the perturbed data
            if np.isfinite(candidate[kept]).all() and (np.abs(candidate[kept]) <= MAX_ABS_TARGET).all():
                return candidate
    return np.append(values, values[-1]) / 2


@dataclass(frozen=True)
class _Perturbation:
    """What a rerun perturbs: the validated frame's columns after a cutoff, and where the caller's data come from."""

    freq: str | int
    horizon: int
    after_cutoff: tuple[str, ...]
    after_horizon: tuple[str, ...]


def _perturbed_frames(
    data: pd.DataFrame, spec: _Perturbation, cutoff: Any, kind: str, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The validated frame with the future's values perturbed, and the same with one more row per series.

    The first has the same shape as ``data`` (the backtest is planned again on it). The second
    also has one more row per series after the cutoff, a step after the series' last timestamp:
    it stands for the caller's frame wherever a model refers to it.
    """
    times = data[TIME].to_numpy()
    horizon_end = future_times(cutoff, spec.freq, spec.horizon)[-1] if spec.after_horizon else None
    perturbed = data.copy()
    future = np.flatnonzero((data[TIME] > cutoff).to_numpy())
    if not future.size:
        return perturbed, perturbed
    series = list(pd.Series(future).groupby(data[ID].to_numpy()[future], sort=False).indices.values())
    extra = data.iloc[[future[positions[-1]] for positions in series]].copy()
    steps: dict[Any, Any] = {}
    extra[TIME] = [steps.setdefault(t, future_times(t, spec.freq, 1)[0]) for t in extra[TIME]]
    for col in (*spec.after_cutoff, *spec.after_horizon):
        values = data[col].to_numpy(dtype="float64", copy=True)
        added = extra[col].to_numpy(dtype="float64", copy=True)
        for k, positions in enumerate(series):
            rows = future[positions]
            if col in spec.after_horizon:
                rows = rows[times[rows] > horizon_end]  # inside the horizon they are legitimately known
            if rows.size:
                new = _perturb(values[rows], kind, rng)
                values[rows], added[k] = new[:-1], new[-1]
        perturbed[col], extra[col] = values, added
    reshaped = pd.concat([perturbed, extra], ignore_index=True)
    return perturbed, reshaped.sort_values([ID, TIME], kind="stable").reset_index(drop=True)


def _as_callers(reshaped: pd.DataFrame, caller: Any) -> Any:
    """``reshaped`` in the layout of the caller's data: the same type, column names and index kind."""
    if isinstance(caller, pd.Series):
        return pd.Series(reshaped[TARGET].to_numpy(), index=pd.Index(reshaped[TIME].to_numpy()), name=caller.name)
    if isinstance(caller, pd.DataFrame):
        return reshaped[[c for c in caller.columns if c in reshaped.columns]]
    return reshaped


# ---------------------------------------------------------------------------------- snapshot ---- #


_FRAME, _COLUMN = "tsforecast-audit-frame", "tsforecast-audit-column"
_DIED = "the fresh process running the reruns stopped abruptly (killed, out of memory, or the model exited it)"


class _SnapshotPickler(cloudpickle.Pickler):  # type: ignore[misc]
    """cloudpickle, with the caller's frame and its perturbed columns (or arrays viewing them) as placeholders."""

    def __init__(self, file: io.BytesIO, caller: Any, columns: tuple[str, ...]) -> None:
        super().__init__(file)
        self._caller = caller
        data = caller.to_frame(TARGET) if isinstance(caller, pd.Series) else caller
        self._columns = {
            c: np.asarray(data[c]) for c in columns if isinstance(data, pd.DataFrame) and c in data.columns
        }

    def persistent_id(self, obj: Any) -> Any:
        if obj is self._caller:
            return (_FRAME,)
        if isinstance(obj, (pd.Series, np.ndarray)) and not isinstance(obj, pd.Index):
            try:
                values = np.asarray(obj)
            except (TypeError, ValueError):
                return None
            for name, column in self._columns.items():
                if values.shape == column.shape and values.dtype == column.dtype and np.shares_memory(values, column):
                    return (_COLUMN, name, "series" if isinstance(obj, pd.Series) else "array")
        return None


class _SnapshotUnpickler(pickle.Unpickler):
    """Resolves the placeholders of :class:`_SnapshotPickler` to the data a rerun gives the models."""

    def __init__(self, file: io.BytesIO, data: Any) -> None:
        super().__init__(file)
        self._data = data

    def persistent_load(self, pid: Any) -> Any:
        if pid[0] == _FRAME:
            return self._data
        column = self._data if isinstance(self._data, pd.Series) else self._data[pid[1]]
        return column if pid[2] == "series" else column.to_numpy()


@dataclass(frozen=True)
class Snapshot:
    """The models and the caller's data as they were before a backtest's clean run.

    ``payload`` is the :mod:`cloudpickle` of ``(model, baselines)`` with placeholders for the
    caller's frame and its perturbed columns; ``None`` when it could not be taken (``problem``
    says why) -- then ``copies`` holds deep copies, or the objects themselves if even that failed.
    """

    payload: bytes | None = field(repr=False)
    problem: str | None
    copies: tuple[Any, Any] | None = field(default=None, repr=False)


def snapshot(model: Any, baselines: Any, caller: Any, columns: tuple[str, ...]) -> Snapshot:
    """Take the :class:`Snapshot` of the models before a clean run (``columns``: those perturbed)."""
    buffer = io.BytesIO()
    try:
        _SnapshotPickler(buffer, caller, columns).dump((model, baselines))
        return Snapshot(buffer.getvalue(), None)
    except Exception as exc:  # NOTE: pickling runs arbitrary __reduce__ code; any failure means "in process"
        problem = f"{type(exc).__name__}: {exc}"
    try:  # NOTE: the memo keeps the caller's frame itself in the copies, so a rerun can swap it
        return Snapshot(None, problem, copy.deepcopy((model, baselines), {id(caller): caller}))
    except Exception:  # NOTE: what cannot be pickled often cannot be deep-copied either
        return Snapshot(None, problem, (model, baselines))


def _restore(snap: Snapshot, caller: Any, data: Any) -> tuple[Any, Any]:
    """The models of a snapshot, every reference to the caller's data (or its columns) resolved to ``data``."""
    if snap.payload is not None:
        return _SnapshotUnpickler(io.BytesIO(snap.payload), data).load()  # type: ignore[no-any-return]
    assert snap.copies is not None
    try:
        return copy.deepcopy(snap.copies, {id(caller): data})  # type: ignore[no-any-return]
    except Exception:  # NOTE: models that cannot even be deep-copied: shallow copies, their own references swapped
        return tuple(_swapped(group, caller, data) for group in snap.copies)  # type: ignore[return-value]


def _swapped(obj: Any, caller: Any, data: Any) -> Any:
    """A shallow copy of ``obj`` (or of each model of a list, tuple or dict) whose attributes that are the caller's
    frame point at ``data``."""
    if obj is caller:
        return data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_swapped(item, caller, data) for item in obj)
    if isinstance(obj, dict):
        return {key: _swapped(item, caller, data) for key, item in obj.items()}
    if not hasattr(obj, "__dict__") or isinstance(obj, (str, bytes)):
        return obj
    shallow = copy.copy(obj)
    for key, value in vars(shallow).items():
        if value is caller:
            setattr(shallow, key, data)
    return shallow


# ------------------------------------------------------------------------------------ reruns ---- #


@dataclass(frozen=True)
class _Reruns:
    """Everything a rerun needs besides the models and the data: picklable for a fresh process."""

    cv: Any
    season: int
    refit: bool | int
    covariates: Covariates | None
    level: tuple[float, ...] | None
    interval_method: str
    perturbation: _Perturbation
    seed: int


def _forecasts_of(plan: Plan, frame: pd.DataFrame) -> pd.DataFrame:
    """The compared columns of a forecast frame, in one canonical row order; a model is named by its position
    among the plan's models (a rerun's names may differ, e.g. where a registry was changed in the caller's process)."""
    position = {entry.name: k for k, entry in enumerate(plan.entries)}
    columns = ["model", "fold", ID, TIME, "y_hat", *(band_columns(plan.levels) if plan.levels is not None else ())]
    out = frame[columns].assign(model=frame["model"].map(position))
    return out.sort_values(["model", "fold", ID, TIME], kind="stable").reset_index(drop=True)


def _rerun(
    snap: Snapshot, caller: Any, data: pd.DataFrame, spec: _Reruns, jobs: Sequence[tuple[int, str]]
) -> list[pd.DataFrame]:
    """The forecasts of each job: ``(fold, "control")`` reruns that fold on the data as they are, ``(fold, kind)``
    with its future perturbed."""
    from ._engine import run_plan
    from ._plan import make_plan

    out = []
    for number, (fold, kind) in enumerate(jobs):
        if kind == "control":
            frame, reshaped = data, caller
        else:
            cutoff = _cutoffs(spec.cv, data)[fold]
            frame, perturbed = _perturbed_frames(
                data, spec.perturbation, cutoff, kind, np.random.default_rng([spec.seed, number])
            )
            reshaped = _as_callers(perturbed, caller)
        model, baselines = _restore(snap, caller, reshaped)
        plan = make_plan(
            model,
            frame,
            spec.cv,
            baselines=baselines,
            season=spec.season,
            refit=spec.refit,
            covariates=spec.covariates,
            level=spec.level,
            interval_method=spec.interval_method,
        )
        got = run_plan(plan, folds=[fold]).frame
        out.append(_forecasts_of(plan, got[got["fold"] == fold]))
    return out


def _cutoffs(cv: Any, data: pd.DataFrame) -> list[Any]:
    from .split import fold_spans

    return [f.cutoff for f in fold_spans(cv, data)]


def _rerun_pickled(payload: bytes) -> tuple[str, Any]:
    """The fresh process's side: ``("ok", forecasts)``, or ``("unrestorable", why)`` when the snapshot does not load."""
    snap, caller, data, spec, jobs = pickle.loads(payload)
    try:
        _restore(snap, caller, caller)
    except Exception as exc:  # NOTE: e.g. a function of the user's script memoised with lru_cache: not rebuildable
        return "unrestorable", f"{type(exc).__name__}: {exc}"
    return "ok", _rerun(snap, caller, data, spec, jobs)


def _advance(bar: Progress, done: int, _: object) -> None:
    """A finished process's jobs, counted on the progress bar."""
    bar.update(done)


def _max_diff(got: pd.DataFrame, expected: pd.DataFrame) -> tuple[float, bool]:
    """The largest difference between two forecast frames, and whether they are identical (shape, keys, bits)."""
    same_keys = got.shape == expected.shape and got[["model", ID, TIME]].equals(expected[["model", ID, TIME]])
    a = got.drop(columns=["model", "fold", ID, TIME]).to_numpy(dtype="float64")
    b = expected.drop(columns=["model", "fold", ID, TIME]).to_numpy(dtype="float64")
    if not same_keys or a.shape != b.shape:
        return float("inf"), False
    identical = bool(np.array_equal(a, b, equal_nan=True))
    with np.errstate(over="ignore", invalid="ignore"):
        return (0.0 if identical else float(np.nanmax(np.abs(a - b), initial=0.0))), identical


class PendingAudit:
    """An audit whose perturbed reruns were handed to fresh processes before the clean run it audits.

    Made by :func:`start_audit`; :meth:`finish` takes the reported forecasts and gives the verdict,
    :meth:`cancel` stops the reruns (the clean run failed).
    """

    def __init__(
        self,
        plan: Plan,
        df: Any,
        cv: Any,
        snap: Snapshot,
        *,
        perturbations: Sequence[str],
        exhaustive: bool,
        seed: int,
        fresh_process: bool,
        progress: bool | None,
    ) -> None:
        unknown = [p for p in perturbations if p not in PERTURBATIONS]
        if unknown or not perturbations:
            raise DataError(
                f"perturbations must be a non-empty selection of {PERTURBATIONS}; got {tuple(perturbations)}."
            )
        declared = plan.covariates
        self.perturbation = _Perturbation(
            plan.freq,
            plan.horizon,
            (TARGET, *(declared.past_only if declared else ())),
            tuple(declared.known_future) if declared else (),
        )
        spec = _Reruns(
            cv, plan.season, plan.refit, declared, plan.levels, plan.interval_method, self.perturbation, seed
        )
        self.plan, self.progress = plan, progress
        self.jobs = [
            (fold.index, kind)
            for fold in plan.folds
            for kind in (perturbations if exhaustive else [perturbations[fold.index % len(perturbations)]])
        ]
        self.runner = _Runner(snap, df, from_pandas(df), spec, fresh_process)
        self.submitted = self.runner.start(self.jobs)

    def cancel(self) -> None:
        """Stop the reruns."""
        if self.submitted.pool is not None:
            self.submitted.pool.shutdown(wait=False, kill_workers=True)

    def finish(self, reported: Forecasts) -> AuditResult:
        """Compare the reruns with the forecasts ``reported`` by the clean run; control reruns where one changed."""
        plan, runner = self.plan, self.runner
        with Progress(len(self.jobs), desc="leakage audit", unit="rerun", enabled=self.progress) as bar:
            perturbed = runner.collect(self.submitted, bar)
        columns = ["fold", "cutoff", "check", "max_abs_diff", "identical"]
        if perturbed is None:
            return AuditResult("not run", pd.DataFrame(columns=columns), (), (), tuple(runner.notes))
        expected = _forecasts_of(plan, reported.frame)
        rows = []
        for (fold_index, kind), got in zip(self.jobs, perturbed, strict=True):
            diff, same = _max_diff(got, expected[expected["fold"] == fold_index].reset_index(drop=True))
            rows.append((fold_index, plan.folds[fold_index].cutoff, kind, diff, same))
        # NOTE: a control rerun of each fold that changed tells a leak from forecasts that no rerun reproduces
        changed = sorted({fold for fold, _, _, _, same in rows if not same})
        with Progress(len(changed), desc="leakage audit (control)", unit="rerun", enabled=self.progress) as bar:
            controls = runner.run([(fold, "control") for fold in changed], bar)
        if controls is None:
            return AuditResult("not run", pd.DataFrame(columns=columns), (), (), tuple(runner.notes))
        for fold_index, got in zip(changed, controls, strict=True):
            diff, same = _max_diff(got, expected[expected["fold"] == fold_index].reset_index(drop=True))
            rows.append((fold_index, plan.folds[fold_index].cutoff, "control", diff, same))
        table = pd.DataFrame(rows, columns=columns)
        perturbed_columns = (*self.perturbation.after_cutoff, *self.perturbation.after_horizon)
        kinds = tuple(dict.fromkeys(k for _, k in self.jobs))
        result = AuditResult("passed", table, perturbed_columns, kinds, tuple(runner.notes))
        if result.failed_folds("leak"):
            return dataclasses.replace(result, status="leak")
        if result.failed_folds("not reproducible"):
            return dataclasses.replace(result, status="not reproducible")
        return result


def start_audit(
    plan: Plan,
    df: Any,
    cv: Any,
    snap: Snapshot,
    *,
    perturbations: Sequence[str] = PERTURBATIONS,
    exhaustive: bool = False,
    seed: int = 0,
    fresh_process: bool = True,
    progress: bool | None = False,
) -> PendingAudit:
    """Start auditing the run of ``plan``: its perturbed reruns start in fresh processes now.

    Call it after :func:`snapshot` and before the clean run, so the reruns run while it does;
    then :meth:`PendingAudit.finish` with the forecasts the clean run reported. ``df`` is the
    caller's data; ``progress`` as for :func:`~tsforecast.backtest` (its units are the reruns).

    Raises
    ------
    DataError
        For an unknown perturbation.
    """
    return PendingAudit(
        plan,
        df,
        cv,
        snap,
        perturbations=perturbations,
        exhaustive=exhaustive,
        seed=seed,
        fresh_process=fresh_process,
        progress=progress,
    )


@dataclass
class _Submitted:
    """Rerun jobs handed to fresh processes (``futures``), or why they could not be (``problem``)."""

    jobs: list[tuple[int, str]]
    groups: list[list[tuple[int, str]]] = field(default_factory=list)
    pool: Any = None
    futures: list[Any] | None = None
    problem: str | None = None


class _Runner:
    """Runs rerun jobs in fresh processes (or, where that cannot be done, in this process), collecting notes.

    :meth:`start` hands jobs to two fresh processes at once (loky starts interpreters that do not
    rerun the caller's main script, so an unguarded script works; the snapshot, the caller's data
    and the settings travel in one payload per process), so they can run while this process
    works; :meth:`collect` waits for them.
    """

    def __init__(self, snap: Snapshot, caller: Any, data: pd.DataFrame, spec: _Reruns, fresh_process: bool) -> None:
        self.snap, self.caller, self.data, self.spec = snap, caller, data, spec
        self.notes: list[str] = []
        self.fresh = fresh_process and snap.payload is not None
        if snap.payload is None:
            self.notes.append(
                f"The models could not be serialised ({snap.problem}), so the reruns ran in this process on copies "
                "taken before the clean run: a peek memoised in a module-level cache during the clean run would go "
                "unseen."
            )
        elif not fresh_process:
            self.notes.append(
                "The reruns ran in this process (fresh_process=False): a peek memoised during the clean run goes "
                "unseen."
            )

    def start(self, jobs: list[tuple[int, str]]) -> _Submitted:
        """Hand ``jobs`` to fresh processes now, when they run there."""
        if not jobs or not self.fresh:
            return _Submitted(jobs)
        from loky import ProcessPoolExecutor

        workers = min(2, len(jobs), os.cpu_count() or 1)
        groups = [jobs[k::workers] for k in range(workers)]  # NOTE: folds dealt round-robin, sizes balanced
        try:
            payloads = [cloudpickle.dumps((self.snap, self.caller, self.data, self.spec, group)) for group in groups]
        except Exception as exc:  # NOTE: a splitter or covariates that cannot be pickled
            problem = f"the run's settings could not be sent to a fresh process ({type(exc).__name__}: {exc})"
            return _Submitted(jobs, groups, problem=problem)
        pool = ProcessPoolExecutor(max_workers=workers)
        return _Submitted(jobs, groups, pool, [pool.submit(_rerun_pickled, payload) for payload in payloads])

    def collect(self, submitted: _Submitted, bar: Progress) -> list[pd.DataFrame] | None:
        """The forecasts of each job, in order; None when a fresh process died (never rerun such a model here)."""
        jobs, problem = submitted.jobs, submitted.problem
        if submitted.futures is not None:
            for future, group in zip(submitted.futures, submitted.groups, strict=True):
                future.add_done_callback(functools.partial(_advance, bar, len(group)))
            try:
                answers = [future.result() for future in submitted.futures]
            except BrokenProcessPool:
                self.notes.append(f"The audit could not run: {_DIED}. Look for a model that ends its process.")
                return None
            finally:
                submitted.pool.shutdown(wait=True)
            problems = [detail for status, detail in answers if status != "ok"]
            if not problems:
                merged: list[pd.DataFrame | None] = [None] * len(jobs)
                for k, (_, group) in enumerate(answers):
                    merged[k :: len(answers)] = group
                return merged  # type: ignore[return-value]
            problem = f"the models could not be rebuilt in a fresh process ({problems[0]})"
        if problem is not None:
            self.fresh = False
            self.notes.append(
                f"The reruns could not run in a fresh process: {problem}. They ran in this process instead, so a "
                "peek memoised during the clean run (a cache filled then) would go unseen."
            )
        out = []
        for job in jobs:
            out += _rerun(self.snap, self.caller, self.data, self.spec, [job])
            bar.update()
        return out

    def run(self, jobs: list[tuple[int, str]], bar: Progress) -> list[pd.DataFrame] | None:
        """:meth:`start` then :meth:`collect`."""
        return self.collect(self.start(jobs), bar)


def audit_leakage(
    model: Any,
    df: Any,
    cv: Any,
    *,
    baselines: Sequence[Any] = (),
    season: int | None = None,
    refit: bool | int = True,
    perturbations: Sequence[str] = PERTURBATIONS,
    exhaustive: bool = False,
    seed: int = 0,
    covariates: Covariates | None = None,
    fresh_process: bool = True,
    level: Any = None,
    interval_method: str = "conformal",
) -> AuditResult:
    """Backtest the models, then audit those forecasts: does changing the future change them?

    Runs :func:`~tsforecast.backtest`'s plan once (the *reported* forecasts), then the perturbed
    (and, where needed, control) reruns of the module docstring, and compares each with the
    reported forecasts, fold by fold, bit for bit (``y_hat``, and with ``level`` the band columns).

    What is perturbed, for each fold with cutoff ``c`` and each series with rows after ``c``:

    - the values of ``y`` (and past-only covariates) after ``c``, by the kind of perturbation;
    - the shape: one more row after the series' last one, a step later, so the number of rows
      after ``c`` and the series' and the frame's last timestamp change.

    The backtest is planned again on the perturbed values, and every reference the models hold to
    ``df`` -- the frame itself, or a column or array taken from its perturbed columns -- points at
    the perturbed data, wherever it sits (an attribute, a global of the user's script). ``df``
    itself is never modified.

    What the tests show it catching: a model reading values after the cutoff through a reference
    to ``df`` or to ``df["y"]`` (their mean, sum, minimum, maximum, median or standard deviation,
    the number of rows after the cutoff, the frame's last timestamp), through the script's own
    global ``df``, through ``functools.lru_cache`` or a module-level feature cache filled during
    the clean run; a model that peeks on its first calls only (the reported forecasts are the
    ones compared); and it tells unseeded randomness (*not reproducible*) from a leak.

    What no in-process check can see: a model that took its own copy of the data before the
    backtest (the copy is not ``df``, so it is never perturbed), that reads the data from a file,
    a database or an environment variable, or that detects the audit and behaves. Against those,
    never hand the model the full data: it gets the training rows through ``fit``/``predict``, and
    that is all it needs.

    Parameters
    ----------
    model, cv, baselines, season, refit, covariates, level, interval_method
        As for :func:`~tsforecast.backtest`.
    df : DataFrame or Series
        The data. Left untouched.
    perturbations : sequence of {"noise", "constant", "reverse"}
        Kinds of replacement values, per series: ``"noise"`` raises every value by at least the
        series' scale plus ten times that scale times ``|N(0, 1)|`` (so the sum, mean, minimum,
        maximum and every quantile change; the standard deviation with probability one);
        ``"constant"`` sets every value a million scales above the maximum; ``"reverse"`` reverses
        the values. The added row takes one more such value (for ``"reverse"``: one scale above
        the maximum, so the mean and maximum change too). The scale is half the range, at least
        a thousandth of the largest magnitude and at least 1, computed without squaring;
        replacements stay finite (they go down instead of up where up would overflow).
    exhaustive : bool, default=False
        Rerun every fold under every perturbation. By default each fold is rerun once, the kinds
        taken in turn (fold 0 noise, fold 1 constant, fold 2 reverse, ...): with three folds or
        more every kind is used.
    seed : int, default=0
        Seed of the noise.
    fresh_process : bool, default=True
        Run the reruns in fresh Python interpreters (``loky`` workers, which do not rerun the
        caller's script). ``False`` reruns in this process: faster, but a peek memoised during
        the clean run goes unseen.

    Returns
    -------
    AuditResult

    Raises
    ------
    DataError
        For an unknown perturbation, or anything :func:`~tsforecast.backtest` refuses.

    Examples
    --------
    >>> import tsforecast as tsf
    >>> air = tsf.load_dataset("air_passengers")
    >>> audit = tsf.audit_leakage("seasonal_naive", air, tsf.WalkForward(2, 12), fresh_process=False)
    >>> audit.status
    'passed'
    """
    from ._engine import run_plan
    from ._plan import make_plan

    plan = make_plan(
        model,
        df,
        cv,
        baselines=baselines,
        season=season,
        refit=refit,
        covariates=covariates,
        level=level,
        interval_method=interval_method,
    )
    pending = start_audit(
        plan,
        df,
        cv,
        snapshot(model, baselines, df, perturbed_columns(plan)),
        perturbations=perturbations,
        exhaustive=exhaustive,
        seed=seed,
        fresh_process=fresh_process,
    )
    try:
        reported = run_plan(plan)
    except BaseException:
        pending.cancel()
        raise
    return pending.finish(reported)


def perturbed_columns(plan: Plan) -> tuple[str, ...]:
    """The columns of the caller's frame a rerun perturbs: ``y``, the past-only and the known-future covariates."""
    declared = plan.covariates
    return (TARGET, *(declared.past_only if declared else ()), *(declared.known_future if declared else ()))
