"""Cheap estimators for the EvolutionarySearchCV tests (no GAN, no real training), and
:func:`evolve`, the one helper that builds the tests' small searches."""

import math
import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from gan_estimators import EvolutionarySearchCV, Integer, Real

#: The parameter space of :class:`Landscape` (``tag`` aside).
LANDSCAPE_SPACE = {"x": Real(0.0, 1.0), "k": Integer(0, 5), "choice": ["a", "b"]}


def evolve(estimator=None, space=None, **kwargs):
    """A small seeded search: 6 individuals, 3 generations, 3-fold CV, ``random_state=0``.

    The estimator defaults to a :class:`Landscape` and the space to ``LANDSCAPE_SPACE``; any
    keyword overrides a default or sets another parameter of ``EvolutionarySearchCV``.
    """
    settings = {"population_size": 6, "generations": 3, "cv": 3, "random_state": 0, **kwargs}
    return EvolutionarySearchCV(
        Landscape() if estimator is None else estimator,
        LANDSCAPE_SPACE if space is None else space,
        **settings,
    )


class Landscape(BaseEstimator):
    """An estimator whose score is a known function of its parameters.

    ``fit`` does nothing but count calls (in this process), fail on purpose for ``x`` below
    ``fail_below``, or raise KeyboardInterrupt as the ``interrupt_at``-th fit; ``score`` is
    highest at ``x = 0.3``, ``k = 2``, ``choice = "b"``, NaN for ``x`` above ``nan_above``, and
    does not depend on ``tag``.
    """

    fit_count = 0

    def __init__(
        self, x=0.0, k=0, choice="a", tag=0, fail_below=None, nan_above=None, interrupt_at=None
    ):
        self.x = x
        self.k = k
        self.choice = choice
        self.tag = tag
        self.fail_below = fail_below
        self.nan_above = nan_above
        self.interrupt_at = interrupt_at

    def fit(self, X, y=None):
        type(self).fit_count += 1
        if type(self).fit_count == self.interrupt_at:
            raise KeyboardInterrupt
        if self.fail_below is not None and self.x < self.fail_below:
            raise ValueError("deliberate failure")
        self.fitted_ = True
        return self

    def score(self, X, y=None):
        if self.nan_above is not None and self.x > self.nan_above:
            return math.nan
        bonus = 0.05 if self.choice == "b" else 0.0
        return -((self.x - 0.3) ** 2) - 0.01 * (self.k - 2) ** 2 + bonus


class EnvProbe(ClassifierMixin, BaseEstimator):
    """A classifier whose "score" reports the thread caps of the process that scored it."""

    def __init__(self, c=1.0, variable="TF_NUM_INTRAOP_THREADS"):
        self.c = c
        self.variable = variable

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y=None):
        value = os.environ.get(self.variable)
        return float(value) if value is not None else -1.0


def landscape_data(n=30):
    return np.zeros((n, 1)), None


def probe_search(variable="TF_NUM_INTRAOP_THREADS", **kwargs):
    """An unfitted search of :class:`EnvProbe` over one gene: 4 candidates, 2 folds."""
    return evolve(
        EnvProbe(variable=variable),
        {"c": Real(0.0, 1.0)},
        population_size=4,
        generations=1,
        cv=2,
        **kwargs,
    )


class ToyTrainingWarning(UserWarning):
    """A warning class of the toy estimator's own, which the search knows nothing about."""


class Budgeted(BaseEstimator):
    """An estimator trained for ``n_steps`` whose score is a known function of ``x`` and of
    the budget: ``-(x - 0.3) ** 2 - n_steps / 1000``, so a smaller budget always scores higher
    (a search that compared scores across budgets would pick a low-budget row).

    ``fit`` records ``n_steps`` and the number of training samples, raises ``n_warnings``
    ``ToyTrainingWarning``s (plus one ``RuntimeWarning`` when ``x > 0.8``) and fails for ``x``
    below ``fail_below``.
    """

    def __init__(self, x=0.5, n_steps=90, n_warnings=0, fail_below=None):
        self.x = x
        self.n_steps = n_steps
        self.n_warnings = n_warnings
        self.fail_below = fail_below

    def fit(self, X, y=None):
        import warnings

        if self.fail_below is not None and self.x < self.fail_below:
            raise ValueError("deliberate failure")
        for _ in range(self.n_warnings):
            warnings.warn(f"toy training at x={self.x}", ToyTrainingWarning, stacklevel=2)
        if self.x > 0.8:
            warnings.warn("x is large", RuntimeWarning, stacklevel=2)
        self.n_steps_ = self.n_steps
        self.n_train_samples_ = len(X)
        return self

    def score(self, X, y=None):
        return -((self.x - 0.3) ** 2) - self.n_steps / 1000
