"""EvolutionarySearchCV: the scikit-learn search contract, checked against RandomizedSearchCV."""

import pickle
import random
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from _search_toys import LANDSCAPE_SPACE, Landscape, evolve, landscape_data
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils._param_validation import InvalidParameterError

from gan_estimators import Categorical, Real

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
# what RandomizedSearchCV accepts, used as is by both searches
SVC_SPACE = {"C": stats.loguniform(1e-2, 1e2), "kernel": ["rbf", "linear"]}


@pytest.fixture(autouse=True)
def _reset_fit_count():
    Landscape.fit_count = 0


@pytest.fixture(scope="module")
def fitted_pair():
    """An evolutionary and a random search with the same space, budget and data."""
    search = evolve(SVC(), SVC_SPACE).fit(X_IRIS, Y_IRIS)
    n_iter = len(search.cv_results_["params"])
    random_search = RandomizedSearchCV(SVC(), SVC_SPACE, n_iter=n_iter, cv=3, random_state=0).fit(
        X_IRIS, Y_IRIS
    )
    return search, random_search


# -- estimator conventions ------------------------------------------------------------------------


def test_clone_and_get_params_round_trip():
    search = evolve(
        SVC(), SVC_SPACE, population_size=7, memory=None, callbacks=[print], gene_precision=2
    )
    cloned = clone(search)
    assert cloned.get_params(deep=False).keys() == search.get_params(deep=False).keys()
    assert cloned.population_size == 7 and cloned.gene_precision == 2
    assert cloned.param_space.keys() == search.param_space.keys()
    assert cloned.estimator is not search.estimator


def test_user_estimator_and_space_are_untouched():
    estimator = SVC(C=3.0)
    space = {"C": Real(1e-2, 1e2, log=True), "kernel": ["rbf", "linear"]}
    before_estimator, before_space = joblib.hash(estimator), joblib.hash(space)
    search = evolve(estimator, space).fit(X_IRIS, Y_IRIS)
    assert joblib.hash(estimator) == before_estimator and joblib.hash(space) == before_space
    assert not hasattr(estimator, "support_")
    assert search.estimator is estimator and search.best_estimator_ is not estimator


def test_global_random_generators_are_neither_used_nor_reseeded():
    np_state = np.random.get_state()  # noqa: NPY002
    py_state = random.getstate()
    evolve(Landscape(), LANDSCAPE_SPACE).fit(*landscape_data())
    evolve(Landscape(), LANDSCAPE_SPACE, random_state=None).fit(*landscape_data())
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(a, b) for a, b in zip(np_state, after, strict=True))
    assert random.getstate() == py_state


# -- cv_results_ and best_* like RandomizedSearchCV -----------------------------------------------


def test_cv_results_keys_and_dtypes_match_randomized_search(fitted_pair):
    search, random_search = fitted_pair
    ours, theirs = search.cv_results_, random_search.cv_results_
    assert set(theirs) <= set(ours)
    assert set(ours) - set(theirs) == {"generation", "n_warnings", "first_warning"}
    for key in theirs:
        if key != "params":
            assert np.asarray(ours[key]).dtype == np.asarray(theirs[key]).dtype, key
            assert type(ours[key]) is type(theirs[key]), key
    frame = pd.DataFrame(ours)
    assert len(frame) == search.n_candidates_evaluated_ == len(ours["params"])
    assert frame["generation"].is_monotonic_increasing
    assert frame["param_kernel"].isin(["rbf", "linear"]).all()


def test_fitted_attributes_match_randomized_search(fitted_pair):
    search, random_search = fitted_pair
    for name in (
        "best_estimator_",
        "best_score_",
        "best_params_",
        "best_index_",
        "scorer_",
        "n_splits_",
        "refit_time_",
        "multimetric_",
        "classes_",
        "n_features_in_",
    ):
        assert hasattr(search, name) == hasattr(random_search, name), name
    assert search.n_splits_ == 3 and search.multimetric_ is False
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]
    assert search.best_score_ == np.max(search.cv_results_["mean_test_score"])
    assert search.cv_results_["rank_test_score"][search.best_index_] == 1
    assert search.best_estimator_.get_params()["C"] == search.best_params_["C"]
    np.testing.assert_array_equal(search.predict(X_IRIS), search.best_estimator_.predict(X_IRIS))
    assert search.score(X_IRIS, Y_IRIS) == search.best_estimator_.score(X_IRIS, Y_IRIS)


