"""Multi-fidelity evolution with ``continue_promoted=True``: a promoted configuration continues
its lower budget's training by ``partial_fit`` instead of restarting, and ends with the steps of
one trained from scratch to its budget."""

import gc
import weakref
from typing import ClassVar

import numpy as np
import pytest
from _search_toys import Budgeted, evolve
from sklearn.base import BaseEstimator
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import KFold

from gan_estimators import Real

SPACE = {"x": Real(0.0, 1.0)}
BUDGETS = (10, 30, 90)


class Stepper(BaseEstimator):
    """Trains ``n_steps`` steps per ``fit`` / ``partial_fit`` call; ``n_steps_`` counts all.

    ``calls_`` lists the steps of each call since the last ``fit``; ``trained_`` adds up
    ``steps * sum(X)`` of every call, so a score that reads it tells which data each call got.
    The score, ``-(x - 0.3) ** 2 - n_steps_ / 1000 + 1e-4 * trained_ - 1e-5 * len(calls_)``,
    is highest at low budgets and tells a continued estimator from one trained from scratch.
    ``fail_below`` makes ``fit`` fail for smaller ``x``; ``fits`` counts the calls of ``fit``.
    While ``live`` (a class-level WeakSet) is not None, every fitted instance joins it and each
    ``partial_fit`` appends ``(n_steps, fitted instances alive)`` to ``alive_at_continuation``.
    """

    fits = 0
    live = None
    alive_at_continuation: ClassVar[list] = []

    def __init__(self, x=0.5, n_steps=10, fail_below=None):
        self.x = x
        self.n_steps = n_steps
        self.fail_below = fail_below

    def fit(self, X, y=None):
        type(self).fits += 1
        if self.fail_below is not None and self.x < self.fail_below:
            raise ValueError("deliberate failure")
        self.n_steps_, self.calls_, self.trained_ = 0, [], 0.0
        if type(self).live is not None:
            type(self).live.add(self)
        return self._train(X)

    def partial_fit(self, X, y=None):
        if not hasattr(self, "n_steps_"):
            return self.fit(X, y)
        if type(self).live is not None:
            gc.collect()
            type(self).alive_at_continuation.append((self.n_steps, len(type(self).live)))
        return self._train(X)

    def _train(self, X):
        self.n_steps_ += self.n_steps
        self.calls_.append(self.n_steps)
        self.trained_ += self.n_steps * float(np.sum(X))
        return self

    def score(self, X, y=None):
        return (
            -((self.x - 0.3) ** 2)
            - self.n_steps_ / 1000
            + 1e-4 * self.trained_
            - 1e-5 * len(self.calls_)
        )


def _steps(estimator, X, y=None):
    return estimator.n_steps_


def _calls(estimator, X, y=None):
    return len(estimator.calls_)


SCORING = {"score": lambda estimator, X, y=None: estimator.score(X), "steps": _steps}


def data(n=30):
    return np.random.default_rng(0).random((n, 2)), None


def ladder(estimator=None, **kwargs):
    """Budgets 10, 30, 90 of ``n_steps``, continued; 9 individuals, 2 generations, 2-fold CV."""
    settings = {
        "resource": "n_steps",
        "min_resources": BUDGETS[0],
        "max_resources": BUDGETS[-1],
        "continue_promoted": True,
        "population_size": 9,
        "generations": 2,
        "cv": KFold(2),
        **kwargs,
    }
    return evolve(Stepper() if estimator is None else estimator, SPACE, **settings)


def assert_same_results(first, second):
    assert first.keys() == second.keys()
    for key in first:
        if key == "params":
            assert first[key] == second[key]
        elif not key.endswith("_time"):
            np.testing.assert_array_equal(np.asarray(first[key]), np.asarray(second[key]), key)


