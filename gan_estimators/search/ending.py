"""How a fit of :class:`~gan_estimators.EvolutionarySearchCV` ends after its last generation.

:func:`end_search` records why the search stopped, formats the final ``cv_results_``, prints the
summary of the candidates' warnings and decides how ``fit`` goes on: re-raise an interrupt,
raise when nothing can be refitted, or let scikit-learn's ``BaseSearchCV.fit`` pick the best
and refit. When every configuration was restored from ``memory`` there is no fit for
scikit-learn to finish from, and :func:`finish_without_fits` does its steps instead.
"""

import time

from sklearn.base import clone
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.utils.validation import _check_method_params, indexable

from gan_estimators.search import quiet as _quiet
from gan_estimators.search import results as _results


class NothingFitted(Exception):
    """Raised out of ``_run_search`` when every configuration came from ``memory``."""


def end_search(search, stop):
    """Record why the search stopped and decide how ``fit`` goes on."""
    run = search._state
    search.stop_reason_ = stop
    search.n_candidates_evaluated_ = run.n_evaluated
    search.n_candidates_restored_ = run.n_restored
    search.cache_hits_ = run.n_hits
    search.hall_of_fame_ = [
        {"params": dict(ind.params), "score": ind.score} for ind in run.evolution.hall_of_fame
    ]
    if run.search_ctx is not None:
        run.search_ctx.call_on_fit_task_end(estimator=search)
    interrupted = stop == "interrupt"
    if run.n_rows == 0:
        if interrupted:
            raise KeyboardInterrupt
        raise ValueError("the search evaluated no configuration")  # pragma: no cover
    candidate_params, out, more_results = run.fitted
    results = search._format_results(candidate_params, search.n_splits_, out, more_results)
    run.final_results = results
    records = run.all_records()
    if search.verbose >= 1:
        for line in _quiet.summary(records, search.n_splits_):
            print(f"{type(search).__name__}: candidate fits raised {line}")
    top_rows = None if run.schedule is None else results["rung"] == run.schedule.top
    has_finite = _results.has_finite_score(results, search.refit, top_rows)
    if interrupted and not search.refit_on_interrupt:
        search.cv_results_ = results
        if has_finite and (search.refit is True or isinstance(search.refit, str)):
            set_best_from(search, results)
        raise KeyboardInterrupt
    if all(record.get("fit_error") is not None for record in records):
        # what scikit-learn's searches do when every fit fails
        search.cv_results_ = results
        raise ValueError(
            f"All the {len(records)} fits of the {run.n_rows} configurations failed; set "
            "error_score='raise' to see the errors (FitFailedWarning gave them)."
        )
    if search.refit and not callable(search.refit) and not has_finite:
        search.cv_results_ = results
        raise ValueError(
            "No configuration obtained a finite score"
            + ("" if run.schedule is None else " at the top budget (max_resources)")
            + ": there is nothing to refit. "
            "Set refit=False to keep the results."
        )
    if run.n_fitted == 0:
        raise NothingFitted


def keep_results_of_interrupted_refit(search):
    """After a ``KeyboardInterrupt``: if the search had finished, its results are kept.

    scikit-learn stores ``cv_results_`` only after the refit, so an interrupt during the refit
    would otherwise lose every completed generation; ``best_index_``, ``best_params_`` and
    ``best_score_`` were set before the refit started; the unfinished ``best_estimator_`` is
    removed.
    """
    results = getattr(search._state, "final_results", None)
    if results is not None:
        search.cv_results_ = results
        search.stop_reason_ = "interrupt"
        search.__dict__.pop("best_estimator_", None)


def finish_without_fits(search, X, y, params):
    """Complete ``fit`` when every configuration was restored from ``memory``.

    ``BaseSearchCV.fit`` needs at least one fresh fit; this performs the steps it takes after
    ``_run_search`` (best index, best score and params, refit, scorer) on the restored rows.
    """
    scorers, refit_metric = search._get_scorers()
    results = search._state.results
    scores = [record["test_scores"] for record in search._state.all_records()]
    first_scores = next((s for s in scores if isinstance(s, dict)), scores[0])
    search.multimetric_ = isinstance(first_scores, dict)
    if callable(search.scoring) and search.multimetric_:
        search._check_refit_for_multimetric(first_scores)
        refit_metric = search.refit
    if search.refit or not search.multimetric_:
        search.best_index_ = search._select_best_index(search.refit, refit_metric, results)
        if not callable(search.refit):
            search.best_score_ = results[f"mean_test_{refit_metric}"][search.best_index_]
        search.best_params_ = results["params"][search.best_index_]
    if search.refit:
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed_params = search._get_routed_params_for_fit(params)
        search.best_estimator_ = clone(search.estimator).set_params(
            **clone(search.best_params_, safe=False)
        )
        start = time.time()
        if y is not None:
            search.best_estimator_.fit(X, y, **routed_params.estimator.fit)
        else:
            search.best_estimator_.fit(X, **routed_params.estimator.fit)
        search.refit_time_ = time.time() - start
        if hasattr(search.best_estimator_, "feature_names_in_"):
            search.feature_names_in_ = search.best_estimator_.feature_names_in_
    search.scorer_ = scorers._scorers if isinstance(scorers, _MultimetricScorer) else scorers
    search.cv_results_ = results


def set_best_from(search, results):
    metric = search.refit if isinstance(search.refit, str) else "score"
    if f"rank_test_{metric}" not in results:
        return
    search.best_index_ = search._select_best_index(search.refit, metric, results)
    search.best_score_ = results[f"mean_test_{metric}"][search.best_index_]
    search.best_params_ = results["params"][search.best_index_]