def test_best_score_is_at_least_the_best_of_the_initial_population(fitted_pair):
    search, _ = fitted_pair
    initial = search.cv_results_["mean_test_score"][search.cv_results_["generation"] == 0]
    assert len(initial) == 6
    assert search.best_score_ >= initial.max()
    assert search.logbook_.select("best") == sorted(search.logbook_.select("best"))


def test_logbook_and_hall_of_fame(fitted_pair):
    search, _ = fitted_pair
    logbook = search.logbook_
    assert logbook.select("gen") == [0, 1, 2]
    assert sum(logbook.select("nevals")) == search.n_candidates_evaluated_
    assert sum(logbook.select("cache_hits")) == search.cache_hits_
    for entry in logbook:
        assert {"min", "max", "mean", "std", "best", "elapsed", "restored"} <= set(entry)
        assert entry["min"] <= entry["mean"] <= entry["max"] <= entry["best"]
    assert logbook.select("elapsed") == sorted(logbook.select("elapsed"))
    assert search.hall_of_fame_[0]["score"] == search.best_score_
    assert search.stop_reason_ == "generations"


def test_refit_callable_like_randomized_search():
    def lowest_score(results):
        return int(np.argmin(results["mean_test_score"]))

    search = evolve(SVC(), SVC_SPACE, refit=lowest_score).fit(X_IRIS, Y_IRIS)
    random_search = RandomizedSearchCV(SVC(), SVC_SPACE, n_iter=5, refit=lowest_score).fit(
        X_IRIS, Y_IRIS
    )
    assert search.best_index_ == lowest_score(search.cv_results_)
    assert hasattr(search, "best_score_") == hasattr(random_search, "best_score_")
    assert search.best_estimator_.C == search.cv_results_["params"][search.best_index_]["C"]


def test_multimetric_with_refit_by_name():
    scoring = {"acc": "accuracy", "f1": "f1_macro"}
    search = evolve(SVC(), SVC_SPACE, scoring=scoring, refit="f1").fit(X_IRIS, Y_IRIS)
    results = search.cv_results_
    assert {"mean_test_acc", "mean_test_f1", "rank_test_acc", "rank_test_f1"} <= set(results)
    assert search.multimetric_ is True and set(search.scorer_) == {"acc", "f1"}
    assert search.best_index_ == int(np.argmin(results["rank_test_f1"]))
    assert search.best_score_ == results["mean_test_f1"][search.best_index_]
    # the genetic algorithm maximised the refit metric
    assert search.hall_of_fame_[0]["score"] == np.max(results["mean_test_f1"])


def test_multimetric_refit_errors_and_refit_false_like_randomized_search():
    scoring = {"acc": "accuracy", "f1": "f1_macro"}
    with pytest.raises(ValueError, match="multi-metric scoring, the parameter refit"):
        evolve(SVC(), SVC_SPACE, scoring=scoring, refit=True).fit(X_IRIS, Y_IRIS)
    search = evolve(SVC(), SVC_SPACE, scoring=scoring, refit=False).fit(X_IRIS, Y_IRIS)
    assert not hasattr(search, "best_params_") and not hasattr(search, "best_estimator_")
    assert "mean_test_acc" in search.cv_results_


def test_callable_multimetric_scoring():
    def scorer(estimator, X, y):
        return {"acc": estimator.score(X, y), "neg_c": -estimator.C}

    search = evolve(SVC(), SVC_SPACE, scoring=scorer, refit="acc").fit(X_IRIS, Y_IRIS)
    assert search.multimetric_ is True
    assert "mean_test_neg_c" in search.cv_results_


def test_return_train_score():
    search = evolve(SVC(), SVC_SPACE, return_train_score=True, generations=2).fit(X_IRIS, Y_IRIS)
    assert {"mean_train_score", "split0_train_score"} <= set(search.cv_results_)


