"""The algorithms of EvolutionarySearchCV beside the genetic algorithm: CMA-ES, differential
evolution and the asynchronous steady-state GA, and what every algorithm must honour."""

import pickle
import time

import joblib
import numpy as np
import pytest
from _search_toys import LANDSCAPE_SPACE, Budgeted, Landscape, evolve, landscape_data
from sklearn.base import BaseEstimator
from sklearn.model_selection import KFold

from gan_estimators import EvolutionarySearchCV, Real
from gan_estimators.search.algorithms import ALGORITHMS

NEW_ALGORITHMS = ["cma-es", "de", "steady_state"]


class Sphere(BaseEstimator):
    """Score ``-sum((v - 0.3) ** 2)`` over four parameters: one optimum inside the box."""

    def __init__(self, a=0.5, b=0.5, c=0.5, d=0.5):
        self.a, self.b, self.c, self.d = a, b, c, d

    def fit(self, X, y=None):
        return self

    def score(self, X, y=None):
        return -sum((value - 0.3) ** 2 for value in (self.a, self.b, self.c, self.d))


SPHERE_SPACE = {name: Real(0.0, 1.0) for name in "abcd"}


class Sleeper(BaseEstimator):
    """``fit`` sleeps ``seconds``: a workload whose cost depends on a parameter."""

    def __init__(self, seconds=0.01):
        self.seconds = seconds

    def fit(self, X, y=None):
        time.sleep(self.seconds)
        return self

    def score(self, X, y=None):
        return -abs(self.seconds - 0.05)


