"""``score()`` and ``diagnostics_`` for generative estimators (:class:`GenerativeScoreMixin`).

Works for any estimator following the contract of ``CONTRIBUTING.md``: a ``sample(n,
random_state=None)`` method returning data shaped and scaled like the training data,
``random_state`` and ``feature_map`` constructor parameters, and a ``history_`` dict after
``fit``, whose ``fit`` calls ``self._fit_sample_quality(X)`` at its end.  An estimator
whose ``sample`` also takes ``y=`` (one class label) and that has ``classes_`` is scored
class by class when ``score`` gets labels (:func:`per_class_scores`), and diagnosed class
by class when its ``fit`` ends with ``self._fit_sample_quality(X, y)``.  No TensorFlow
import.
"""

from __future__ import annotations

import contextlib
import hashlib
import numbers
import warnings
import weakref

import numpy as np

from gan_estimators._random import derive_seed, draw_seed
from gan_estimators.quality.diagnostics import GANTrainingWarning, diagnose
from gan_estimators.quality.feature_base import _as_samples, _single_threaded_blas
from gan_estimators.quality.features import resolve_feature_map
from gan_estimators.quality.metrics import as_score, compute_metrics

__all__ = [
    "GenerativeScoreMixin",
    "evaluate_samples",
    "fit_feature_map",
    "forget_features",
    "per_class_scores",
]

# Entropy tags: evaluation samples never reuse the latent vectors of training, and the feature
# map's subsampling, the diagnostics sample and the score sample are independent streams.
_TAG_SCORE = 0x5C0E
_TAG_FEATURES = 0xFEA7
_TAG_DIAGNOSTICS = 0xD1A6

#: Samples drawn after ``fit`` for the diagnostics (and real training samples compared).
DIAGNOSTIC_SAMPLES = 1000

#: For a conditional model, each class gets ``DIAGNOSTIC_SAMPLES`` shared out among the
#: classes, but at least this many samples (fewer only when the class has fewer training
#: samples): the neighbourhood metrics need a few dozen per class to mean anything.
DIAGNOSTIC_SAMPLES_PER_CLASS = 100


def purpose_seed(random_state, tag):
    """An int seed for one purpose, derived from an estimator's ``random_state``.

    An int (or None, which stands for a fixed default so that scores are repeatable and
    candidates of a search are compared on the same latent vectors) gives the same seed every
    time; a RandomState / Generator instance is advanced, as scikit-learn does with instances.
    """
    if random_state is None:
        return derive_seed(tag, bits=32)
    if isinstance(random_state, numbers.Integral):
        return derive_seed(int(random_state) % 2**32, tag, bits=32)
    return draw_seed(random_state)


def warn_flagged(estimator, report, *, stacklevel):
    """A :class:`~gan_estimators.quality.diagnostics.GANTrainingWarning` for each failure
    mode of ``report`` that tripped; ``stacklevel`` counts from this function."""
    for name, mode in report.items():
        if mode.flagged:
            warnings.warn(
                f"{type(estimator).__name__}: {name.replace('_', ' ')}: {mode.reason} "
                f"Remedy: {mode.remedy} (details in diagnostics_)",
                GANTrainingWarning,
                stacklevel=stacklevel,
            )


def _draw(estimator, n, seed, label=None):
    if label is None:
        samples = estimator.sample(n, random_state=seed)
    else:
        samples = estimator.sample(n, y=label, random_state=seed)
    if isinstance(samples, tuple):  # e.g. GaussianMixture.sample returns (X, labels)
        samples = samples[0]
    return samples


def _digest(X):
    data = np.ascontiguousarray(X)
    h = hashlib.blake2b(digest_size=16)
    h.update(str((data.shape, data.dtype.str)).encode())
    h.update(data.view(np.uint8).reshape(-1))
    return h.hexdigest()


