"""Scorers for ``scoring=`` in any scikit-learn search, for generative estimators.

Each scorer is a callable ``scorer(estimator, X, y=None)`` that draws ``len(X)`` samples from the
fitted estimator, maps them and ``X`` through the estimator's ``feature_map_`` and returns one
sample-quality metric of :mod:`.metrics`, **signed so that greater is better**:

========================  =========================================================  ===========
name                      value                                                      best
========================  =========================================================  ===========
``"fd"``                  −Fréchet distance                                          0
``"kid"``                 −KID (mean over subsets)                                   0
``"sample_precision"``    improved precision, k = 3 (fraction of realistic samples)  1
``"sample_recall"``       improved recall, k = 3 (fraction of the data reproduced)   1
``"density"``             density, k = 5                                             ≈ 1 or more
``"coverage"``            coverage, k = 5 (the best single mode-dropping signal)     1
``"duplicate_fraction"``  −fraction of near-duplicate samples                        0
``"diversity"``           −\\|log(diversity ratio)\\| (0 when as spread as the data)   0
``"loss_balance"``        −the loss-balance fitness of the reference configuration   0
``"fd_worst_class"``      −the largest per-class Fréchet distance (needs ``y``)      0
========================  =========================================================  ===========

``"fd_worst_class"`` scores a conditional estimator (fitted with class labels, so it has
``classes_`` and its ``sample`` takes ``y=``) by its worst class: the minimum over the classes
of ``y`` of the per-class scores that ``score(X, y)`` averages
(:func:`gan_estimators.quality.evaluation.per_class_scores`).  A search with ``fit(X, y)``
passes the fold's labels.  It raises a ``TypeError`` for an estimator without ``classes_`` and
a ``ValueError`` when ``y`` is None, rather than fall back to the pooled score: a search
mixing the two would compare numbers that measure different things.

Usage::

    import gan_estimators
    GridSearchCV(GANEstimator(...), grid, scoring="kid")
    GridSearchCV(GANEstimator(...), grid, scoring=["fd", "coverage"], refit="fd")
    cross_validate(est, X, scoring={"kid": "kid", "prec": gan_estimators.quality.scorers.get_scorer(
        "precision")})

Why ``sample_precision`` and not ``precision``
----------------------------------------------
``"precision"`` and ``"recall"`` already name scikit-learn's classification scorers, and
scikit-learn's own code reads private attributes off the registered objects
(``LogisticRegressionCV`` rebuilds them from ``_score_func`` / ``_response_method``,
``TunedThresholdClassifierCV`` converts them, multi-metric scoring resolves
``_response_method`` on the estimator).  A replacement that delegates to the original for
classifiers would have to impersonate those internals exactly, and could still not make
``scoring=["precision", "recall"]`` work for a generator without changing what
``"precision"`` looks like to that code.  So scikit-learn's registry gets the unambiguous
names ``"sample_precision"`` / ``"sample_recall"`` and its ``"precision"`` / ``"recall"`` are
never touched.  Inside this package's namespace, :func:`get_scorer` also accepts
``"precision"`` and ``"recall"`` for the sample metrics.

How the names reach scikit-learn
--------------------------------
scikit-learn resolves scorer strings through the private dict
``sklearn.metrics._scorer._SCORERS`` (it has no public registration API: the RFC
scikit-learn#17168 was closed), and validates ``scoring`` parameters against
``StrOptions(set(get_scorer_names()))`` sets built when each scikit-learn module was imported.
:func:`register_sklearn_scorers`, run when this module is imported, adds the names above to
that dict (never replacing an existing name), and adds them to the already-built ``scoring``
name sets of the scikit-learn (and this package's) classes and functions imported so far;
modules imported later build their sets from the updated dict.  It imports only
``sklearn.metrics`` and is idempotent.  If a future scikit-learn
changes those internals, registration is skipped with a warning and the scorer objects from
:func:`get_scorer` keep working everywhere as callables.
"""

from __future__ import annotations

