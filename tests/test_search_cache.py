"""EvolutionarySearchCV: the fitness cache, gene_precision and the persistent memory."""

import joblib
import numpy as np
import pytest
from _search_toys import Landscape, evolve, landscape_data
from sklearn.exceptions import FitFailedWarning

from gan_estimators import Categorical, Integer, Real
from gan_estimators.search import evolution as _evolution


@pytest.fixture(autouse=True)
def _reset_fit_count():
    Landscape.fit_count = 0


def assert_same_results(first, second):
    assert first.keys() == second.keys()
    for key in first:
        if key == "params":
            assert first[key] == second[key]
        else:
            np.testing.assert_array_equal(np.asarray(first[key]), np.asarray(second[key]), key)


# -- the in-run cache -----------------------------------------------------------------------------


def test_tiny_space_is_fitted_once_per_configuration():
    # 4 possible configurations, 10 individuals x 5 generations
    space = {"k": Integer(0, 1), "choice": ["a", "b"]}
    fitted = evolve(space=space, population_size=10, generations=5).fit(*landscape_data())
    assert fitted.n_candidates_evaluated_ == 4
    assert len(fitted.cv_results_["params"]) == 4
    assert Landscape.fit_count == 4 * 3 + 1  # 3 folds each, plus the refit
    assert fitted.cache_hits_ == sum(fitted.logbook_.select("cache_hits"))
    # the initial population alone holds 10 individuals for 4 configurations
    first = fitted.logbook_[0]
    assert first["nevals"] + first["cache_hits"] == 10
    assert fitted.cache_hits_ >= 6
    assert len(fitted.logbook_) == 5
    assert fitted.best_params_ == {"k": 1, "choice": "b"}


def test_every_row_is_a_distinct_configuration_and_hits_add_none():
    fitted = evolve(
        space={"k": Integer(0, 4), "choice": ["a", "b"]}, population_size=8, generations=6
    ).fit(*landscape_data())
    params = [tuple(sorted(p.items())) for p in fitted.cv_results_["params"]]
    assert len(params) == len(set(params)) == fitted.n_candidates_evaluated_
    assert fitted.n_candidates_restored_ == 0
    assert Landscape.fit_count == 3 * fitted.n_candidates_evaluated_ + 1


def test_children_decoding_to_known_configurations_are_varied_again(monkeypatch):
    space = {"k": Integer(0, 9), "choice": ["a", "b"]}
    revaried = evolve(space=space, population_size=8, generations=5).fit(*landscape_data())
    monkeypatch.setattr(_evolution, "MAX_REVARIATIONS", 0)
    plain = evolve(space=space, population_size=8, generations=5).fit(*landscape_data())
    assert revaried.n_candidates_evaluated_ > plain.n_candidates_evaluated_
    assert revaried.cache_hits_ < plain.cache_hits_


def test_gene_precision_rounds_genes_to_a_grid():
    fitted = evolve(
        space={"x": Real(0.0, 1.0)}, gene_precision=1, population_size=10, generations=6
    ).fit(*landscape_data())
    xs = [p["x"] for p in fitted.cv_results_["params"]]
    assert set(xs) <= {round(0.1 * i, 10) for i in range(11)} | {0.1 * i for i in range(11)}
    assert fitted.n_candidates_evaluated_ <= 11
    assert fitted.cache_hits_ > 0


# -- memory ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("refit", [False, True])
def test_memory_rerun_refits_nothing_and_gives_the_same_results(tmp_path, refit):
    first = evolve(memory=tmp_path, refit=refit).fit(*landscape_data())
    assert Landscape.fit_count == 3 * first.n_candidates_evaluated_ + refit
    Landscape.fit_count = 0
    second = evolve(memory=tmp_path, refit=refit).fit(*landscape_data())
    assert Landscape.fit_count == int(refit)  # the refit of best_estimator_ only
    assert second.n_candidates_evaluated_ == 0
    assert second.n_candidates_restored_ == first.n_candidates_evaluated_
    assert_same_results(first.cv_results_, second.cv_results_)
    assert second.logbook_.select("restored") == first.logbook_.select("nevals")
    assert second.logbook_.select("best") == first.logbook_.select("best")
    assert second.multimetric_ is False and second.scorer_ is not None
    # single metric: best_* exist with or without refit, as in scikit-learn
    assert second.best_params_ == first.best_params_
    assert second.best_index_ == first.best_index_
    assert second.best_score_ == first.best_score_
    assert hasattr(second, "best_estimator_") == refit == hasattr(second, "refit_time_")
    if refit:
        assert second.best_estimator_.get_params() == first.best_estimator_.get_params()


