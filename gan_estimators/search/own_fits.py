"""Cross-validation fits the search runs itself, outside scikit-learn's ``evaluate_candidates``.

The steady-state algorithm (:mod:`gan_estimators.search.steady_state`) dispatches its fits as
workers free up, and continued training (:mod:`gan_estimators.search.continuation`) needs the
fitted estimators back; ``evaluate_candidates`` does neither. Both prepare their fits here as
``evaluate_candidates`` would (:func:`prepare`: indexable data, routed parameters, scorers, the
splits of every rung) and produce the records scikit-learn's ``_fit_and_score`` produces, with
the warnings of each fit collected into its record (:mod:`gan_estimators.search.quiet`).
"""

import time
from dataclasses import dataclass
from traceback import format_exc

from sklearn.base import clone
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.model_selection._validation import _fit_and_score, _score
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params, _num_samples, indexable

from gan_estimators.search import quiet as _quiet


@dataclass
class FitSetup:
    """What every fit of a search needs, prepared once per ``fit``.

    Attributes
    ----------
    X, y : indexable
        The data.
    fit_and_score_kwargs : dict
        The keyword arguments of ``_fit_and_score`` that do not depend on the candidate or the
        split (scorers, routed fit and score parameters, ``error_score``, ...).
    splits : list of list
        Per rung (one entry without ``resource``), the ``(train, test)`` index pairs.
    """

    X: object
    y: object
    fit_and_score_kwargs: dict
    splits: list


def prepare(search, run):
    """The :class:`FitSetup` of ``search`` for the data of ``run`` (``run.fit_data``).

    Raises
    ------
    ValueError
        If ``cv.split`` gives another number of splits than ``cv.get_n_splits``.
    """
    X, y, params = run.fit_data
    X, y = indexable(X, y)
    routed = search._get_routed_params_for_fit(_check_method_params(X, params=params))
    scorers, _ = search._get_scorers()
    fit_and_score_kwargs = {
        "scorer": scorers,
        "fit_params": routed.estimator.fit,
        "score_params": routed.scorer.score,
        "return_train_score": search.return_train_score,
        "return_n_test_samples": True,
        "return_times": True,
        "return_parameters": False,
        "error_score": search.error_score,
        "verbose": search.verbose,
    }
    cv = search._checked_cv_orig
    n_rungs = 1 if run.schedule is None else run.schedule.top + 1
    splits = []
    for rung in range(n_rungs):
        splitter = cv if run.schedule is None else run.schedule.splits(cv, rung) or cv
        rung_splits = list(splitter.split(X, y, **routed.splitter.split))
        if len(rung_splits) != run.n_splits:
            raise ValueError(
                "cv.split and cv.get_n_splits return inconsistent results. Expected "
                f"{run.n_splits} splits, got {len(rung_splits)}"
            )
        splits.append(rung_splits)
    return FitSetup(X, y, fit_and_score_kwargs, splits)


def evaluate_split(estimator, X, y, train, test, parameters, fit_and_score_kwargs, tag):
    """scikit-learn's ``_fit_and_score`` of one (configuration, split), with its warnings
    collected into the record (see :mod:`gan_estimators.search.quiet`); returns
    ``(tag, record)``."""
    record, summary = _quiet.call_quietly(
        _fit_and_score,
        estimator,
        X,
        y,
        train=train,
        test=test,
        parameters=parameters,
        **fit_and_score_kwargs,
    )
    record.update(summary)
    return tag, record


def train_split(estimator, X, y, train, test, plan, fit_and_score_kwargs, tag):
    """Train one split's estimator along ``plan``, score it, and return it with its record.

    ``plan`` is ``(fresh, resource, increments, keep)``: ``fresh`` (a dict) sets these
    parameters on ``estimator`` and fits it from scratch, None continues the fitted
    ``estimator``; then, for each value of ``increments``, the parameter ``resource`` is set
    to it and ``partial_fit`` trains on. ``estimator`` None stands for a split whose earlier
    training failed: the record is a failure too. The record is the one ``_fit_and_score``
    makes (``fit_time`` the time of this training, ``fit_error`` the traceback of a
    failure), with the warnings collected; the estimator comes back only when ``keep`` is
    true and the training succeeded.

    Returns
    -------
    tag, record, estimator
    """
    (record, trained), summary = _quiet.call_quietly(
        _train_and_score, estimator, X, y, train, test, plan, **fit_and_score_kwargs
    )
    record.update(summary)
    return tag, record, trained


def _train_and_score(
    estimator,
    X,
    y,
    train,
    test,
    plan,
    *,
    scorer,
    fit_params,
    score_params,
    return_train_score,
    error_score,
    **_,
):
    fresh, resource, increments, keep = plan
    if estimator is None:
        failure = f"not continued: this split's training failed at a lower {resource}"
        return _failed(failure, 0.0, len(test), scorer, return_train_score, error_score), None
    fit_params = _check_method_params(X, params=fit_params or {}, indices=train)
    score_params = score_params or {}
    X_train, y_train = _safe_split(estimator, X, y, train)
    X_test, y_test = _safe_split(estimator, X, y, test, train)
    start = time.time()
    try:
        if fresh is not None:
            estimator = estimator.set_params(**clone(fresh, safe=False))
            _call(estimator.fit, X_train, y_train, fit_params)
        for increment in increments:
            estimator.set_params(**{resource: increment})
            _call(estimator.partial_fit, X_train, y_train, fit_params)
    except Exception:
        if error_score == "raise":
            raise
        record = _failed(
            format_exc(), time.time() - start, len(test), scorer, return_train_score, error_score
        )
        return record, None
    record = {"fit_error": None}
    record["fit_time"] = time.time() - start
    test_params = _check_method_params(X, params=score_params, indices=test)
    record["test_scores"] = _score(estimator, X_test, y_test, scorer, test_params, error_score)
    record["score_time"] = time.time() - start - record["fit_time"]
    if return_train_score:
        train_params = _check_method_params(X, params=score_params, indices=train)
        record["train_scores"] = _score(
            estimator, X_train, y_train, scorer, train_params, error_score
        )
    record["n_test_samples"] = _num_samples(X_test)
    return record, estimator if keep else None


def _failed(message, fit_time, n_test_samples, scorer, return_train_score, error_score):
    """The record ``_fit_and_score`` makes of a failed fit."""
    scores = error_score
    if isinstance(scorer, _MultimetricScorer):
        scores = dict.fromkeys(scorer._scorers, error_score)
    record = {"fit_error": message, "test_scores": scores}
    if return_train_score:
        record["train_scores"] = scores
    record.update(n_test_samples=n_test_samples, fit_time=fit_time, score_time=0.0)
    return record


def _call(method, X, y, fit_params):
    if y is None:
        method(X, **fit_params)
    else:
        method(X, y, **fit_params)
