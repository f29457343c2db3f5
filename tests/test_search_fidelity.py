"""Multi-fidelity evolution: budgets, promotion, best at the top budget, and scikit-learn's
search contracts with ``resource`` set."""

import math
import pickle

import numpy as np
import pytest
from _search_toys import Budgeted, Landscape, evolve, landscape_data

from gan_estimators import Real
from gan_estimators.search.fidelity import budgets

SPACE = {"x": Real(0.0, 1.0)}


def ladder(estimator=None, **kwargs):
    """Budgets 10, 30, 90 of ``n_steps``; 9 individuals, 3 generations, 2-fold CV."""
    settings = {
        "resource": "n_steps",
        "min_resources": 10,
        "max_resources": 90,
        "population_size": 9,
        "generations": 3,
        "cv": 2,
        **kwargs,
    }
    return evolve(Budgeted() if estimator is None else estimator, SPACE, **settings)


@pytest.fixture(scope="module")
def fitted():
    return ladder().fit(*landscape_data())


def _rows(results, generation, rung):
    return np.flatnonzero((results["generation"] == generation) & (results["rung"] == rung))


def test_budgets_multiply_by_factor_up_to_max_resources():
    assert budgets(10, 90, 3, True) == (10, 30, 90)
    assert budgets(10, 100, 3, True) == (10, 30, 90, 100)
    assert budgets(1.5, 6.0, 2, False) == (1.5, 3.0, 6.0)


def test_rows_carry_rung_and_n_resources_one_per_configuration_and_budget(fitted):
    results = fitted.cv_results_
    assert list(results)[-3:] == ["generation", "rung", "n_resources"]
    assert set(results["n_resources"]) == {10, 30, 90}
    for rung, budget in enumerate((10, 30, 90)):
        at_rung = results["rung"] == rung
        assert (results["n_resources"][at_rung] == budget).all()
        params = [
            p
            for p, rung_of in zip(results["params"], results["rung"], strict=True)
            if rung_of == rung
        ]
        assert params and all(p["n_steps"] == budget for p in params)
    pairs = [(p["x"], p["n_steps"]) for p in results["params"]]
    assert len(pairs) == len(set(pairs)), "a (configuration, budget) was trained twice"


def test_promotion_keeps_the_best_third_of_each_rung_of_each_generation(fitted):
    results = fitted.cv_results_
    scores, params = results["mean_test_score"], results["params"]
    for generation in range(3):
        lower = _rows(results, generation, 0)
        assert lower.size > 0
        for rung in (1, 2):
            upper = _rows(results, generation, rung)
            ranked = sorted(lower, key=lambda i: -scores[i])[: math.ceil(lower.size / 3)]
            assert sorted(params[i]["x"] for i in upper) == sorted(params[i]["x"] for i in ranked)
            lower = upper
        assert lower.size == 1


def test_best_is_taken_at_the_top_budget_only_and_refitted_there(fitted):
    results = fitted.cv_results_
    top = results["rung"] == 2
    # lower budgets score higher by construction: a comparison across budgets would pick them
    assert results["mean_test_score"].max() > results["mean_test_score"][top].max()
    assert results["rung"][fitted.best_index_] == 2
    assert fitted.best_score_ == results["mean_test_score"][top].max()
    assert fitted.best_params_["n_steps"] == 90
    assert fitted.best_estimator_.n_steps_ == 90
    assert fitted.hall_of_fame_[0]["score"] == fitted.best_score_
    assert fitted.logbook_.select("best")[-1] == fitted.best_score_


def test_n_samples_subsamples_every_split():
    budget = {"resource": "n_samples", "min_resources": 10, "max_resources": 90}
    search = evolve(
        Budgeted(),
        SPACE,
        population_size=3,
        generations=1,
        scoring=lambda estimator, X, y=None: estimator.n_train_samples_,
        **budget,
    ).fit(*landscape_data(90))
    results = search.cv_results_
    # a third of the data per rung, two thirds of it for training
    assert dict(zip(results["rung"], results["mean_test_score"], strict=True)) == {
        0: 6.0,
        1: 20.0,
        2: 60.0,
    }
    assert "n_samples" not in search.best_params_
    assert search.best_estimator_.n_train_samples_ == 90


def test_multimetric_ranks_by_the_refit_metric_at_the_top_budget():
    search = ladder(
        scoring={"score": lambda e, X, y=None: e.score(X), "low_x": lambda e, X, y=None: -e.x},
        refit="low_x",
        generations=2,
    ).fit(*landscape_data())
    results = search.cv_results_
    top = np.flatnonzero(results["rung"] == 2)
    assert search.best_index_ in top
    assert search.best_score_ == results["mean_test_low_x"][top].max()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
def test_failed_configurations_get_error_score_and_are_never_best():
    search = ladder(Budgeted(fail_below=0.5), error_score=-1.0).fit(*landscape_data())
    results = search.cv_results_
    failed = np.array([p["x"] < 0.5 for p in results["params"]])
    assert failed.any() and (results["mean_test_score"][failed] == -1.0).all()
    assert search.best_params_["x"] >= 0.5


def test_max_fits_and_memory_work_with_budgets(tmp_path):
    search = ladder(max_fits=30).fit(*landscape_data())
    assert search.stop_reason_ == "max_fits"
    assert len(search.cv_results_["params"]) * 2 <= 30
    first = ladder(memory=tmp_path, generations=2).fit(*landscape_data())
    again = ladder(memory=tmp_path, generations=2).fit(*landscape_data())
    assert again.n_candidates_evaluated_ == 0
    assert again.n_candidates_restored_ == len(first.cv_results_["params"])
    np.testing.assert_array_equal(again.cv_results_["rung"], first.cv_results_["rung"])
    assert again.best_params_ == first.best_params_


def test_a_fitted_search_pickles(fitted):
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.best_params_ == fitted.best_params_
    assert restored.best_estimator_.n_steps_ == 90
    np.testing.assert_array_equal(restored.cv_results_["rung"], fitted.cv_results_["rung"])


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"resource": "n_stepz"}, "resource='n_stepz' is not a parameter of Budgeted"),
        ({"resource": "x"}, "also searched in param_space"),
        ({"resource": "n_steps", "min_resources": 90}, "min_resources=90 must be smaller"),
        ({"resource": "n_steps", "factor": 1}, "factor"),
        ({"resource": "n_steps", "max_resources": -3}, "max_resources"),
        ({"resource": "n_samples", "max_resources": 31}, "exceeds the 30 samples"),
        ({"resource": "fail_below"}, "max_resources must be given"),
    ],
)
def test_invalid_budgets_are_rejected_before_any_fit(settings, match):
    Budgeted.fit_calls = 0
    with pytest.raises(ValueError, match=match):
        evolve(Budgeted(), SPACE, **settings).fit(*landscape_data())


def test_without_resource_there_are_no_budget_columns():
    results = evolve(Landscape()).fit(*landscape_data()).cv_results_
    assert "rung" not in results and "n_resources" not in results