# -- failures and NaN -----------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
@pytest.mark.filterwarnings("ignore:One or more of the:UserWarning")
def test_failing_parameter_value_gets_error_score_and_the_search_goes_on():
    space = {"C": Real(0.1, 10.0), "class_weight": [None, {"no-such-class": 1.0}]}
    with pytest.warns(FitFailedWarning):
        search = evolve(SVC(), space, population_size=6, generations=3).fit(X_IRIS, Y_IRIS)
    results = search.cv_results_
    failed = np.array([p["class_weight"] is not None for p in results["params"]])
    assert failed.any() and (~failed).any()
    assert np.isnan(results["mean_test_score"][failed]).all()
    # NaN ranks below every real score, never enters the hall of fame, is never refitted
    assert results["rank_test_score"][failed].min() > results["rank_test_score"][~failed].max()
    assert search.best_params_["class_weight"] is None
    assert all(np.isfinite(entry["score"]) for entry in search.hall_of_fame_)
    numeric = evolve(SVC(), space, error_score=-1.0, population_size=6, generations=3)
    with pytest.warns(FitFailedWarning):
        numeric.fit(X_IRIS, Y_IRIS)
    failed = np.array([p["class_weight"] is not None for p in numeric.cv_results_["params"]])
    assert (numeric.cv_results_["mean_test_score"][failed] == -1.0).all()


def test_error_score_raise_raises():
    space = {"C": Real(0.1, 10.0), "class_weight": [{"no-such-class": 1.0}]}
    with pytest.raises(ValueError, match="not in class_weight"):
        evolve(SVC(), space, error_score="raise").fit(X_IRIS, Y_IRIS)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
@pytest.mark.filterwarnings("ignore:One or more of the:UserWarning")
def test_generation_whose_every_fit_fails_is_recorded_and_the_search_goes_on():
    # x < 0.9 fails: the initial population fails entirely (scikit-learn raises "All the N
    # fits failed" for that batch), later generations find working configurations
    space = {"x": Real(0.0, 1.0)}
    search = evolve(
        Landscape(fail_below=0.9),
        space,
        population_size=4,
        generations=6,
        random_state=3,
        initial_population=[],  # a random first generation, which fails entirely
    )
    with pytest.warns(FitFailedWarning, match="All the 12 fits failed"):
        search.fit(*landscape_data())
    results = search.cv_results_
    whole_batch_failed = np.isnan(results["mean_fit_time"])
    assert whole_batch_failed.any(), "precondition: a generation failed entirely"
    assert np.isnan(results["mean_test_score"][whole_batch_failed]).all()
    assert np.isfinite(results["mean_test_score"]).any()
    assert search.best_params_["x"] >= 0.9
    assert len(results["params"]) == search.n_candidates_evaluated_
    assert search.logbook_.select("gen") == list(range(6))


def _landscape_score(estimator, X, y=None):
    return estimator.score(X)


def _closeness(estimator, X, y=None):
    return -abs(estimator.x - 0.95)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
@pytest.mark.filterwarnings("ignore:One or more of the:UserWarning")
def test_multimetric_search_with_a_failed_generation():
    search = evolve(
        Landscape(fail_below=0.9),
        {"x": Real(0.0, 1.0)},
        scoring={"landscape": _landscape_score, "closeness": _closeness},
        refit="closeness",
        population_size=4,
        generations=6,
        initial_population=[],  # a random first generation, which fails entirely
        random_state=3,
    )
    with pytest.warns(FitFailedWarning, match="All the 12 fits failed"):
        search.fit(*landscape_data())
    results = search.cv_results_
    failed = np.isnan(results["mean_test_closeness"])
    assert np.isnan(results["mean_fit_time"]).any(), "precondition: a generation failed entirely"
    assert np.isnan(results["mean_test_landscape"][failed]).all()
    assert (~failed).any()
    assert search.best_params_["x"] >= 0.9
    assert search.hall_of_fame_[0]["score"] == np.nanmax(results["mean_test_closeness"])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
@pytest.mark.filterwarnings("ignore:One or more of the:UserWarning")
def test_every_fit_failing_raises_like_scikit_learn():
    search = evolve(
        Landscape(fail_below=2.0), {"x": Real(0.0, 1.0)}, refit=False, initial_population=[]
    )
    with pytest.warns(FitFailedWarning), pytest.raises(ValueError, match="All the 36 fits"):
        search.fit(*landscape_data())
    assert len(search.cv_results_["params"]) == 12
    assert np.isnan(search.cv_results_["mean_test_score"]).all()
    assert len(search.logbook_) == 3
    with pytest.raises(ValueError, match="All the 9 fits failed"):
        RandomizedSearchCV(Landscape(fail_below=2.0), {"x": stats.uniform()}, n_iter=3, cv=3).fit(
            *landscape_data()
        )


