"""One run of :class:`~gan_estimators.EvolutionarySearchCV`: its state and how it assesses a
generation.

A :class:`SearchRun` lives for one ``fit``. It holds the private generator, the genetic
algorithm, the in-run fitness cache, the ``memory`` store, the rows scikit-learn does not hold
(see :mod:`gan_estimators.search.results`) and what the stopping rules read. Its
:meth:`~SearchRun.assess` gives a fitness to every individual of a generation: from the cache,
from ``memory``, or from one cross-validation of the new configurations.
"""

import contextlib
import math
import numbers
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import FitFailedWarning

from gan_estimators.search import evolution as _evolution
from gan_estimators.search import fidelity as _fidelity
from gan_estimators.search import results as _results
from gan_estimators.search import store as _store
from gan_estimators.search.space import SearchSpace


@dataclass
class SearchRun:
    """Per-fit state of a search; dropped when ``fit`` returns (it must not outlive the fit).

    The settings (``n_splits`` to ``return_train_score``) are the search's; the search sets
    them, the evolution, the logbook, the callbacks, the callback context and the progress bar
    when the run begins.
    """

    space: SearchSpace
    rng: np.random.Generator
    store: _store.PersistentStore | None = None
    data_token: str | None = None
    memory_context: str | None = None
    n_splits: int = 0
    max_fits: int | None = None
    refit: object = True
    error_score: object = math.nan
    return_train_score: bool = False
    evolution: _evolution.Evolution | None = None
    logbook: object = None
    callbacks: list = field(default_factory=list)
    search_ctx: object = None
    progress: object = None
    start: float = 0.0
    # configuration key -> fitness (NaN for failed configurations)
    cache: dict = field(default_factory=dict)
    # configurations whose records scikit-learn does not hold, and the number it holds
    stored_rows: list = field(default_factory=list)
    n_fitted: int = 0
    # scikit-learn's own (candidate_params, records, more_results), which it extends in place
    fitted: tuple = field(default_factory=lambda: ([], [], {}))
    # the one results dict handed to scikit-learn, refreshed by every formatting
    results: dict = field(default_factory=dict)
    warning_filter: _results.WarningFilter = field(default_factory=_results.WarningFilter)
    # the first generation's configurations (gan_estimators.search.initial.seeds)
    seeds: list = field(default_factory=list)
    # the callback that collects the warnings of candidate fits, where scikit-learn calls it
    candidate_warnings: object = None
    # the budgets of multi-fidelity evolution (gan_estimators.search.fidelity.Schedule)
    schedule: object = None
    # multi-fidelity: key -> (highest rung reached, score there)
    reached: dict = field(default_factory=dict)
    # continue_promoted: the fits of promoted configurations
    # (gan_estimators.search.continuation.Continuation)
    continuation: object = None
    # (X, y, fit parameters) of the fit, for algorithms that run their own fits
    fit_data: tuple = ()
    # what the stopping rules read
    fits_used: int = 0
    best_so_far: float = -math.inf
    stale_generations: int = 0
    truncated: bool = False
    stop_requested: bool = False
    # totals of the logbook's counts
    n_evaluated: int = 0
    n_restored: int = 0
    n_hits: int = 0

    def assess(self, offspring, generation, cross_validate):
        """Give a fitness to every individual of ``offspring`` that lacks one.

        Known configurations come from the cache; new ones, in order of appearance, are
        evaluated (:meth:`evaluate`). With multi-fidelity the schedule assesses them instead
        (:func:`gan_estimators.search.fidelity.assess`). Individuals beyond the ``max_fits``
        budget are left without fitness.

        Returns
        -------
        counts : dict
            ``nevals`` (configurations cross-validated), ``restored`` (from ``memory``) and
            ``cache_hits``, for the logbook.
        """
        if self.schedule is not None:
            return _fidelity.assess(self, offspring, generation, cross_validate)
        new, cached = _evolution.unassessed(offspring, self.cache.__contains__)
        params = {key: inds[0].params for key, inds in new.items()}
        keys, n_fitted, n_restored = self.evaluate(list(new), params, generation, cross_validate)
        n_hits = len(cached)
        for key in keys:
            n_hits += len(new[key]) - 1
            for ind in new[key]:
                _evolution.set_fitness(ind, self.cache[key])
        for ind in cached:
            _evolution.set_fitness(ind, self.cache[ind.key])
        self.n_hits += n_hits
        return {"nevals": n_fitted, "restored": n_restored, "cache_hits": n_hits}

    def evaluate(self, keys, params, generation, cross_validate, rung=None):
        """Cross-validate, or restore from ``memory``, configurations the cache lacks.

        At most as many of ``keys`` as the ``max_fits`` budget allows are evaluated, in order:
        restored from ``memory``, or passed to ``cross_validate(candidates, generation, rung)``
        at once, which returns None when scikit-learn holds their records, or one list of
        ``error_score`` records per candidate when it discarded a batch whose every fit failed.
        With ``continuation`` set, the run trains and scores them itself instead
        (:mod:`gan_estimators.search.continuation`) and keeps their records. Their fitness is
        cached under the key (with the rung, at a budget ``rung``).

        Returns
        -------
        keys : list
            The keys evaluated.
        n_fitted, n_restored : int
            How many were cross-validated and restored.
        """
        if self.max_fits is not None:
            budget = (self.max_fits - self.fits_used) // self.n_splits
            self.truncated = self.truncated or len(keys) > budget
            keys = keys[:budget]
        candidates = {key: params[key] for key in keys}
        memory_keys = {key: params[key] for key in keys}
        if self.schedule is not None:
            candidates = {key: self.schedule.candidate(params[key], rung) for key in keys}
            memory_keys = {key: self.schedule.memory_key(params[key], rung) for key in keys}
        evaluations = {}  # key -> records
        if self.memory_context is not None:
            for key in keys:
                memory_keys[key] = _store.fingerprint(memory_keys[key])
                if memory_keys[key] is not None:
                    stored = self.store.get(self.memory_context, memory_keys[key])
                    if stored is not None:
                        evaluations[key] = stored
        n_restored = len(evaluations)
        to_fit = [key for key in keys if key not in evaluations]

        more = self.more_columns(generation, rung)
        checkpoint = len(self.stored_rows)
        self._store_rows(keys, candidates, evaluations, more)
        try:
            own_records = None
            if to_fit and self.continuation is not None:
                own_records = self.continuation.evaluate(to_fit, params, rung)
            elif to_fit:
                batch = [candidates[key] for key in to_fit]
                own_records = cross_validate(batch, generation, rung)
        except BaseException:
            del self.stored_rows[checkpoint:]
            raise
        if own_records is None:
            evaluations.update(zip(to_fit, self._latest_fitted_records(len(to_fit)), strict=True))
            self.n_fitted += len(to_fit)
        else:  # scikit-learn holds no record of the batch: the run keeps them
            evaluations.update(zip(to_fit, own_records, strict=True))
            del self.stored_rows[checkpoint:]
            self._store_rows(keys, candidates, evaluations, more)

        for key in keys:
            self.cache[key if rung is None else (key, rung)] = _results.fitness(
                evaluations[key], self.refit
            )
        if self.memory_context is not None:
            for key in to_fit:
                if memory_keys[key] is not None:
                    self.store.put(self.memory_context, memory_keys[key], evaluations[key])
        self.fits_used += (len(to_fit) + n_restored) * self.n_splits
        self.n_evaluated += len(to_fit)
        self.n_restored += n_restored
        return keys, len(to_fit), n_restored

    def more_columns(self, generation, rung):
        """The search's own ``cv_results_`` columns of a row: its generation, and with
        multi-fidelity its rung and budget."""
        if rung is None:
            return {"generation": generation}
        return {"generation": generation, "rung": rung, "n_resources": self.schedule.budgets[rung]}

    def _store_rows(self, keys, params, evaluations, more):
        """Keep the rows of the ``keys`` that have records in ``evaluations``, placed among
        scikit-learn's rows as if the other keys were fitted."""
        n_fitted_before = self.n_fitted
        for key in keys:
            if key in evaluations:
                self.stored_rows.append(
                    _results.StoredRow(params[key], evaluations[key], more, n_fitted_before)
                )
            else:
                n_fitted_before += 1

    def _latest_fitted_records(self, n_configurations):
        """scikit-learn's records of the configurations it fitted last, one list for each."""
        records, n_splits = self.fitted[1], self.n_splits
        start = self.n_fitted * n_splits
        return [
            records[start + i * n_splits : start + (i + 1) * n_splits]
            for i in range(n_configurations)
        ]

    def rows_to_format(self, candidate_params, out, more_results):
        """scikit-learn's lists with the stored rows merged in: ``(params, records,
        more_results)`` for scikit-learn's ``_format_results``."""
        self.fitted = (candidate_params, out, more_results)
        return _results.merge_stored_rows(
            candidate_params, out, more_results or {}, self.stored_rows, self.n_splits
        )

    @property
    def n_rows(self):
        """Rows of ``cv_results_``: configurations fitted or stored."""
        return self.n_fitted + len(self.stored_rows)

    def all_records(self):
        """Every record of every row, scikit-learn's first."""
        return [*self.fitted[1], *(record for row in self.stored_rows for record in row.records)]

    def cross_validate(self, evaluate_candidates, search, candidates, generation, rung=None):
        """Cross-validate ``candidates`` with scikit-learn's ``evaluate_candidates``.

        The generation (and rung and budget) reach ``cv_results_`` through ``more_results``;
        the warnings of the fits reach their records (:mod:`gan_estimators.search.quiet`).
        Returns None when scikit-learn holds the candidates' records, or one list of
        ``error_score`` records per candidate when every fit failed and scikit-learn raised
        instead of keeping them.
        """
        more = self.more_columns(generation, rung)
        kwargs = {"more_results": {key: [value] * len(candidates) for key, value in more.items()}}
        if rung is not None and self.schedule.splits(search._checked_cv_orig, rung) is not None:
            kwargs["cv"] = self.schedule.splits(search._checked_cv_orig, rung)
        generation_ctx = None
        if self.search_ctx is not None:
            generation_ctx = self.search_ctx.subcontext(
                task_name="generation",
                max_subtasks=len(candidates) * self.n_splits,
                sequential_subtasks=False,
            ).call_on_fit_task_begin(estimator=search)
            kwargs["callback_ctx"] = generation_ctx
        try:
            with _stdout_above(self.progress):
                evaluate_candidates(candidates, **kwargs)
        except ValueError as exc:
            if self.error_score == "raise" or "fits failed" not in str(exc):
                raise
            warnings.warn(str(exc), FitFailedWarning, stacklevel=4)
            failed = [
                _results.failed_evaluation(
                    self.n_splits, self.error_score, self.return_train_score, str(exc)
                )
                for _ in candidates
            ]
            self._collect_warnings([record for records in failed for record in records])
            return failed
        finally:
            if generation_ctx is not None:
                generation_ctx.call_on_fit_task_end(estimator=search)
        self._collect_warnings(self.fitted[1][-len(candidates) * self.n_splits :])
        return None

    def _collect_warnings(self, records):
        if self.candidate_warnings is not None:
            self.candidate_warnings.collect(records)

    def record(self, generation, counts, population):
        """Log a completed generation, show it, pass it to the callbacks and count staleness.

        Returns the logbook entry. Callbacks see every completed generation, the one that
        ends the search included; ``stop_requested`` tells whether one returned True.
        """
        best = self.evolution.best
        record = {
            "gen": generation,
            **counts,
            "revaried": self.evolution.n_revaried,
            **_evolution.fitness_statistics(
                [ind for ind in population if ind.rung == self.evolution.top_rung]
            ),
            "best": best.fitness.values[0] if best is not None else math.nan,
            "elapsed": time.perf_counter() - self.start,
        }
        self.evolution.n_revaried = 0
        self.logbook.record(**record)
        if self.progress is not None:
            self.progress.set_postfix(best=record["best"], mean=record["mean"], refresh=False)
            self.progress.update(1)
        # a list, not a generator, so that every callback is called
        self.stop_requested = any([bool(callback(dict(record))) for callback in self.callbacks])
        if record["best"] > self.best_so_far:
            self.best_so_far, self.stale_generations = record["best"], 0
        else:
            self.stale_generations += 1
        return record

    def stop_reason(self, search, record):
        """Why the search stops after the generation ``record`` describes, or None to go on.

        The first rule that holds gives the reason: ``"max_fits"`` when the budget cut the
        generation short; ``"patience"`` after ``patience`` generations without a better best
        score; ``"max_time"`` once ``max_time`` seconds have passed; ``"callback"`` when a
        callback returned True; ``"generations"`` after the last generation; ``"max_fits"``
        when the budget left cannot cross-validate one more configuration. A
        ``KeyboardInterrupt`` ends the search at any point with ``"interrupt"``.
        """
        if self.truncated:
            return "max_fits"
        if search.patience is not None and self.stale_generations >= search.patience:
            return "patience"
        if search.max_time is not None and record["elapsed"] >= search.max_time:
            return "max_time"
        if self.stop_requested:
            return "callback"
        if record["gen"] == search.generations - 1:
            return "generations"
        if search.max_fits is not None and search.max_fits - self.fits_used < search.n_splits_:
            return "max_fits"
        return None


def progress_bar(search, total, unit="gen"):
    """A tqdm bar over ``total`` steps of ``unit`` (None: an unknown total) when
    ``search.verbose``, else a context giving None."""
    if not search.verbose:
        return contextlib.nullcontext()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=type(search).__name__, unit=unit)


def warn_if_splits_vary(cv):
    """Warn when ``cv`` gives other splits on every call (generations would not compare)."""
    shuffles = getattr(cv, "shuffle", False) or hasattr(cv, "test_size")
    seed = getattr(cv, "random_state", 0)
    if shuffles and not isinstance(seed, numbers.Integral):
        warnings.warn(
            f"{cv!r} gives different splits on every call, so each generation is scored on "
            "different folds; give it an integer random_state",
            UserWarning,
            stacklevel=4,
        )


def _stdout_above(progress):
    """Route scikit-learn's verbose prints through tqdm so they do not break the bar."""
    if progress is None:
        return contextlib.nullcontext()
    from tqdm.contrib import DummyTqdmFile

    return contextlib.redirect_stdout(DummyTqdmFile(sys.stdout))