import copy
import sys
import warnings

import numpy as np

from gan_estimators.quality.evaluation import evaluate_samples, per_class_scores
from gan_estimators.quality.history import normalized_losses
from gan_estimators.quality.metrics import METRIC_NAMES, as_score

__all__ = [
    "SCORER_NAMES",
    "SampleQualityScorer",
    "WorstClassScorer",
    "get_scorer",
    "get_scorer_names",
    "loss_balance_fitness",
    "loss_balance_scorer",
    "make_sample_scorer",
    "register_sklearn_scorers",
]


class SampleQualityScorer:
    """Scorer ``scorer(estimator, X, y=None) -> float`` for one sample-quality metric.

    Compatible with ``scoring=`` of every scikit-learn search and of ``cross_validate``
    (alone, in a list of names once registered, or as a value of a multi-metric dict).
    Build one with :func:`make_sample_scorer` or :func:`get_scorer`.

    Parameters
    ----------
    metric : str
        A name from :data:`gan_estimators.quality.metrics.METRIC_NAMES`.
    metric_kwargs : dict or None, default=None
        Passed to :func:`gan_estimators.quality.metrics.compute_metrics` (e.g. ``{"pr_k": 5}``).
    """

    def __init__(self, metric, metric_kwargs=None):
        if metric not in METRIC_NAMES:
            raise ValueError(f"unknown metric {metric!r}; expected one of {sorted(METRIC_NAMES)}")
        self.metric = metric
        self.metric_kwargs = dict(metric_kwargs or {})

    def __call__(self, estimator, X, y_true=None, sample_weight=None, **kwargs):
        """Score a fitted generative estimator against real samples ``X`` (``y`` ignored)."""
        if not callable(getattr(estimator, "sample", None)):
            raise TypeError(
                f"the {self.metric!r} sample-quality scorer needs a generative estimator with a "
                f"sample(n, random_state) method; {type(estimator).__name__} has none"
            )
        value = evaluate_samples(estimator, X, [self.metric], **self.metric_kwargs)[self.metric]
        return as_score(self.metric, value)

    # scikit-learn's multi-metric scorer asks every scorer whether to pass sample_weight.
    def _accept_sample_weight(self):
        return False

    def __repr__(self):
        extra = "".join(f", {k}={v!r}" for k, v in self.metric_kwargs.items())
        return f"make_sample_scorer({self.metric!r}{extra})"

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and other.metric == self.metric
            and other.metric_kwargs == self.metric_kwargs
        )

    def __hash__(self):
        return hash((self.metric, tuple(sorted(self.metric_kwargs.items()))))


class WorstClassScorer:
    """Scorer ``scorer(estimator, X, y) -> float``: a conditional estimator's worst class.

    The minimum over the classes of ``y`` of
    :func:`gan_estimators.quality.evaluation.per_class_scores` (each class's samples,
    requested with ``sample(n, y=label)``, against the rows of ``X`` of that class; greater is
    better), so it equals ``min(estimator.per_class_scores_.values())`` after
    ``estimator.score(X, y)``.

    Parameters
    ----------
    metric : str, default="fd"
        A name from :data:`gan_estimators.quality.metrics.METRIC_NAMES`.

    Raises
    ------
    TypeError
        When called on an estimator without ``classes_`` (not fitted with class labels).
    ValueError
        When called without labels ``y``.
    """

    def __init__(self, metric="fd"):
        if metric not in METRIC_NAMES:
            raise ValueError(f"unknown metric {metric!r}; expected one of {sorted(METRIC_NAMES)}")
        self.metric = metric

    def __call__(self, estimator, X, y_true=None, sample_weight=None, **kwargs):
        """The worst per-class score of ``estimator`` against ``X`` with labels ``y_true``."""
        name = f"{self.metric}_worst_class"
        if getattr(estimator, "classes_", None) is None:
            raise TypeError(
                f"the {name!r} scorer needs a conditional estimator (fitted with class labels, "
                f"with classes_); {type(estimator).__name__} has no classes_: use "
                f"scoring={self.metric!r} for an unconditional one"
            )
        if y_true is None:
            raise ValueError(
                f"the {name!r} scorer needs the labels y of X (pass y to the search's or "
                "cross_validate's fit)"
            )
        return float(min(per_class_scores(estimator, X, y_true, self.metric).values()))

    def _accept_sample_weight(self):
        return False

    def __repr__(self):
        return f"WorstClassScorer({self.metric!r})"

    def __eq__(self, other):
        return type(other) is type(self) and other.metric == self.metric

    def __hash__(self):
        return hash((type(self).__name__, self.metric))