def _results_equal(first, second):
    assert first.cv_results_["params"] == second.cv_results_["params"]
    np.testing.assert_array_equal(
        first.cv_results_["mean_test_score"], second.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(first.cv_results_["generation"], second.cv_results_["generation"])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_beats_random_sampling_on_a_sphere(algorithm):
    population_size, generations = 10, 15
    bests = [
        EvolutionarySearchCV(
            Sphere(),
            SPHERE_SPACE,
            population_size=population_size,
            generations=generations,
            cv=2,
            algorithm=algorithm,
            random_state=seed,
        )
        .fit(np.zeros((10, 1)))
        .best_score_
        for seed in range(3)
    ]
    # the best of as many uniformly random configurations, over many draws
    rng = np.random.default_rng(0)
    n_draws = population_size * generations
    draws = rng.random((300, n_draws, 4))
    random_bests = (-((draws - 0.3) ** 2).sum(axis=2)).max(axis=1)
    assert np.mean(bests) > np.median(random_bests)


@pytest.mark.parametrize(
    ("algorithm", "params", "message"),
    [
        ("de", {"F": 0.5, "cr": 0.9}, r"\['cr'\].*accepted keys are \['CR', 'F'\]"),
        ("cma-es", {"F": 0.5}, r"\['F'\].*accepted keys are \['sigma'\]"),
        ("steady_state", {"sigma": 0.3}, r"\['sigma'\].*accepted keys are none"),
        ("simple", {"F": 0.5}, r"algorithm='simple'"),
        ("de", {"F": 0.0}, r"algorithm_params\['F'\] must be in \(0.0, 2.0\]"),
        ("de", {"CR": 1.5}, r"algorithm_params\['CR'\] must be in \[0.0, 1.0\]"),
        ("cma-es", {"sigma": -1}, r"algorithm_params\['sigma'\]"),
    ],
)
def test_algorithm_params_are_validated_before_any_fit(algorithm, params, message):
    Landscape.fit_count = 0
    search = evolve(algorithm=algorithm, algorithm_params=params)
    with pytest.raises(ValueError, match=message):
        search.fit(*landscape_data())
    assert Landscape.fit_count == 0


def test_algorithm_params_values_must_be_numbers():
    with pytest.raises(TypeError, match=r"algorithm_params\['F'\] must be a real number"):
        evolve(algorithm="de", algorithm_params={"F": "0.5"}).fit(*landscape_data())


def test_differential_evolution_needs_four_individuals():
    with pytest.raises(ValueError, match="population_size >= 4"):
        evolve(algorithm="de", population_size=3).fit(*landscape_data())


def test_algorithm_params_change_the_search():
    default = evolve(algorithm="de", generations=4).fit(*landscape_data())
    greedy = evolve(algorithm="de", generations=4, algorithm_params={"F": 1.5, "CR": 0.2})
    greedy.fit(*landscape_data())
    assert default.cv_results_["params"] != greedy.cv_results_["params"]


@pytest.mark.parametrize("algorithm", NEW_ALGORITHMS)
def test_same_random_state_same_results(algorithm):
    first = evolve(algorithm=algorithm, generations=4).fit(*landscape_data())
    second = evolve(algorithm=algorithm, generations=4).fit(*landscape_data())
    _results_equal(first, second)
    assert first.best_params_ == second.best_params_


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_no_configuration_is_trained_twice(algorithm):
    Landscape.fit_count = 0
    search = evolve(
        space={"k": LANDSCAPE_SPACE["k"], "choice": ["a", "b"]},
        algorithm=algorithm,
        population_size=4,
        generations=6,
    ).fit(*landscape_data())
    keys = [tuple(sorted(params.items())) for params in search.cv_results_["params"]]
    assert len(keys) == len(set(keys)) <= 12  # 6 values of k x 2 choices
    assert Landscape.fit_count == len(keys) * search.n_splits_ + 1  # + the refit


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_max_fits_bounds_every_algorithm(algorithm):
    search = evolve(algorithm=algorithm, generations=10, max_fits=20).fit(*landscape_data())
    n_fits = len(search.cv_results_["params"]) * search.n_splits_
    assert 20 - search.n_splits_ < n_fits <= 20
    assert search.stop_reason_ == "max_fits"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_initial_population_is_evaluated_first(algorithm):
    given = [{"x": 0.3, "k": 2, "choice": "b"}, {"x": 0.9, "k": 0, "choice": "a"}]
    search = evolve(algorithm=algorithm, initial_population=given).fit(*landscape_data())
    results = search.cv_results_
    generations = zip(results["params"], results["generation"], strict=True)
    first = [params for params, generation in generations if generation == 0]
    assert all(params in first for params in given)
    assert search.best_params_ == given[0]  # the optimum, given


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_multi_fidelity_compares_only_at_the_top_budget(algorithm):
    search = evolve(
        Budgeted(),
        {"x": Real(0.0, 1.0)},
        algorithm=algorithm,
        population_size=6,
        generations=3,
        resource="n_steps",
        max_resources=90,
    ).fit(np.zeros((12, 1)))
    results = search.cv_results_
    assert set(results["n_resources"]) <= {10, 30, 90}
    assert {10, 90} <= set(results["n_resources"])
    top = results["n_resources"] == 90
    assert results["n_resources"][search.best_index_] == 90
    assert search.best_score_ == np.max(results["mean_test_score"][top])
    assert search.best_estimator_.n_steps == 90
    # one row per (configuration, budget)
    pairs = [(p["x"], n) for p, n in zip(results["params"], results["n_resources"], strict=True)]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize("algorithm", NEW_ALGORITHMS)
def test_memory_rerun_restores_every_row(tmp_path, algorithm):
    first = evolve(algorithm=algorithm, memory=tmp_path).fit(*landscape_data())
    Landscape.fit_count = 0
    second = evolve(algorithm=algorithm, memory=tmp_path).fit(*landscape_data())
    assert second.n_candidates_evaluated_ == 0
    assert second.n_candidates_restored_ == len(first.cv_results_["params"])
    assert Landscape.fit_count == 1  # the refit only
    _results_equal(first, second)
    assert second.best_params_ == first.best_params_


@pytest.mark.parametrize("algorithm", NEW_ALGORITHMS)
def test_refit_variants_and_pickling(algorithm):
    X, y = landscape_data()
    scoring = {"score": lambda est, X, y=None: est.score(X), "neg": lambda est, X, y=None: 1.0}
    by_name = evolve(algorithm=algorithm, scoring=scoring, refit="score").fit(X, y)
    assert by_name.best_score_ == np.max(by_name.cv_results_["mean_test_score"])
    assert "mean_test_neg" in by_name.cv_results_
    unfitted = evolve(algorithm=algorithm, refit=False).fit(X, y)
    assert not hasattr(unfitted, "best_estimator_")
    chosen = evolve(algorithm=algorithm, refit=lambda results: 0).fit(X, y)
    assert chosen.best_index_ == 0
    assert chosen.best_params_ == chosen.cv_results_["params"][0]
    fitted = evolve(algorithm=algorithm).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.best_params_ == fitted.best_params_
    assert restored.score(X) == fitted.score(X)


def test_steady_state_records_failures_with_error_score():
    search = evolve(Landscape(fail_below=0.5), algorithm="steady_state", error_score=-1.0)
    with pytest.warns(match="fits failed"):
        search.fit(*landscape_data())
    scores = search.cv_results_["mean_test_score"]
    failed = np.array([params["x"] < 0.5 for params in search.cv_results_["params"]])
    assert failed.any() and (~failed).any()
    np.testing.assert_array_equal(scores[failed], -1.0)
    assert search.best_params_["x"] >= 0.5


def test_steady_state_raises_fit_errors_with_error_score_raise():
    search = evolve(Landscape(fail_below=2.0), algorithm="steady_state", error_score="raise")
    with pytest.raises(ValueError, match="deliberate failure"):
        search.fit(*landscape_data())


def test_steady_state_calls_back_once_per_completed_evaluation():
    seen = []
    search = evolve(algorithm="steady_state", callbacks=seen.append).fit(*landscape_data())
    assert len(seen) == len(search.logbook_) == len(search.cv_results_["params"])
    assert [record["gen"] for record in seen] == list(range(len(seen)))
    assert sum(record["nevals"] for record in seen) == search.n_candidates_evaluated_
    stopped = evolve(algorithm="steady_state", callbacks=lambda record: record["gen"] == 3)
    stopped.fit(*landscape_data())
    assert stopped.stop_reason_ == "callback"
    assert len(stopped.cv_results_["params"]) == 4


def test_steady_state_patience_counts_evaluations_in_populations():
    search = evolve(Sphere(), SPHERE_SPACE, algorithm="steady_state", generations=50, patience=1)
    search.fit(np.zeros((10, 1)))
    assert search.stop_reason_ == "patience"
    best = search.logbook_.select("best")
    # the last population_size (6) evaluations did not improve on the best before them
    assert best[-1] == best[-7] and best[-7] > best[-8]


def test_steady_state_n_jobs_1_breeds_from_every_completed_evaluation():
    search = evolve(algorithm="steady_state", population_size=4, generations=3)
    search.fit(*landscape_data())
    assert list(search.cv_results_["generation"]) == [0] * 4 + [1] * 4 + [2] * 4
    assert search.stop_reason_ == "generations"


@pytest.mark.parametrize("n_jobs", [2, 3])
def test_steady_state_never_leaves_a_worker_idle(n_jobs):
    # fits that release the GIL, on threads: the wall time is the scheduling alone
    search = EvolutionarySearchCV(
        Sleeper(),
        {"seconds": Real(0.002, 0.2, log=True)},
        algorithm="steady_state",
        population_size=4,
        generations=8,
        cv=KFold(2),
        n_jobs=n_jobs,
        refit=False,
        random_state=0,
    )
    with joblib.parallel_config(backend="threading"):
        start = time.perf_counter()
        search.fit(np.zeros((8, 1)))
        wall = time.perf_counter() - start
    work = float(np.sum(search.cv_results_["mean_fit_time"])) * search.n_splits_
    assert len(search.cv_results_["params"]) == 32
    # the generational GA takes 1.2 to 1.35 times work / n_jobs here at n_jobs=3
    assert wall < 1.12 * work / n_jobs + 0.05, (wall, work)


def test_steady_state_with_loky_workers_matches_the_space():
    search = evolve(algorithm="steady_state", n_jobs=2, generations=4).fit(*landscape_data())
    results = search.cv_results_
    assert len(results["params"]) == 24
    keys = [tuple(sorted(params.items())) for params in results["params"]]
    assert len(set(keys)) == 24
    assert np.isfinite(results["mean_test_score"]).all()
    assert search.best_params_ == results["params"][np.argmax(results["mean_test_score"])]


@pytest.mark.slow
def test_steady_state_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    X, y = load_iris(return_X_y=True)
    space = {"C": Real(1e-2, 1e2, log=True), "kernel": ["rbf", "linear"]}
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        search = evolve(SVC(), space, algorithm="steady_state", n_jobs=2).fit(X, y)
    results = search.cv_results_
    keys = [tuple(sorted(params.items())) for params in results["params"]]
    assert len(keys) == len(set(keys)) == 18
    assert np.isfinite(results["mean_test_score"]).all()
    assert search.best_score_ == np.max(results["mean_test_score"])
