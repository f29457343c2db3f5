"""Multi-fidelity evolution: each generation's configurations climb a ladder of budgets.

With ``resource`` set, :class:`~gan_estimators.EvolutionarySearchCV` scores configurations at
several budgets of one resource (*rungs*): an estimator parameter such as ``n_steps`` or
``max_time``, or ``"n_samples"``, the number of samples cross-validated on (a subsample of
every split, as in :class:`~sklearn.model_selection.HalvingRandomSearchCV`). The budgets run
from ``min_resources``, multiplied by ``factor`` from rung to rung, up to ``max_resources``,
the last (top) rung, whose step may be smaller than ``factor``.

In each generation (:func:`assess`) the new configurations are cross-validated at rung 0; the
best ``ceil(n / factor)`` of the ``n`` scored at a rung in that generation are promoted to the
next rung and cross-validated there anew, successive-halving style, up to the top rung. Only
scores at one budget are compared with one another. An individual carries the score of the
highest rung it reached; selection ranks rungs first (see
:func:`gan_estimators.search.evolution.rank`), and the hall of fame, ``best_*`` and the refit
take top-rung scores only. Each (configuration, budget) is trained from scratch, unless
``continue_promoted=True``: then a promoted configuration continues the training of its lower
rung (:mod:`gan_estimators.search.continuation`).
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import _num_samples

from gan_estimators._random import draw_seed
from gan_estimators.search import evolution as _evolution

#: The resource that subsamples the data instead of setting a parameter.
N_SAMPLES = "n_samples"


@dataclass(frozen=True)
class Schedule:
    """The budgets of a multi-fidelity search.

    Attributes
    ----------
    resource : str
        The estimator parameter the budget sets, or ``"n_samples"``.
    budgets : tuple of int or float
        The budget of every rung, increasing; the last is ``max_resources``.
    factor : float
        One configuration in ``factor`` is promoted from rung to rung.
    n_samples : int
        Samples in the data (the full budget of ``"n_samples"``).
    seed : int
        Seeds the subsamples of ``"n_samples"``: every rung subsamples alike in every
        generation, so its scores compare.
    continued : bool
        Whether promoted configurations continue their training (``continue_promoted``).
    """

    resource: str
    budgets: tuple
    factor: float
    n_samples: int = 0
    seed: int = 0
    continued: bool = False

    @property
    def top(self):
        """The top rung."""
        return len(self.budgets) - 1

    def candidate(self, params, rung):
        """The parameters to cross-validate a configuration with at ``rung``."""
        if self.resource == N_SAMPLES:
            return dict(params)
        return {**params, self.resource: self.budgets[rung]}

    def memory_key(self, params, rung):
        """What identifies the evaluation of ``params`` at ``rung`` in ``memory``: a continued
        evaluation also names the budgets it was continued through."""
        if self.resource == N_SAMPLES:
            return {"params": params, N_SAMPLES: self.budgets[rung], "seed": self.seed}
        if self.continued and rung > 0:
            return {
                "params": self.candidate(params, rung),
                "continued_through": self.budgets[:rung],
            }
        return self.candidate(params, rung)

    def splits(self, cv, rung):
        """The splitter of ``rung``: ``cv`` subsampled for ``"n_samples"`` below the full
        data, else None (the search's own)."""
        if self.resource != N_SAMPLES or self.budgets[rung] >= self.n_samples:
            return None
        return SubsampledSplits(cv, self.budgets[rung] / self.n_samples, self.seed)


class SubsampledSplits:
    """The splits of ``cv`` with ``fraction`` of each training and test set, drawn without
    replacement by a generator seeded with ``seed`` (the same subsets on every call)."""

    def __init__(self, cv, fraction, seed):
        self.cv = cv
        self.fraction = fraction
        self.seed = seed

    def split(self, X, y=None, **params):
        rng = np.random.default_rng(self.seed)
        for train, test in self.cv.split(X, y, **params):
            yield self._subsample(train, rng), self._subsample(test, rng)

    def get_n_splits(self, X=None, y=None, **params):
        return self.cv.get_n_splits(X, y, **params)

    def _subsample(self, indices, rng):
        size = max(1, int(self.fraction * len(indices)))
        return np.sort(rng.choice(np.asarray(indices), size=size, replace=False))


def make_schedule(search, X, rng):
    """The :class:`Schedule` of ``search`` for data ``X``, or None without ``resource``.

    Raises
    ------
    ValueError
        If ``resource`` names no parameter of the estimator or a searched one, or the
        budgets are inconsistent; before any fit.
    """
    resource = search.resource
    if resource is None:
        return None
    own = search.estimator.get_params(deep=True)
    if resource != N_SAMPLES and resource not in own:
        raise ValueError(
            f"resource={resource!r} is not a parameter of {type(search.estimator).__name__} "
            f"(nor 'n_samples'); valid parameters are {sorted(own)}"
        )
    if resource in search.param_space:
        raise ValueError(
            f"resource={resource!r} is also searched in param_space: the budget sets it, so "
            "remove it from param_space"
        )
    n_samples = _num_samples(X)
    if resource == N_SAMPLES:
        integral, default_max = True, n_samples
    else:
        value = own[resource]
        integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if value is None and search.max_resources is not None:
            given = (search.min_resources, search.max_resources)
            integral = all(isinstance(v, numbers.Integral) for v in given if v is not None)
        default_max = value if isinstance(value, numbers.Real) and value > 0 else None
    max_resources = search.max_resources if search.max_resources is not None else default_max
    if max_resources is None:
        raise ValueError(
            f"max_resources must be given: the estimator's {resource}={own.get(resource)!r} "
            "is no budget"
        )
    if resource == N_SAMPLES and max_resources > n_samples:
        raise ValueError(
            f"max_resources={max_resources} exceeds the {n_samples} samples of the data"
        )
    min_resources = search.min_resources
    if min_resources is None:
        min_resources = max_resources / search.factor**2
        if integral:
            min_resources = max(1, math.ceil(min_resources))
    if not min_resources < max_resources:
        raise ValueError(
            f"min_resources={min_resources!r} must be smaller than max_resources={max_resources!r}"
        )
    seed = draw_seed(rng) if resource == N_SAMPLES else 0
    return Schedule(
        resource,
        budgets(min_resources, max_resources, search.factor, integral),
        float(search.factor),
        n_samples,
        seed,
        bool(search.continue_promoted),
    )


def budgets(min_resources, max_resources, factor, integral):
    """``min_resources * factor**i`` below ``max_resources``, then ``max_resources``; ints
    (rounded, each at least one above the last) when ``integral``."""
    ladder = []
    value = float(min_resources)
    while value < max_resources:
        budget = round(value) if integral else value
        if not ladder or budget > ladder[-1]:
            ladder.append(budget)
        value *= factor
    top = int(max_resources) if integral else float(max_resources)
    if ladder and ladder[-1] >= top:
        ladder.pop()
    return (*ladder, top)


def assess(run, offspring, generation, cross_validate):
    """Give a fitness to every individual of ``offspring`` that lacks one, rung by rung.

    New configurations are cross-validated at rung 0; at every rung the best
    ``ceil(n / factor)`` of the ``n`` configurations scored there in this generation (finite
    scores only, ties in order of appearance) are promoted to the next. Each individual gets
    the score of the highest rung its configuration reached; configurations met in an earlier
    generation are cache hits and are not promoted again. With ``run.continuation``, the
    estimators of configurations not promoted are dropped at each rung, and all at the end.

    Returns
    -------
    counts : dict
        ``nevals`` ((configuration, budget) pairs cross-validated), ``restored`` and
        ``cache_hits``, for the logbook.
    """
    schedule = run.schedule
    new, cached = _evolution.unassessed(offspring, run.reached.__contains__)
    params = {key: inds[0].params for key, inds in new.items()}
    n_fitted = n_restored = 0
    climbing = list(new)
    continuation = run.continuation
    try:
        for rung in range(schedule.top + 1):
            if rung > 0:
                climbing = promoted(
                    [(key, run.cache[(key, rung - 1)]) for key in climbing], schedule.factor
                )
                if continuation is not None:
                    continuation.keep_only(climbing)
            if not climbing:
                break
            climbing, fitted, restored = run.evaluate(
                climbing, params, generation, cross_validate, rung
            )
            n_fitted, n_restored = n_fitted + fitted, n_restored + restored
            for key in climbing:
                run.reached[key] = (rung, run.cache[(key, rung)])
    finally:
        if continuation is not None:
            continuation.clear()
    n_hits = len(cached)
    for key, inds in new.items():
        if key in run.reached:
            n_hits += len(inds) - 1
            for ind in inds:
                rung, score = run.reached[key]
                _evolution.set_fitness(ind, score, rung)
    for ind in cached:
        rung, score = run.reached[ind.key]
        _evolution.set_fitness(ind, score, rung)
    run.n_hits += n_hits
    return {"nevals": n_fitted, "restored": n_restored, "cache_hits": n_hits}


def promoted(scored, factor, rounding=math.ceil):
    """The keys of the best ``rounding(len(scored) / factor)`` of ``scored`` ((key, score)
    pairs), best first; NaN scores are never promoted.

    ``math.ceil`` promotes at least one of a complete batch; the steady-state search, which
    promotes while scores still arrive, passes ``math.floor`` (asynchronous successive
    halving: a configuration is promoted once it is in the top ``1/factor`` of all those
    scored at its rung so far).
    """
    n_promoted = int(rounding(len(scored) / factor))
    finite = [(key, score) for key, score in scored if math.isfinite(score)]
    finite.sort(key=lambda pair: -pair[1])  # stable: ties keep their order of appearance
    return [key for key, _ in finite[:n_promoted]]


def best_index(results, metric, top):
    """Index of the best row at the top rung by ``rank_test_<metric>``, or of the first top
    row when none has a finite score (scikit-learn's ``_select_best_index`` on those rows)."""
    rows = np.flatnonzero(np.asarray(results["rung"]) == top)
    if rows.size == 0:
        raise ValueError(
            "No configuration reached the top budget (max_resources): there is no best one. "
            "Give the search more max_fits or time."
        )
    ranks = np.asarray(results[f"rank_test_{metric}"])[rows]
    return int(rows[np.argmin(ranks)])