# estimator -> (key, real_features, fake_features).  Multi-metric scoring calls one scorer per
# metric on the same fold: the features are computed once.  Weak keys: the cache never keeps
# an estimator alive and is never pickled with it.
_feature_cache = weakref.WeakKeyDictionary()


def _features(estimator, X, label=None):
    """Features of ``X`` and of ``len(X)`` samples of ``estimator`` (of class ``label``
    unless None), in its feature space."""
    X = _as_samples(X)
    n = X.shape[0]
    if n < 2:
        raise ValueError(f"scoring samples needs at least 2 samples in X, got {n}")
    seed = purpose_seed(getattr(estimator, "random_state", None), _TAG_SCORE)
    mapping = getattr(estimator, "feature_map_", None)
    key = None
    if mapping is not None:
        key = (id(mapping), _digest(X), seed, label)
        try:
            cached = _feature_cache.get(estimator)
        except TypeError:  # unhashable or not weak-referenceable
            cached = None
        if cached is not None and cached[0] == key and cached[1] is mapping:
            return cached[2], cached[3]
    with _single_threaded_blas():
        if mapping is None:
            # An estimator outside this package's contract has no stored feature map: compare
            # in the default space fitted on X itself.
            mapping = resolve_feature_map(
                getattr(estimator, "feature_map", "auto"),
                X,
                random_state=purpose_seed(getattr(estimator, "random_state", None), _TAG_FEATURES),
            )
        real = mapping.transform(X)
        fake = mapping.transform(_draw(estimator, n, seed, label))
    if key is not None:
        with contextlib.suppress(TypeError):
            _feature_cache[estimator] = (key, mapping, real, fake)
    return real, fake


def forget_features(estimator):
    """Drop the features that scoring cached for ``estimator``.

    :func:`evaluate_samples` (and so ``score``) reuses the features of its previous call on
    the same data with the same ``feature_map_``, which is right while the estimator does not
    change.  Code that changes what ``estimator.sample`` returns without fitting a new map --
    training iterations between two scores -- calls this so that the next score draws and
    maps new samples.
    """
    with contextlib.suppress(TypeError):  # not weak-referenceable: nothing was cached
        _feature_cache.pop(estimator, None)


def fit_feature_map(estimator, X):
    """Set ``estimator.feature_map_`` fitted on its training data ``X``, as ``fit`` does.

    The map is the one ``_fit_sample_quality`` fits at the end of ``fit``: the
    ``feature_map`` parameter fitted with a seed derived from ``random_state`` (the same map
    for an int or None; a RandomState instance is advanced).  The features cached for
    ``estimator`` are forgotten.

    Parameters
    ----------
    estimator : estimator with ``feature_map`` and ``random_state`` parameters
    X : array-like
        The training data, in its original scale and shape.

    Returns
    -------
    feature map
        The fitted ``estimator.feature_map_``.
    """
    forget_features(estimator)
    with _single_threaded_blas():
        estimator.feature_map_ = resolve_feature_map(
            getattr(estimator, "feature_map", "auto"),
            _as_samples(X),
            random_state=purpose_seed(getattr(estimator, "random_state", None), _TAG_FEATURES),
        )
    return estimator.feature_map_


def evaluate_samples(estimator, X, metrics=("fd",), **metric_kwargs):
    """Compare ``len(X)`` samples of a fitted generative estimator with ``X``.

    The samples are drawn with ``estimator.sample(len(X), random_state=seed)``, the seed being
    derived from ``estimator.random_state`` (fixed for an int or None), and both sets are
    mapped through ``estimator.feature_map_`` (fitted on the training data by ``fit``; an
    estimator without one is compared in the default feature map fitted on ``X``).

    Parameters
    ----------
    estimator : fitted estimator with ``sample``
    X : array-like
        Real samples (e.g. a held-out fold), shaped and scaled like the training data.
    metrics : iterable of str, default=("fd",)
        Names from :data:`gan_estimators.quality.metrics.METRIC_NAMES`.
    **metric_kwargs
        Passed to :func:`gan_estimators.quality.metrics.compute_metrics` (``pr_k``, ``dc_k``, ...).

    Returns
    -------
    dict
        Metric name -> value in the metric's own convention (lower FD is better, ...).
    """
    real, fake = _features(estimator, X)
    with _single_threaded_blas():
        return compute_metrics(real, fake, list(metrics), **metric_kwargs)