@pytest.mark.parametrize("algorithm", ["simple", "mu_plus_lambda", "cma-es", "de"])
def test_a_continued_candidate_ends_with_the_steps_of_one_trained_from_scratch(algorithm):
    scoring = {**SCORING, "calls": _calls}
    search = ladder(algorithm=algorithm, scoring=scoring, refit="score").fit(*data())
    results = search.cv_results_
    np.testing.assert_array_equal(results["mean_test_steps"], results["n_resources"])
    # fitted at the lowest budget, then one partial_fit per promotion
    np.testing.assert_array_equal(results["mean_test_calls"], results["rung"] + 1)
    assert set(results["rung"]) == {0, 1, 2}
    scratch = ladder(algorithm=algorithm, scoring=scoring, refit="score", continue_promoted=False)
    scratch_results = scratch.fit(*data()).cv_results_
    np.testing.assert_array_equal(
        scratch_results["mean_test_steps"], scratch_results["n_resources"]
    )
    assert (scratch_results["mean_test_calls"] == 1).all()


def test_continued_rows_score_as_continuing_by_hand():
    X, _ = data()
    search = ladder().fit(X)
    results = search.cv_results_
    top = np.flatnonzero(results["rung"] == 2)
    assert top.size == 2  # one configuration per generation reaches the top budget
    for row in top:
        x = results["params"][row]["x"]
        for split, (train, test) in enumerate(KFold(2).split(X)):
            by_hand = Stepper(x=x, n_steps=10).fit(X[train])
            for increment in (20, 60):
                by_hand.set_params(n_steps=increment).partial_fit(X[train])
            assert results[f"split{split}_test_score"][row] == by_hand.score(X[test])
            scratch = Stepper(x=x, n_steps=90).fit(X[train])
            assert results[f"split{split}_test_score"][row] != scratch.score(X[test])


