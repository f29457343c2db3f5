"""Continued training of promoted configurations (``continue_promoted=True``).

By default multi-fidelity evolution (:mod:`gan_estimators.search.fidelity`) trains every
(configuration, budget) from scratch. With ``continue_promoted=True`` a configuration promoted
from one budget to the next continues the training it had instead: the search runs the fits of
multi-fidelity generations itself (:mod:`gan_estimators.search.own_fits`) and keeps, for each
configuration that may still be promoted, the estimator fitted on every cross-validation split.

The convention
    ``resource`` names an estimator parameter that is a budget *per call*: ``fit`` trains for
    ``resource``, and each ``partial_fit`` trains for ``resource`` more, continuing the same
    model. At the lowest budget ``b0`` every split's estimator is fitted from scratch with
    ``resource=b0``; promoted from ``b`` to ``B``, it is continued with
    ``set_params(resource=B - b)`` and ``partial_fit`` on the split's training set (with the
    fit parameters ``fit`` gets), then scored on the split's test set. A configuration
    continued to ``B`` has thus trained for ``b0 + (b1 - b0) + ... + (B - b) = B``, as much as
    one trained from scratch for ``B``. Estimators whose ``partial_fit`` ignores the parameter
    (scikit-learn's ``SGDClassifier.partial_fit`` runs one epoch whatever ``max_iter``) do not
    follow the convention: leave ``continue_promoted`` off for them.
Rows
    ``cv_results_`` keeps one row per (configuration, budget), with ``rung`` and
    ``n_resources``; the ``fit_time`` of a continued row is the time of its continuation only.
    The refit trains a new estimator from scratch for ``max_resources``.
Memory held
    A configuration's estimators are held while it may still be promoted: after each rung's
    promotion, those of the configurations not promoted are dropped, and none is kept at the
    top budget; at the end of a generation nothing is held.
``memory=``
    Stores records, never estimators. A lowest-budget row is an ordinary fit and shares its
    entry with a search that restarts promoted configurations; a continued row is stored under
    its configuration, its budget and the budgets it was continued through, so it never stands
    for a row trained from scratch, nor the reverse. A configuration promoted from a row
    restored from ``memory`` to a budget that is not stored has no estimators to continue: it
    is trained again along the same ladder (from scratch at the lowest budget, then continued
    budget by budget), so its scores are those of an uninterrupted run, and its ``fit_time`` is
    that whole training.
"""

import warnings

import joblib
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection._validation import _warn_or_raise_about_fit_failures

from gan_estimators.search import own_fits as _own_fits
from gan_estimators.search.fidelity import N_SAMPLES


def check(search):
    """Check that ``search`` can continue promoted configurations, if it is asked to.

    Raises
    ------
    ValueError
        Before any fit, when ``continue_promoted=True`` without a ``resource`` that is an
        estimator parameter, with an estimator without ``partial_fit``, or with
        ``algorithm="steady_state"``.
    """
    if not search.continue_promoted:
        return
    if search.resource is None or search.resource == N_SAMPLES:
        raise ValueError(
            "continue_promoted=True needs resource set to a budget parameter of the estimator "
            f"(such as 'n_steps'), got resource={search.resource!r}"
        )
    if not hasattr(search.estimator, "partial_fit"):
        raise ValueError(
            "continue_promoted=True needs an estimator with partial_fit, which "
            f"{type(search.estimator).__name__} lacks"
        )
    if search.algorithm == "steady_state":
        raise ValueError(
            "continue_promoted=True does not work with algorithm='steady_state': it promotes a "
            "configuration at any later time, so every fitted estimator would have to be kept; "
            "use a generational algorithm"
        )


class Continuation:
    """The fits of a multi-fidelity search that continues promoted configurations.

    Parameters
    ----------
    search : EvolutionarySearchCV
        The search being fitted.
    run : gan_estimators.search.run.SearchRun
        The run's state, with its schedule and ``fit_data``.
    """

    def __init__(self, search, run):
        self.setup = _own_fits.prepare(search, run)
        self.schedule = run.schedule
        self.n_splits = run.n_splits
        self.base_estimator = clone(search.estimator)
        self.n_jobs, self.pre_dispatch = search.n_jobs, search.pre_dispatch
        self.error_score = search.error_score
        # key -> (rung, one estimator per split, None for a split whose training failed)
        self.held = {}

    def evaluate(self, keys, params, rung):
        """Train the configurations ``keys`` to the budget of ``rung`` and score them.

        ``params`` maps each key to its configuration. Held estimators are continued; a
        configuration without any is trained from scratch along the ladder up to ``rung``.

        Returns
        -------
        records : list of list of dict
            One record per split for each key, in order.
        """
        schedule, splits = self.schedule, self.setup.splits[0]
        keep = rung < schedule.top
        tasks = []
        for key in keys:
            start, estimators = self.held.get(key, (None, None))
            fresh = None
            if estimators is None:
                start, fresh = 0, schedule.candidate(params[key], 0)
                estimators = [clone(self.base_estimator) for _ in splits]
            increments = [schedule.budgets[r + 1] - schedule.budgets[r] for r in range(start, rung)]
            plan = (fresh, schedule.resource, increments, keep)
            for index, (train, test) in enumerate(splits):
                tasks.append(
                    joblib.delayed(_own_fits.train_split)(
                        estimators[index],
                        self.setup.X,
                        self.setup.y,
                        train,
                        test,
                        plan,
                        self.setup.fit_and_score_kwargs,
                        (key, index),
                    )
                )
        parallel = joblib.Parallel(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch)
        records = {key: [None] * self.n_splits for key in keys}
        trained = {key: [None] * self.n_splits for key in keys}
        for (key, index), record, estimator in parallel(tasks):
            records[key][index], trained[key][index] = record, estimator
        for key in keys:
            self.held.pop(key, None)
            if keep:
                self.held[key] = (rung, trained[key])
        self._warn_about_failures([record for key in keys for record in records[key]])
        return [records[key] for key in keys]

    def keep_only(self, keys):
        """Drop the estimators of every configuration but ``keys`` (those promoted)."""
        kept = set(keys)
        for key in [key for key in self.held if key not in kept]:
            del self.held[key]

    def clear(self):
        """Drop every estimator held."""
        self.held.clear()

    def _warn_about_failures(self, records):
        """What ``evaluate_candidates`` does with failed fits, except that a batch whose every
        fit failed is kept (with a warning) rather than raised, as the search does there."""
        try:
            _warn_or_raise_about_fit_failures(records, self.error_score)
        except ValueError as exc:
            warnings.warn(str(exc), FitFailedWarning, stacklevel=5)