def per_class_scores(estimator, X, y, metric="fd"):
    """The score of a conditional estimator for each class of the labels ``y`` of ``X``.

    For each distinct label ``c`` of ``y``, ``len(X[y == c])`` samples drawn with
    ``estimator.sample(n, y=c, random_state=seed)`` are compared with ``X[y == c]`` as
    :func:`evaluate_samples` compares them (the same seed for every class), and the metric
    is signed so that greater is better.

    Parameters
    ----------
    estimator : fitted estimator whose ``sample`` takes ``y=`` (one class label)
    X : array-like
        Real samples, shaped and scaled like the training data.
    y : array-like of shape (n_samples,)
        The label of each sample of ``X``.
    metric : str, default="fd"
        A name from :data:`gan_estimators.quality.metrics.METRIC_NAMES`.

    Returns
    -------
    dict
        Label -> score, in sorted label order.

    Raises
    ------
    ValueError
        Naming ``y`` when a class has fewer than 2 samples in ``X`` or ``y`` is not one
        label per sample.
    """
    X = _as_samples(X)
    labels = np.asarray(y)
    if labels.shape != (X.shape[0],):
        raise ValueError(
            f"y must hold one label per sample of X ({X.shape[0]}); got shape {labels.shape}."
        )
    scores = {}
    for label in np.unique(labels):
        rows = X[labels == label]
        label = label.item() if isinstance(label, np.generic) else label
        if rows.shape[0] < 2:
            raise ValueError(
                f"y: class {label!r} has {rows.shape[0]} sample in X; scoring a class needs "
                "at least 2."
            )
        real, fake = _features(estimator, rows, label)
        with _single_threaded_blas():
            value = compute_metrics(real, fake, [metric])[metric]
        scores[label] = as_score(metric, value)
    return scores


