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

import dataclasses
import functools
import os
import pickle
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import cloudpickle
import numpy as np
import pandas as pd

from ._progress import Progress
from ._snapshot import Snapshot, restore
from .columns import ID, TARGET, TIME
from .errors import DataError
from .frames import MAX_ABS_TARGET, as_pandas, frame_kind, from_pandas, to_kind
from .frequency import future_times
from .models.intervals import band_columns

if TYPE_CHECKING:
    from ._engine import Forecasts
    from ._plan import Plan
    from .covariates import Covariates

__all__ = [
    "PERTURBATIONS",
    "STATUSES",
    "AuditOptions",
    "AuditResult",
    "PendingAudit",
    "perturbed_columns",
    "start_audit",
]

PERTURBATIONS = ("noise", "constant", "reverse")
STATUSES = ("passed", "leak", "not reproducible", "incomplete", "not run")


@dataclass(frozen=True)
class AuditOptions:
    """How to audit a backtest (``backtest(..., audit=AuditOptions(...))``; ``audit=True`` takes the defaults).

    Attributes
    ----------
    perturbations : tuple of {"noise", "constant", "reverse"}, default=all three
        Kinds of replacement values (see :func:`~tsforecast.audit_leakage`).
    exhaustive : bool, default=False
        Rerun every fold under every perturbation; by default each fold once, the kinds taken in turn.
    seed : int, default=0
        Seed of the noise.
    fresh_process : bool, default=True
        Rerun in fresh Python processes; ``False`` reruns in this process (faster, but a peek
        memoised during the clean run goes unseen).

    Raises
    ------
    DataError
        For an unknown or empty selection of perturbations.
    """

    perturbations: tuple[str, ...] = PERTURBATIONS
    exhaustive: bool = False
    seed: int = 0
    fresh_process: bool = True

    def __post_init__(self) -> None:
        kinds = tuple(self.perturbations)
        if not kinds or any(p not in PERTURBATIONS for p in kinds):
            raise DataError(f"perturbations must be a non-empty selection of {PERTURBATIONS}; got {kinds}.")
        object.__setattr__(self, "perturbations", kinds)


@dataclass(frozen=True)
class AuditResult:
    """Verdict of :func:`~tsforecast.audit_leakage` (and of ``backtest(..., audit=True)``).

    Attributes
    ----------
    status : {"passed", "leak", "not reproducible", "not run"}
        ``"leak"`` when a fold whose control rerun reproduced the reported forecasts changed under
        a perturbation of its future; else ``"not reproducible"`` when some fold's control rerun
        differed from the reported forecasts (the audit cannot judge it); else ``"passed"``.
        ``"incomplete"`` when no fold changed but the models hold data the reruns could not perturb
        (``notes`` names them). ``"not run"`` when the reruns could not be made at all (``notes``
        says why), e.g. the fresh process running them was killed; ``folds`` is then empty.
    passed : bool
        ``status == "passed"``.
    folds : DataFrame
        One row per fold and check: ``fold, cutoff, check, max_abs_diff, identical``; ``check`` is a
        perturbation, or ``"control"`` for a fold whose perturbed rerun changed (compared with the
        control rerun of the whole backtest). A rerun that raised counts as changed
        (``max_abs_diff`` inf; ``notes`` says what it raised).
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
    kind = frame_kind(caller)
    if kind != "pandas":  # NOTE: a polars DataFrame or a pyarrow Table, rebuilt as one
        names = caller.columns if kind == "polars" else caller.column_names
        return to_kind(reshaped[[c for c in names if c in reshaped.columns]], kind)
    return reshaped


_DIED = "the fresh process running the reruns stopped abruptly (killed, out of memory, or the model exited it)"


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


@dataclass(frozen=True)
class _Raised:
    """A rerun that raised, and what it raised: it did not reproduce the reported forecasts."""

    error: str


class _Unrestorable(Exception):
    """The snapshot of the models cannot be restored in this process."""


def _rerun(
    snap: Snapshot, caller: Any, data: pd.DataFrame, spec: _Reruns, jobs: Sequence[tuple[int, str]]
) -> list[pd.DataFrame | _Raised]:
    """The forecasts of each job: ``(fold, kind)`` reruns that fold with its future perturbed; ``(-1, "control")``
    reruns the whole backtest on the data as they are (every fold, in order, as the clean run did).

    A rerun that raises gives a :class:`_Raised`; a snapshot that cannot be restored raises
    :class:`_Unrestorable` (the models cannot be rebuilt here at all).
    """
    from ._engine import run_plan
    from ._plan import make_plan

    out: list[pd.DataFrame | _Raised] = []
    for number, (fold, kind) in enumerate(jobs):
        if kind == "control":
            frame, reshaped = data, caller
        else:
            cutoff = _cutoffs(spec.cv, data)[fold]
            frame, perturbed = _perturbed_frames(
                data, spec.perturbation, cutoff, kind, np.random.default_rng([spec.seed, number])
            )
            reshaped = _as_callers(perturbed, caller)
        try:
            model, baselines = restore(snap, caller, reshaped)
        except Exception as exc:  # NOTE: e.g. a function of the user's script memoised with lru_cache
            raise _Unrestorable(f"{type(exc).__name__}: {exc}") from exc
        try:
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
            got = run_plan(plan, folds=None if kind == "control" else [fold]).frame
        except Exception as exc:  # NOTE: a model that fails on the perturbed data has read it: judged, never lost
            out.append(_Raised(f"{type(exc).__name__}: {' '.join(str(exc).split())}"))
            continue
        out.append(_forecasts_of(plan, got if kind == "control" else got[got["fold"] == fold]))
    return out


def _cutoffs(cv: Any, data: pd.DataFrame) -> list[Any]:
    from .split import fold_spans

    return [f.cutoff for f in fold_spans(cv, data)]


def _rerun_pickled(payload: bytes) -> tuple[str, Any]:
    """The fresh process's side: ``("ok", forecasts)``, or ``("unrestorable", why)`` when the snapshot does not load.

    NOTE: the snapshot is restored only with each job's own data, so nothing in this process sees the
    clean data before a perturbed rerun (every value it could cache is itself perturbed).
    """
    snap, caller, data, spec, jobs = pickle.loads(payload)
    try:
        return "ok", _rerun(snap, caller, data, spec, jobs)
    except _Unrestorable as exc:
        return "unrestorable", str(exc)


def _advance(bar: Progress, done: int, _: object) -> None:
    """A finished process's jobs, counted on the progress bar."""
    bar.update(done)