def test_nan_scores_rank_last_and_are_never_refitted():
    search = evolve(Landscape(nan_above=0.5), LANDSCAPE_SPACE, population_size=8)
    with pytest.warns(UserWarning, match="non-finite"):
        search.fit(*landscape_data())
    results = search.cv_results_
    nan = np.isnan(results["mean_test_score"])
    assert nan.any() and (~nan).any()
    assert results["rank_test_score"][nan].min() > results["rank_test_score"][~nan].max()
    assert search.best_params_["x"] <= 0.5
    assert all(entry["params"]["x"] <= 0.5 for entry in search.hall_of_fame_)


def test_all_nan_scores_do_not_refit():
    search = evolve(Landscape(nan_above=-1.0), LANDSCAPE_SPACE)
    with pytest.warns(UserWarning, match="non-finite"):
        with pytest.raises(ValueError, match="No configuration obtained a finite score"):
            search.fit(*landscape_data())
    with pytest.warns(UserWarning, match="non-finite"):
        search.set_params(refit=False).fit(*landscape_data())
    assert np.isnan(search.cv_results_["mean_test_score"]).all()


def test_nan_warning_is_not_repeated_every_generation():
    search = evolve(Landscape(nan_above=0.5), LANDSCAPE_SPACE, population_size=8, generations=6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(*landscape_data())
    non_finite = [w for w in caught if "non-finite" in str(w.message)]
    new_nan_generations = len(
        set(search.cv_results_["generation"][np.isnan(search.cv_results_["mean_test_score"])])
    )
    assert 1 <= len(non_finite) <= new_nan_generations


# -- errors before any fit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"space": {"gama": Real(0.1, 1.0)}}, ValueError, "'gama', which is not a parameter"),
        ({"space": {"x": []}}, ValueError, r"param_space\['x'\]"),
        ({"space": {}}, ValueError, "at least one parameter"),
        ({"space": {"x": 3}}, TypeError, r"param_space\['x'\] must be"),
        ({"population_size": 1}, InvalidParameterError, "population_size"),
        ({"generations": 0}, InvalidParameterError, "generations"),
        ({"crossover_probability": 1.5}, InvalidParameterError, "crossover_probability"),
        ({"algorithm": "nsga2"}, InvalidParameterError, "algorithm"),
        ({"max_time": 0}, InvalidParameterError, "max_time"),
        ({"gene_precision": -1}, InvalidParameterError, "gene_precision"),
        ({"memory": 3}, InvalidParameterError, "memory"),
        ({"callbacks": ["not callable"]}, TypeError, "callbacks must be callables"),
        ({"tournament_size": 0}, InvalidParameterError, "tournament_size"),
        (
            {"algorithm": "mu_plus_lambda", "crossover_probability": 0.7},
            ValueError,
            "must be at most 1",
        ),
        ({"max_fits": 2}, ValueError, "max_fits=2 is less than the 3 fits"),
    ],
)
def test_invalid_settings_raise_before_any_fit(kwargs, error, match):
    kwargs = dict(kwargs)
    space = kwargs.pop("space", LANDSCAPE_SPACE)
    kwargs.setdefault("mutation_probability", 0.5)
    with pytest.raises(error, match=match):
        evolve(Landscape(), space, **kwargs).fit(*landscape_data())
    assert Landscape.fit_count == 0


# -- pipelines, pickling, data --------------------------------------------------------------------


def test_pipeline_with_nested_names():
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))])
    space = {"clf__C": Real(1e-3, 1e2, log=True), "scale__with_mean": [True, False]}
    search = evolve(pipe, space).fit(X_IRIS, Y_IRIS)
    assert set(search.best_params_) == {"clf__C", "scale__with_mean"}
    assert isinstance(search.best_estimator_, Pipeline)
    assert search.best_estimator_.named_steps["clf"].C == search.best_params_["clf__C"]
    assert "param_clf__C" in search.cv_results_