class GenerativeScoreMixin:
    """Give a generative estimator ``score`` and, after ``fit``, ``feature_map_`` and
    ``diagnostics_``.

    The estimator's ``fit`` must end with ``self._fit_sample_quality(X)`` (``X`` the training
    data in its original scale and shape).

    Notes
    -----
    ``score`` is the negative Fréchet distance (see :meth:`score` for why FD).  Most of its
    time is the estimator's own ``sample``: the feature maps and FD are cheap in comparison.
    """

    #: Metric returned (signed) by :meth:`score`.
    _score_metric = "fd"

    def score(self, X, y=None):
        """Negative Fréchet distance between ``len(X)`` generated samples and ``X``.

        Both sets go through ``feature_map_``, fitted on the training data during ``fit``
        (so a cross-validation test fold never influences the feature space).  The samples
        are drawn with a seed derived from ``random_state`` (a fixed one when it is None), so
        repeated calls give the same score and candidates of a search are compared on the
        same latent vectors.  Greater is better; 0 is a perfect match.

        FD rather than KID is the default because it punishes a collapsed generator much
        harder: KID's penalty for collapsing onto ``m`` points is bounded by about ``0.7 / m``
        in a standardised feature space, FD's is not (the user guide's page on metrics
        compares the two on collapsed and blurred samples).  FD is biased in the sample size,
        which is harmless here because every candidate is scored on the same folds; use
        ``scoring="kid"`` to compare across sample sizes.

        With labels ``y`` (for an estimator fitted with class labels, whose ``sample`` takes
        ``y=``), the score is the mean over the classes of ``y`` of each class's score
        (:func:`per_class_scores`: that class's samples against the rows of ``X`` of that
        class), and ``per_class_scores_`` holds them.

        Parameters
        ----------
        X : array-like
            At least 2 real samples (a held-out fold, say), shaped and scaled like the
            training data.
        y : array-like of shape (n_samples,) or None, default=None
            Labels of ``X``: used by an estimator with ``classes_`` (at least 2 samples of
            each class), ignored otherwise.

        Returns
        -------
        float
        """
        if y is None or getattr(self, "classes_", None) is None:
            value = evaluate_samples(self, X, [self._score_metric])[self._score_metric]
            return as_score(self._score_metric, value)
        self.per_class_scores_ = per_class_scores(self, X, y, self._score_metric)
        return float(np.mean(list(self.per_class_scores_.values())))

    def _fit_sample_quality(self, X, y=None):
        """Fit ``feature_map_`` on the training data and compute ``diagnostics_``.

        With the training labels ``y`` of a conditional model (one with ``classes_``), the
        report also holds the class-by-class checks: for each class of ``y``, real training
        samples of the class and samples requested with ``sample(n, y=label)`` (as many,
        ``DIAGNOSTIC_SAMPLES`` shared out among the classes, at least
        ``DIAGNOSTIC_SAMPLES_PER_CLASS`` each), and ``class_prior_`` (else the shares of
        ``y``) as the class shares.

        Warns with :class:`~gan_estimators.quality.diagnostics.GANTrainingWarning` for each failure
        mode that trips.
        """
        X = _as_samples(X)
        fit_feature_map(self, X)
        random_state = getattr(self, "random_state", None)
        with _single_threaded_blas():
            n = min(X.shape[0], DIAGNOSTIC_SAMPLES)
            rng = np.random.RandomState(purpose_seed(random_state, _TAG_DIAGNOSTICS))
            real = X[np.sort(rng.choice(X.shape[0], n, replace=False))]
            fake = _draw(self, n, draw_seed(rng))
            real_features = self.feature_map_.transform(real)
            fake_features = self.feature_map_.transform(fake)
            by_class = {}
            if y is not None and getattr(self, "classes_", None) is not None:
                by_class = self._class_features(X, y, rng)
            self.diagnostics_ = diagnose(
                getattr(self, "history_", None),
                real_features=real_features,
                fake_features=fake_features,
                loss=getattr(self, "loss", None),
                **by_class,
            )
        warn_flagged(self, self.diagnostics_, stacklevel=3)

    def _class_features(self, X, y, rng):
        """The class-by-class arguments of ``diagnose``: features of real training samples
        and of requested samples of each class of ``y``, and the classes' shares."""
        labels = np.asarray(y)
        if labels.shape != (X.shape[0],):
            raise ValueError(
                f"y must hold one label per sample of X ({X.shape[0]}); got shape {labels.shape}."
            )
        present, counts = np.unique(labels, return_counts=True)
        per_class = max(DIAGNOSTIC_SAMPLES // len(present), DIAGNOSTIC_SAMPLES_PER_CLASS)
        classes, shares = present, counts / counts.sum()
        if getattr(self, "class_prior_", None) is not None:
            classes, shares = np.asarray(self.classes_), np.asarray(self.class_prior_)
        prior = dict(zip(classes.tolist(), shares.tolist(), strict=True))
        real, fake, class_prior = {}, {}, {}
        for label in present:
            rows = np.flatnonzero(labels == label)
            rows = np.sort(rng.choice(rows, min(rows.size, per_class), replace=False))
            label = label.item() if isinstance(label, np.generic) else label
            real[label] = self.feature_map_.transform(X[rows])
            fake[label] = self.feature_map_.transform(_draw(self, rows.size, draw_seed(rng), label))
            class_prior[label] = prior[label]
        return {
            "real_class_features": real,
            "fake_class_features": fake,
            "class_prior": class_prior,
        }
