"""Evaluation records, the in-run fitness cache and its persistent counterpart on ``joblib.Memory``.

An *evaluation* of a configuration is what scikit-learn's ``_fit_and_score`` returned for each
cross-validation split (a list of ``n_splits`` dicts with ``test_scores``, ``fit_time``,
``score_time``, ``fit_error``, ...). The search keeps these records so that configurations
evaluated earlier -- restored from ``memory`` or whose whole batch failed -- can be formatted into
``cv_results_`` by scikit-learn's own ``_format_results`` next to the ones evaluated now.
"""

import math
import numbers
import os
import warnings

import joblib
import numpy as np


def _stored_evaluation(context, key, evaluation=None):
    """Return ``evaluation``: cached by joblib.Memory under (context, key) only."""
    return evaluation


class PersistentStore:
    """A key -> evaluation store on a ``joblib.Memory``, through its public caching API.

    The identity function :func:`_stored_evaluation` is cached with ``evaluation`` excluded from
    the hash, so calling it with a value stores that value under ``(context, key)``, and
    ``check_call_in_cache`` tells whether a key is present without computing anything.

    Parameters
    ----------
    memory : str, os.PathLike or joblib.Memory
        A folder, or a Memory object (a Memory whose location is None stores nothing).
    """

    def __init__(self, memory):
        if isinstance(memory, (str, os.PathLike)):
            memory = joblib.Memory(memory, verbose=0)
        self.memory = memory
        self._cached = memory.cache(_stored_evaluation, ignore=["evaluation"], verbose=0)

    def get(self, context, key):
        """Return the stored evaluation, or None."""
        if not self._cached.check_call_in_cache(context, key):
            return None
        return self._cached(context, key)

    def put(self, context, key, evaluation):
        """Store ``evaluation`` unless ``key`` is already stored."""
        if not self._cached.check_call_in_cache(context, key):
            self._cached(context, key, evaluation=evaluation)


def fingerprint(obj):
    """joblib hash of ``obj``, or None when it cannot be hashed (e.g. a lambda)."""
    try:
        return joblib.hash(obj)
    except Exception:  # pickling errors come in many types
        return None


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