def test_searching_over_pipeline_steps():
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    space = {"clf": Categorical([SVC(), LogisticRegression(max_iter=500)]), "clf__C": [0.1, 1.0]}
    search = evolve(pipe, space, population_size=4, generations=2).fit(X_IRIS, Y_IRIS)
    assert type(search.best_estimator_.named_steps["clf"]) in (SVC, LogisticRegression)
    assert search.best_estimator_.named_steps["clf"] is not space["clf"].choices[0]


def test_pickles_after_fit(fitted_pair):
    search, _ = fitted_pair
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(restored.predict(X_IRIS), search.predict(X_IRIS))
    assert restored.best_params_ == search.best_params_
    assert list(restored.logbook_) == list(search.logbook_)
    assert restored.hall_of_fame_ == search.hall_of_fame_
    assert not hasattr(restored, "_state")


def test_no_deap_creator_globals_and_unpickling_in_a_fresh_process(fitted_pair, tmp_path):
    import deap.creator

    before = set(vars(deap.creator))
    evolve(Landscape(), LANDSCAPE_SPACE).fit(*landscape_data())
    evolve(Landscape(), {"x": Real(0.0, 1.0)}).fit(*landscape_data())  # another search
    assert set(vars(deap.creator)) == before
    search, _ = fitted_pair
    assert all(type(params) is dict for params in search.cv_results_["params"])
    path = tmp_path / "search.pkl"
    path.write_bytes(pickle.dumps(search))
    code = (
        "import pickle, sys; s = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "print(len(s.logbook_), s.hall_of_fame_[0]['score'] == s.best_score_)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "True"]


def test_fitted_search_does_not_keep_the_training_data():
    X = np.random.default_rng(0).normal(size=(2000, 50))
    y = X[:, 0] + X[:, 1]
    search = evolve(Ridge(), {"alpha": Real(1e-3, 1e3, log=True)}, memory=None).fit(X, y)
    own_state = {k: v for k, v in vars(search).items() if k != "best_estimator_"}
    assert len(pickle.dumps(own_state)) < X.nbytes / 20
    assert not hasattr(search, "_state")


def test_verbose_shows_a_progress_bar_with_best_and_mean(capsys):
    evolve(Landscape(), LANDSCAPE_SPACE, verbose=1).fit(*landscape_data())
    err = capsys.readouterr().err
    assert "EvolutionarySearchCV" in err and "best=" in err and "mean=" in err
    assert "3/3" in err


def test_silent_by_default(capsys):
    evolve(Landscape(), LANDSCAPE_SPACE).fit(*landscape_data())
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# -- reproducibility ------------------------------------------------------------------------------


def test_same_random_state_gives_identical_search_and_zero_is_a_seed():
    first = evolve(Landscape(), LANDSCAPE_SPACE, random_state=0).fit(*landscape_data())
    second = evolve(Landscape(), LANDSCAPE_SPACE, random_state=0).fit(*landscape_data())
    other = evolve(Landscape(), LANDSCAPE_SPACE, random_state=1).fit(*landscape_data())
    assert first.cv_results_["params"] == second.cv_results_["params"]
    assert first.best_params_ == second.best_params_
    assert first.cv_results_["params"] != other.cv_results_["params"]
    unseeded = [
        evolve(Landscape(), LANDSCAPE_SPACE, random_state=None).fit(*landscape_data())
        for _ in range(2)
    ]
    assert unseeded[0].cv_results_["params"] != unseeded[1].cv_results_["params"]


def test_random_state_instance_is_accepted():
    rng = np.random.RandomState(0)
    search = evolve(Landscape(), LANDSCAPE_SPACE, random_state=rng).fit(*landscape_data())
    assert len(search.cv_results_["params"]) > 0


@pytest.mark.parametrize("algorithm", ["simple", "mu_plus_lambda"])
def test_algorithms_improve_on_a_known_landscape(algorithm):
    search = evolve(
        Landscape(),
        LANDSCAPE_SPACE,
        algorithm=algorithm,
        population_size=10,
        generations=8,
        mutation_probability=0.4,
        cv=KFold(2),
    ).fit(*landscape_data())
    best = search.logbook_.select("best")
    assert best[-1] > best[0]
    assert search.best_score_ > -0.01  # the optimum is 0.05
    assert search.best_params_["choice"] == "b"