def _max_diff(got: pd.DataFrame | _Raised, expected: pd.DataFrame) -> tuple[float, bool]:
    """The largest difference between two forecast frames, and whether they are identical (shape, keys, bits)."""
    if isinstance(got, _Raised):
        return float("inf"), False
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
        self, plan: Plan, df: Any, cv: Any, snap: Snapshot, options: AuditOptions, *, progress: bool | None
    ) -> None:
        declared = plan.covariates
        self.perturbation = _Perturbation(
            plan.freq,
            plan.horizon,
            (TARGET, *(declared.past_only if declared else ())),
            tuple(declared.known_future) if declared else (),
        )
        # NOTE: the screen ran on the clean data; on perturbed data it would take the audit's own changes for leaks.
        unscreened = replace(declared, screen="off") if declared else None
        spec = _Reruns(
            cv, plan.season, plan.refit, unscreened, plan.levels, plan.interval_method, self.perturbation, options.seed
        )
        self.plan, self.progress = plan, progress
        kinds = options.perturbations
        self.jobs = [
            (fold.index, kind)
            for fold in plan.folds
            for kind in (kinds if options.exhaustive else [kinds[fold.index % len(kinds)]])
        ]
        self.runner = _Runner(snap, df, from_pandas(as_pandas(df)[0]), spec, options.fresh_process)
        if frame_kind(df) != "pandas":
            self.runner.notes.append(
                f"The data came as a {frame_kind(df)} frame: the reruns rebuild that frame on the perturbed data, "
                "but not data a model took from it, which make the verdict incomplete (pass a pandas frame to have "
                "its columns and their views rebuilt too)."
            )
        self.unswappable = snap.unswappable
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
        notes = runner.notes
        rows = []
        for (fold_index, kind), got in zip(self.jobs, perturbed, strict=True):
            diff, same = _max_diff(got, expected[expected["fold"] == fold_index].reset_index(drop=True))
            rows.append((fold_index, plan.folds[fold_index].cutoff, kind, diff, same))
            if isinstance(got, _Raised):
                notes.append(f"Fold {fold_index}'s {kind} rerun raised {got.error}")
        # NOTE: where a fold changed, a control rerun of the whole backtest on the data as they are (every fold, in
        # order, as the clean run) tells a leak from forecasts that no rerun reproduces
        changed = sorted({fold for fold, _, _, _, same in rows if not same})
        with Progress(len(changed) and 1, desc="leakage audit (control)", unit="rerun", enabled=self.progress) as bar:
            controls = runner.run([(-1, "control")], bar) if changed else []
        if controls is None:
            return AuditResult("not run", pd.DataFrame(columns=columns), (), (), tuple(notes))
        for fold_index in changed:
            control = controls[0]
            got = (
                control
                if isinstance(control, _Raised)
                else control[control["fold"] == fold_index].reset_index(drop=True)
            )
            diff, same = _max_diff(got, expected[expected["fold"] == fold_index].reset_index(drop=True))
            rows.append((fold_index, plan.folds[fold_index].cutoff, "control", diff, same))
        if controls and isinstance(controls[0], _Raised):
            notes.append(f"The control rerun raised {controls[0].error}")
        table = pd.DataFrame(rows, columns=columns)
        perturbed_columns = (*self.perturbation.after_cutoff, *self.perturbation.after_horizon)
        kinds = tuple(dict.fromkeys(k for _, k in self.jobs))
        result = AuditResult("passed", table, perturbed_columns, kinds, tuple(notes))
        if result.failed_folds("leak"):
            return dataclasses.replace(result, status="leak")
        if result.failed_folds("not reproducible"):
            return dataclasses.replace(result, status="not reproducible")
        if self.unswappable:
            held = "; ".join(self.unswappable)
            note = (
                f"The models hold data the reruns could not perturb ({held}): a leak through them would go unseen. "
                "Hold the frame, a column of it, or a plain view of a column, or nothing of the data at all."
            )
            return dataclasses.replace(result, status="incomplete", notes=(*notes, note))
        return result


