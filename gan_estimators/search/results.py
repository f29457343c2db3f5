"""Results bookkeeping of :class:`~gan_estimators.EvolutionarySearchCV`.

An *evaluation* of a configuration is what scikit-learn's ``_fit_and_score`` returned for each
cross-validation split: a list of ``n_splits`` records (dicts with ``test_scores``,
``fit_time``, ``score_time``, ``fit_error``, ...). scikit-learn keeps the records of every
configuration that went through ``evaluate_candidates``. Two kinds of configurations are
missing from them:

- configurations restored from ``memory`` (no fit this run);
- configurations of a batch in which every fit failed: scikit-learn raises "All the N fits
  failed" for that batch and drops its records, so the search records ``error_score`` for them
  (:func:`failed_evaluation`).

The search keeps these as :class:`StoredRow` objects, and :func:`merge_stored_rows` places them
among scikit-learn's rows, in the order the configurations were first met, so that
scikit-learn's own formatter ranks all of them together.
"""

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np


@dataclass
class StoredRow:
    """A configuration whose records scikit-learn does not hold.

    Attributes
    ----------
    params : dict
        The configuration.
    records : list of dict
        One record per cross-validation split.
    more : dict
        The row's own columns (``generation``; ``rung`` and ``n_resources`` with
        multi-fidelity), as the search passes them to scikit-learn in ``more_results``.
    n_fitted_before : int
        How many of scikit-learn's configurations were met before this one.
    """

    params: dict
    records: list
    more: dict
    n_fitted_before: int


def merge_stored_rows(fitted_params, fitted_records, fitted_more, stored_rows, n_splits):
    """Interleave scikit-learn's rows with the stored ones, in the order they were first met.

    Parameters
    ----------
    fitted_params : list of dict
        scikit-learn's candidate parameters.
    fitted_records : list of dict
        scikit-learn's records, ``n_splits`` per candidate.
    fitted_more : dict of list
        The search's own columns of scikit-learn's candidates (``more_results``).
    stored_rows : list of StoredRow
        The stored rows, in the order they were met.
    n_splits : int
        Cross-validation splits per configuration.

    Returns
    -------
    params, records : list
        The merged rows; the records are harmonised (see :func:`harmonise`) when rows were
        merged in.
    more : dict of list
        The merged columns.
    """
    fitted_more = {key: list(value) for key, value in fitted_more.items()}
    if not stored_rows:
        return list(fitted_params), list(fitted_records), fitted_more
    params, records = [], []
    more = {key: [] for key in (*fitted_more, *stored_rows[0].more)}
    n_taken = 0

    def take_fitted(until):
        nonlocal n_taken
        params.extend(fitted_params[n_taken:until])
        records.extend(fitted_records[n_taken * n_splits : until * n_splits])
        for key, column in more.items():
            column.extend(fitted_more.get(key, [])[n_taken:until])
        n_taken = until

    for row in stored_rows:
        take_fitted(row.n_fitted_before)
        params.append(row.params)
        records.extend(row.records)
        for key, column in more.items():
            column.append(row.more[key])
    take_fitted(len(fitted_params))
    return params, harmonise(records), more


def fitness_metric(test_scores, refit):
    """Name of the score the genetic algorithm maximises, given one record's ``test_scores``.

    Single metric: ``"score"``. Multi-metric: ``refit`` when it names a metric, otherwise the
    first metric.
    """
    if not isinstance(test_scores, dict):
        return "score"
    if isinstance(refit, str) and refit in test_scores:
        return refit
    return next(iter(test_scores))


def fitness(records, refit):
    """Mean over splits of the maximised score, as ``cv_results_['mean_test_<metric>']`` has it.

    A failed record may hold a bare ``error_score`` where others hold one score per metric; it
    counts as that value for every metric.
    """
    scores = []
    for record in records:
        value = record["test_scores"]
        if isinstance(value, dict):
            value = value[fitness_metric(value, refit)]
        scores.append(value if isinstance(value, numbers.Real) else math.nan)
    return float(np.mean(np.asarray(scores, dtype=np.float64)))


def has_finite_score(results, refit, rows=None):
    """Whether the score ``refit`` names (every score when it names none) is finite in any of
    the ``rows`` (a boolean mask; every row when None)."""
    metric = refit if isinstance(refit, str) else None
    rows = slice(None) if rows is None else rows
    return any(
        np.isfinite(np.asarray(value, dtype=np.float64)[rows]).any()
        for key, value in results.items()
        if key == f"mean_test_{metric}" or (metric is None and key.startswith("mean_test_"))
    )


def failed_evaluation(n_splits, error_score, return_train_score, message):
    """Records for a configuration whose every fit failed and that scikit-learn discarded.

    scikit-learn raises "All the N fits failed" for such a batch instead of returning its
    records, so times are unknown (NaN) and the scores are ``error_score``.
    """
    record = {
        "fit_error": message,
        "test_scores": error_score,
        "fit_time": math.nan,
        "score_time": 0.0,
    }
    if return_train_score:
        record["train_scores"] = error_score
    return [dict(record) for _ in range(n_splits)]


def harmonise(records):
    """Make records formattable together by scikit-learn's ``_format_results``.

    Every record gets every key (None where absent), and scalar scores of failed records are
    spread over the metric names when other records are multi-metric (what scikit-learn's
    ``_insert_error_scores`` does within one batch).
    """
    keys = {}
    names = {}
    for record in records:
        keys.update(dict.fromkeys(record))
        for field in ("test_scores", "train_scores"):
            value = record.get(field)
            if isinstance(value, dict) and field not in names:
                names[field] = list(value)
    harmonised = []
    for record in records:
        record = {key: record.get(key) for key in keys}
        for field, metric_names in names.items():
            value = record.get(field)
            if value is not None and not isinstance(value, dict):
                record[field] = dict.fromkeys(metric_names, value)
        harmonised.append(record)
    return harmonised


class WarningFilter:
    """Re-emit scikit-learn's "scores are non-finite" warning only when it says something new.

    ``_format_results`` runs after every generation and warns again about the same NaN rows;
    this lets a warning through only when the number of non-finite mean scores has grown.
    """

    def __init__(self):
        self.n_non_finite = 0

    def replay(self, caught, results):
        """Re-emit the ``caught`` warnings, less the non-finite ones that say nothing new."""
        n_non_finite = sum(
            int(np.sum(~np.isfinite(np.asarray(value, dtype=np.float64))))
            for key, value in results.items()
            if key.startswith(("mean_test_", "mean_train_"))
        )
        grew = n_non_finite > self.n_non_finite
        self.n_non_finite = max(self.n_non_finite, n_non_finite)
        for warning in caught:
            message = str(warning.message)
            if message.startswith("One or more of the") and not grew:
                continue
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