def test_promotion_and_best_are_those_of_the_budgets_and_the_refit_starts_from_scratch():
    search = ladder(scoring=SCORING, refit="score").fit(*data())
    results = search.cv_results_
    for generation in (0, 1):
        mine = results["generation"] == generation
        lower = np.flatnonzero(mine & (results["rung"] == 0))
        for rung in (1, 2):
            upper = np.flatnonzero(mine & (results["rung"] == rung))
            ranked = sorted(lower, key=lambda i: -results["mean_test_score"][i])[
                : -(-lower.size // 3)
            ]
            assert sorted(results["params"][i]["x"] for i in upper) == sorted(
                results["params"][i]["x"] for i in ranked
            )
            lower = upper
    assert results["rung"][search.best_index_] == 2
    assert search.best_params_["n_steps"] == 90
    assert search.best_estimator_.calls_ == [90]


def test_estimators_of_configurations_not_promoted_are_dropped():
    Stepper.live, Stepper.alive_at_continuation = weakref.WeakSet(), []
    try:
        ladder(generations=3).fit(*data())
        alive = list(Stepper.alive_at_continuation)
    finally:
        Stepper.live = None
    # 9 configurations x 2 splits fitted at the lowest budget, then 3 and 1 promoted: only the
    # promoted ones' estimators live on, and none of an earlier generation
    to_30 = [n_alive for increment, n_alive in alive if increment == 20]
    to_90 = [n_alive for increment, n_alive in alive if increment == 60]
    assert len(to_30) >= 6 and len(to_90) >= 2
    assert max(to_30) <= 6 and max(to_90) <= 2, alive


def test_same_results_with_one_or_two_jobs_and_on_a_rerun():
    first = ladder(scoring=SCORING, refit="score").fit(*data())
    again = ladder(scoring=SCORING, refit="score").fit(*data())
    assert_same_results(first.cv_results_, again.cv_results_)
    parallel = ladder(scoring=SCORING, refit="score", n_jobs=2).fit(*data())
    assert_same_results(first.cv_results_, parallel.cv_results_)


def test_memory_restores_continued_rows_and_never_mixes_them_with_restarted_ones(tmp_path):
    plain = ladder().fit(*data())
    stored = ladder(memory=tmp_path).fit(*data())
    assert_same_results(plain.cv_results_, stored.cv_results_)
    restored = ladder(memory=tmp_path).fit(*data())
    assert restored.n_candidates_evaluated_ == 0
    assert restored.n_candidates_restored_ == len(plain.cv_results_["params"])
    assert_same_results(plain.cv_results_, restored.cv_results_)

    other = tmp_path / "restarted"
    ladder(memory=other, continue_promoted=False, generations=1).fit(*data())
    # the lowest budget's rows are shared; continued rows are trained, along the whole ladder
    # since no estimator of the restored rows is at hand, and score as in an uninterrupted run
    mixed = ladder(memory=other, generations=1).fit(*data())
    one_generation = ladder(generations=1).fit(*data()).cv_results_
    assert (mixed.n_candidates_restored_, mixed.n_candidates_evaluated_) == (9, 3 + 1)
    assert_same_results(one_generation, mixed.cv_results_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
def test_failed_configurations_get_error_score_at_every_budget():
    search = ladder(Stepper(fail_below=0.5), error_score=-1.0).fit(*data())
    results = search.cv_results_
    failed = np.array([p["x"] < 0.5 for p in results["params"]])
    assert failed.any() and (results["mean_test_score"][failed] == -1.0).all()
    assert search.best_params_["x"] >= 0.5
    # a failed configuration promoted (error_score above every real score) is not trained on
    promoted = ladder(Stepper(fail_below=0.5), error_score=1.0, refit=False)
    with pytest.warns(FitFailedWarning):
        results = promoted.fit(*data()).cv_results_
    failed = np.array([p["x"] < 0.5 for p in results["params"]])
    assert (results["mean_test_score"][failed] == 1.0).all()
    assert (results["rung"][failed] > 0).any()


def test_warnings_of_continued_fits_are_collected():
    class Noisy(Stepper):
        def partial_fit(self, X, y=None):
            import warnings

            warnings.warn("continuing", RuntimeWarning, stacklevel=2)
            return super().partial_fit(X, y)

    results = ladder(Noisy(), generations=1).fit(*data()).cv_results_
    continued = results["rung"] > 0
    assert (results["n_warnings"][continued] == 2).all()  # one per split
    assert (results["n_warnings"][~continued] == 0).all()
    assert results["first_warning"][continued][0] == "RuntimeWarning: continuing"


@pytest.mark.parametrize(
    "estimator, settings, match",
    [
        (Stepper(), {"resource": None}, "continue_promoted=True needs resource set"),
        (Stepper(), {"resource": "n_samples"}, "resource='n_samples'"),
        (Budgeted(), {}, "needs an estimator with partial_fit, which Budgeted lacks"),
        (Stepper(), {"algorithm": "steady_state"}, "does not work with algorithm='steady_state'"),
        (Stepper(), {"continue_promoted": "yes"}, "continue_promoted"),
    ],
)
def test_invalid_settings_are_rejected_before_any_fit(estimator, settings, match):
    Stepper.fits = 0
    with pytest.raises(ValueError, match=match):
        ladder(estimator, **settings).fit(*data())
    assert Stepper.fits == 0


def test_a_gan_continued_by_partial_fit_counts_the_steps_of_its_budget():
    from gan_estimators import GANEstimator

    tiny = {"network": "mlp", "n_filters": 2, "latent_dim": 2, "batch_size": 8, "random_state": 0}
    X = np.random.default_rng(0).normal(size=(40, 3))
    scoring = {
        "score": lambda estimator, X, y=None: estimator.score(X),
        "steps": _steps,
        "history": lambda estimator, X, y=None: len(estimator.history_["step"]),
    }
    search = evolve(
        GANEstimator(**tiny),
        {"learning_rate": Real(1e-4, 1e-2, log=True)},
        resource="n_steps",
        min_resources=2,
        max_resources=6,
        factor=3,
        continue_promoted=True,
        population_size=3,
        generations=1,
        cv=KFold(2),
        scoring=scoring,
        refit="score",
    ).fit(X)
    results = search.cv_results_
    assert list(results["n_resources"]) == [2, 2, 2, 6]
    for split in range(2):
        np.testing.assert_array_equal(results[f"split{split}_test_steps"], results["n_resources"])
        np.testing.assert_array_equal(results[f"split{split}_test_history"], results["n_resources"])
    # the continued row is the estimator of its lowest budget trained on by partial_fit
    top = int(np.flatnonzero(results["rung"] == 1)[0])
    train, test = next(KFold(2).split(X))
    by_hand = GANEstimator(**tiny, n_steps=2).set_params(**search.best_params_)
    by_hand.set_params(n_steps=2).fit(X[train])
    by_hand.set_params(n_steps=4).partial_fit(X[train])
    assert results["split0_test_score"][top] == pytest.approx(by_hand.score(X[test]), rel=1e-6)
    assert search.best_estimator_.n_steps_ == 6
