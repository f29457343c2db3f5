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

        Known configurations come from the cache; new ones, in order of appearance and at most
        as many as the ``max_fits`` budget allows, are restored from ``memory`` or passed to
        ``cross_validate(candidates, generation)`` at once, which returns None when scikit-learn
        holds their records, or one list of ``error_score`` records per candidate when it
        discarded a batch whose every fit failed. Individuals beyond the budget are left without
        fitness.

        Returns
        -------
        counts : dict
            ``nevals`` (configurations cross-validated), ``restored`` (from ``memory``) and
            ``cache_hits``, for the logbook.
        """
        new = {}  # key -> list of individuals, in order of first appearance
        cached = []
        for ind in offspring:
            if ind.fitness.valid:
                continue
            if ind.key in self.cache:
                cached.append(ind)
            else:
                new.setdefault(ind.key, []).append(ind)
        keys = list(new)
        if self.max_fits is not None:
            budget = (self.max_fits - self.fits_used) // self.n_splits
            self.truncated = len(keys) > budget
            keys = keys[:budget]
        params = {key: new[key][0].params for key in keys}
        memory_keys = {}
        evaluations = {}  # key -> records
        if self.memory_context is not None:
            for key in keys:
                memory_keys[key] = _store.fingerprint(params[key])
                if memory_keys[key] is not None:
                    stored = self.store.get(self.memory_context, memory_keys[key])
                    if stored is not None:
                        evaluations[key] = stored
        n_restored = len(evaluations)
        to_fit = [key for key in keys if key not in evaluations]

        checkpoint = len(self.stored_rows)
        self._store_rows(keys, params, evaluations, generation)
        try:
            failed = cross_validate([params[key] for key in to_fit], generation) if to_fit else None
        except BaseException:
            del self.stored_rows[checkpoint:]
            raise
        if failed is None:
            evaluations.update(zip(to_fit, self._latest_fitted_records(len(to_fit)), strict=True))
            self.n_fitted += len(to_fit)
        else:  # scikit-learn kept no record of the batch: the run keeps them
            evaluations.update(zip(to_fit, failed, strict=True))
            del self.stored_rows[checkpoint:]
            self._store_rows(keys, params, evaluations, generation)

        for key in keys:
            self.cache[key] = _results.fitness(evaluations[key], self.refit)
        for key in to_fit:
            if memory_keys.get(key) is not None:
                self.store.put(self.memory_context, memory_keys[key], evaluations[key])
        n_hits = len(cached)
        for key in keys:
            n_hits += len(new[key]) - 1
            for ind in new[key]:
                _set_fitness(ind, self.cache[key])
        for ind in cached:
            _set_fitness(ind, self.cache[ind.key])
        self.fits_used += (len(to_fit) + n_restored) * self.n_splits
        self.n_evaluated += len(to_fit)
        self.n_restored += n_restored
        self.n_hits += n_hits
        return {"nevals": len(to_fit), "restored": n_restored, "cache_hits": n_hits}

    def _store_rows(self, keys, params, evaluations, generation):
        """Keep the rows of the ``keys`` that have records in ``evaluations``, placed among
        scikit-learn's rows as if the other keys were fitted."""
        n_fitted_before = self.n_fitted
        for key in keys:
            if key in evaluations:
                self.stored_rows.append(
                    _results.StoredRow(params[key], evaluations[key], generation, n_fitted_before)
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
        params, records, generations = _results.merge_stored_rows(
            candidate_params,
            out,
            (more_results or {}).get("generation", []),
            self.stored_rows,
            self.n_splits,
        )
        return params, records, {"generation": generations}

    @property
    def n_rows(self):
        """Rows of ``cv_results_``: configurations fitted or stored."""
        return self.n_fitted + len(self.stored_rows)

    def all_records(self):
        """Every record of every row, scikit-learn's first."""
        return [*self.fitted[1], *(record for row in self.stored_rows for record in row.records)]

    def cross_validate(self, evaluate_candidates, search, candidates, generation):
        """Cross-validate ``candidates`` with scikit-learn's ``evaluate_candidates``.

        The generation reaches ``cv_results_`` through ``more_results``. Returns None when
        scikit-learn holds the candidates' records, or one list of ``error_score`` records per
        candidate when every fit failed and scikit-learn raised instead of keeping them.
        """
        kwargs = {"more_results": {"generation": [generation] * len(candidates)}}
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
            return [
                _results.failed_evaluation(
                    self.n_splits, self.error_score, self.return_train_score, str(exc)
                )
                for _ in candidates
            ]
        finally:
            if generation_ctx is not None:
                generation_ctx.call_on_fit_task_end(estimator=search)
        return None

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
            **_evolution.fitness_statistics(population),
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


def progress_bar(search, n_generations):
    """A tqdm bar over generations when ``search.verbose``, else a context giving None."""
    if not search.verbose:
        return contextlib.nullcontext()
    from tqdm.auto import tqdm

    return tqdm(total=n_generations, desc=type(search).__name__, unit="gen")


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


def _set_fitness(individual, score):
    individual.score = score
    individual.fitness.values = (score if math.isfinite(score) else -math.inf,)