def make_sample_scorer(metric, **metric_kwargs):
    """Build a greater-is-better scorer for one metric of :mod:`gan_estimators.quality.metrics`.

    Parameters
    ----------
    metric : {"fd", "kid", "precision", "recall", "density", "coverage", \
"duplicate_fraction", "diversity"}
        The metric, signed by :func:`gan_estimators.quality.metrics.as_score`: FD, KID and the
        duplicate fraction are negated; the diversity ratio ``r`` becomes ``-|log r|``.
    **metric_kwargs
        Options of :func:`gan_estimators.quality.metrics.compute_metrics`: ``pr_k``, ``dc_k``,
        ``duplicate_quantile``, ``kid_subsets``, ``kid_subset_size``.

    Returns
    -------
    SampleQualityScorer
    """
    return SampleQualityScorer(metric, metric_kwargs)


def loss_balance_fitness(history):
    """The fitness of the reference configuration: mean of the min–max-normalised losses.

    Each of ``critic_real``, ``critic_fake`` and ``generator_loss`` is rescaled to [0, 1]
    over the run by :func:`gan_estimators.quality.history.normalized_losses` (a constant
    series becomes 0, a non-finite value NaN); the three are averaged per step, and the
    result is averaged over the steps.  It says how the losses moved during a run -- 0 when
    they sat at their minimum throughout -- not how good the samples are; the package offers
    it to reproduce the reference search (:doc:`/user_guide/reference_configuration`).

    Parameters
    ----------
    history : dict of str to sequence
        The estimator's ``history_``; only ``critic_real``, ``critic_fake`` and
        ``generator_loss`` are read.

    Returns
    -------
    float
        In [0, 1] (NaN when a loss diverged); lower means the losses spent the run closer to
        their minimum.

    Raises
    ------
    KeyError
        If ``history`` lacks one of the three losses.
    ValueError
        If the history is empty.
    """
    per_step = normalized_losses(history)["mean"]
    if per_step.size == 0:
        raise ValueError("history is empty: fit the estimator first")
    return float(np.mean(per_step))


def loss_balance_scorer(estimator, X=None, y=None, **kwargs):
    """Scorer of the reference configuration's loss-balance fitness, negated: greater is better.

    Reads only ``estimator.history_`` (``X`` and ``y`` are ignored), so it costs nothing, and
    the value is the same on every fold.  Minimising the normalised losses is the only reading
    of the reference fitness under which a search prefers runs whose losses went down.

    Returns
    -------
    float
        ``-loss_balance_fitness(estimator.history_)``.
    """
    history = getattr(estimator, "history_", None)
    if history is None:
        raise TypeError(
            f"loss_balance needs a fitted estimator with history_; {type(estimator).__name__} "
            "has none"
        )
    return -loss_balance_fitness(history)


loss_balance_scorer._accept_sample_weight = lambda: False


_SCORERS = {
    "fd": make_sample_scorer("fd"),
    "kid": make_sample_scorer("kid"),
    "sample_precision": make_sample_scorer("precision"),
    "sample_recall": make_sample_scorer("recall"),
    "density": make_sample_scorer("density"),
    "coverage": make_sample_scorer("coverage"),
    "duplicate_fraction": make_sample_scorer("duplicate_fraction"),
    "diversity": make_sample_scorer("diversity"),
    "loss_balance": loss_balance_scorer,
    "fd_worst_class": WorstClassScorer("fd"),
}