def test_memory_accepts_a_joblib_memory_and_a_none_location(tmp_path):
    memory = joblib.Memory(tmp_path / "cache", verbose=0)
    first = evolve(memory=memory).fit(*landscape_data())
    Landscape.fit_count = 0
    evolve(memory=memory).fit(*landscape_data())
    assert Landscape.fit_count == 1
    Landscape.fit_count = 0
    evolve(memory=joblib.Memory(None)).fit(*landscape_data())
    assert Landscape.fit_count == 3 * first.n_candidates_evaluated_ + 1


def test_memory_continues_a_longer_search(tmp_path):
    short = evolve(memory=tmp_path, generations=2).fit(*landscape_data())
    Landscape.fit_count = 0
    longer = evolve(memory=tmp_path, generations=4).fit(*landscape_data())
    reference = evolve(generations=4).fit(*landscape_data())
    n_short = len(short.cv_results_["params"])
    assert longer.n_candidates_restored_ == n_short
    assert longer.logbook_.select("nevals")[:2] == [0, 0]
    assert longer.cv_results_["params"] == reference.cv_results_["params"]
    assert longer.best_params_ == reference.best_params_
    np.testing.assert_array_equal(
        longer.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"]
    )


def test_rows_restored_after_the_last_fit_reach_cv_results_and_best(tmp_path):
    values = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    # fill the memory with six configurations...
    evolve(space={"x": values}, population_size=12, generations=1, memory=tmp_path).fit(
        *landscape_data()
    )
    # ...then search a space with one more: it fits that one early and restores later
    fitted = evolve(
        space={"x": Categorical([*values, 0.7])},
        population_size=2,
        generations=6,
        random_state=1,
        initial_population=[],  # random: the scenario needs restores after the last fit
        memory=tmp_path,
    ).fit(*landscape_data())
    nevals, restored = fitted.logbook_.select("nevals"), fitted.logbook_.select("restored")
    last_fit = max(i for i, n in enumerate(nevals) if n)
    assert any(restored[last_fit + 1 :]), "precondition: restores after the last fit"
    rows = len(fitted.cv_results_["params"])
    assert rows == fitted.n_candidates_evaluated_ + fitted.n_candidates_restored_
    scores = fitted.cv_results_["mean_test_score"]
    assert fitted.best_score_ == scores.max()
    assert fitted.best_params_ == {"x": 0.3}
    assert sorted(fitted.cv_results_["rank_test_score"]) == list(range(1, rows + 1))


@pytest.mark.parametrize(
    "change",
    [
        {"n_samples": 31},
        {"estimator": Landscape(nan_above=5.0)},
        {"cv": 4},
        {"return_train_score": True},
    ],
)
def test_memory_is_keyed_by_data_estimator_and_cv(tmp_path, change):
    evolve(memory=tmp_path).fit(*landscape_data())
    Landscape.fit_count = 0
    change = dict(change)
    X, y = landscape_data(change.pop("n_samples", 30))
    changed = evolve(memory=tmp_path, **change).fit(X, y)
    assert changed.n_candidates_restored_ == 0
    assert Landscape.fit_count == changed.n_splits_ * changed.n_candidates_evaluated_ + 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
@pytest.mark.filterwarnings("ignore:One or more of the:UserWarning")
def test_memory_keeps_failed_configurations(tmp_path):
    space = {"x": [0.1, 0.3, 0.5]}
    kwargs = dict(memory=tmp_path, refit=False, population_size=6)
    with pytest.warns(FitFailedWarning):
        first = evolve(Landscape(fail_below=0.2), space, **kwargs).fit(*landscape_data())
    Landscape.fit_count = 0
    second = evolve(Landscape(fail_below=0.2), space, **kwargs).fit(*landscape_data())
    assert Landscape.fit_count == 0
    assert_same_results(first.cv_results_, second.cv_results_)
    assert np.isnan(second.cv_results_["mean_test_score"]).sum() == 1


def test_unhashable_scoring_disables_memory_with_a_warning(tmp_path):
    def make_scorer():
        return lambda estimator, X, y=None: estimator.score(X, y)

    fitted = evolve(memory=tmp_path, scoring=make_scorer())
    with pytest.warns(UserWarning, match="memory is ignored"):
        fitted.fit(*landscape_data())
    assert fitted.n_candidates_evaluated_ > 0


def test_values_a_floating_point_error_apart_are_fitted_once():
    search = evolve(
        space={"x": Real(0.0, 1.0)},
        initial_population=[{"x": 0.46074000977497476}, {"x": 0.46074000977497470}],
        population_size=2,
        generations=1,
    ).fit(*landscape_data())
    assert search.cv_results_["params"] == [{"x": 0.4607400098}]
    assert search.cache_hits_ == 1