def start_audit(
    plan: Plan, df: Any, cv: Any, snap: Snapshot, options: AuditOptions, *, progress: bool | None = False
) -> PendingAudit:
    """Start auditing the run of ``plan``: its perturbed reruns start in fresh processes now.

    Call it after :func:`snapshot` and before the clean run, so the reruns run while it does;
    then :meth:`PendingAudit.finish` with the forecasts the clean run reported. ``df`` is the
    caller's data; ``progress`` as for :func:`~tsforecast.backtest` (its units are the reruns).
    """
    return PendingAudit(plan, df, cv, snap, options, progress=progress)


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

    :meth:`start` hands jobs to fresh processes at once, one fewer than the cores (the clean run keeps one), at
    most two and at least one (loky starts interpreters that do not
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

        workers = max(1, min(2, len(jobs), (os.cpu_count() or 1) - 1))  # NOTE: the clean run keeps a core
        groups = [jobs[k::workers] for k in range(workers)]  # NOTE: folds dealt round-robin, sizes balanced
        try:
            payloads = [cloudpickle.dumps((self.snap, self.caller, self.data, self.spec, group)) for group in groups]
        except Exception as exc:  # NOTE: a splitter or covariates that cannot be pickled
            problem = f"the run's settings could not be sent to a fresh process ({type(exc).__name__}: {exc})"
            return _Submitted(jobs, groups, problem=problem)
        pool = ProcessPoolExecutor(max_workers=workers)
        return _Submitted(jobs, groups, pool, [pool.submit(_rerun_pickled, payload) for payload in payloads])

    def collect(self, submitted: _Submitted, bar: Progress) -> list[pd.DataFrame | _Raised] | None:
        """The forecasts of each job, in order; None when the reruns could not be made (a note says why)."""
        jobs, problem = submitted.jobs, submitted.problem
        if submitted.futures is not None:
            for future, group in zip(submitted.futures, submitted.groups, strict=True):
                future.add_done_callback(functools.partial(_advance, bar, len(group)))
            try:
                answers = [future.result() for future in submitted.futures]
            except BrokenProcessPool:  # NOTE: never rerun here a model that may end the process it runs in
                self.notes.append(f"The audit could not run: {_DIED}. Look for a model that ends its process.")
                return None
            except Exception as exc:  # NOTE: the payload or the answer did not cross the process boundary
                answers = [("unrestorable", f"{type(exc).__name__}: {exc}")]
            finally:
                submitted.pool.shutdown(wait=True)
            problems = [detail for status, detail in answers if status != "ok"]
            if not problems:
                merged: list[pd.DataFrame | _Raised | None] = [None] * len(jobs)
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
        out: list[pd.DataFrame | _Raised] = []
        for job in jobs:
            try:
                out += _rerun(self.snap, self.caller, self.data, self.spec, [job])
            except _Unrestorable as exc:
                self.notes.append(f"The audit could not run: the models could not be rebuilt ({exc}).")
                return None
            bar.update()
        return out

    def run(self, jobs: list[tuple[int, str]], bar: Progress) -> list[pd.DataFrame | _Raised] | None:
        """:meth:`start` then :meth:`collect`."""
        return self.collect(self.start(jobs), bar)


def perturbed_columns(plan: Plan) -> tuple[str, ...]:
    """The columns of the caller's frame a rerun perturbs: ``y``, the past-only and the known-future covariates."""
    declared = plan.covariates
    return (TARGET, *(declared.past_only if declared else ()), *(declared.known_future if declared else ()))