# Accepted by this module's get_scorer only: scikit-learn's registry keeps its own meaning.
_PACKAGE_ALIASES = {"precision": "sample_precision", "recall": "sample_recall"}

#: Names registered with scikit-learn.
SCORER_NAMES = tuple(_SCORERS)


def get_scorer_names():
    """Names of this package's scorers (all also resolvable through scikit-learn)."""
    return list(SCORER_NAMES)


def get_scorer(scoring):
    """Get a scorer by name, falling back to scikit-learn's for other names.

    Parameters
    ----------
    scoring : str or callable
        A name from :data:`SCORER_NAMES`; ``"precision"`` or ``"recall"`` (the sample
        metrics here, unlike in scikit-learn); any other scikit-learn scorer name; or a
        callable, returned unchanged.

    Returns
    -------
    callable
        A scorer (a fresh copy for a name).
    """
    if isinstance(scoring, str):
        name = _PACKAGE_ALIASES.get(scoring, scoring)
        if name in _SCORERS:
            return copy.deepcopy(_SCORERS[name])
        from sklearn.metrics import get_scorer as sklearn_get_scorer

        return sklearn_get_scorer(scoring)
    if callable(scoring):
        return scoring
    raise TypeError(f"scoring must be a name or a callable, got {type(scoring).__name__}")


# --------------------------------------------------------------------------------------------
# Registration with scikit-learn
# --------------------------------------------------------------------------------------------

# Names every scikit-learn scorer-name set contains; used to recognise those sets.
_MARKERS = frozenset({"accuracy", "r2", "neg_mean_squared_error"})


def _scoring_name_sets(module_prefixes=("sklearn", "gan_estimators")):
    """Yield the ``StrOptions`` option sets of ``scoring`` parameters built so far."""
    from sklearn.utils._param_validation import StrOptions

    seen = set()
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.split(".")[0] not in module_prefixes:
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, type):
                constraints = obj.__dict__.get("_parameter_constraints")
            elif callable(obj):
                constraints = getattr(obj, "_skl_parameter_constraints", None)
            else:
                continue
            if not isinstance(constraints, dict):
                continue
            for constraint in constraints.get("scoring", ()):
                options = getattr(constraint, "options", None)
                if (
                    isinstance(constraint, StrOptions)
                    and isinstance(options, set)
                    and id(options) not in seen
                    and _MARKERS <= options
                ):
                    seen.add(id(options))
                    yield options


def register_sklearn_scorers():
    """Make this package's scorer names resolvable by scikit-learn (idempotent).

    Adds each name of :data:`SCORER_NAMES` to scikit-learn's scorer registry unless the name
    is already taken, and to the ``scoring`` name sets used by parameter validation of the
    scikit-learn classes and functions imported so far.  Runs when this module is imported.

    Returns
    -------
    list of str
        The names now resolving to this package's scorers.
    """
    try:
        from sklearn.metrics import _scorer
    except ImportError:  # pragma: no cover - scikit-learn is a hard dependency
        return []
    registry = getattr(_scorer, "_SCORERS", None)
    if not isinstance(registry, dict):
        warnings.warn(
            "gan_estimators could not register its scorer names with this scikit-learn "
            "version (no sklearn.metrics._scorer._SCORERS dict); pass "
            "gan_estimators.quality.scorers.get_scorer(name) as scoring instead of the name.",
            UserWarning,
            stacklevel=2,
        )
        return []
    ours = []
    for name, scorer in _SCORERS.items():
        current = registry.get(name)
        if current is None:
            registry[name] = scorer
            ours.append(name)
        elif current is scorer or current == scorer:
            ours.append(name)
    try:
        for options in _scoring_name_sets():
            options.update(ours)
    except ImportError:  # pragma: no cover - private module moved; validation may reject
        pass
    return ours


register_sklearn_scorers()
