"""EvolutionarySearchCV: max_fits, max_time, patience, callbacks and KeyboardInterrupt."""

from itertools import pairwise

import pytest
from _search_toys import Landscape, evolve, landscape_data

from gan_estimators import Integer


@pytest.fixture(autouse=True)
def _reset_fit_count():
    Landscape.fit_count = 0


# -- budgets --------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_fits", [3, 20, 27, 1000])
def test_max_fits_bounds_the_number_of_fits(max_fits):
    fitted = evolve(max_fits=max_fits, refit=False, generations=4).fit(*landscape_data())
    assert Landscape.fit_count == 3 * fitted.n_candidates_evaluated_ <= max_fits
    assert len(fitted.cv_results_["params"]) == fitted.n_candidates_evaluated_
    if max_fits < 1000:
        assert fitted.stop_reason_ == "max_fits"
        assert Landscape.fit_count > max_fits - 3  # the budget is used up to one candidate
    else:
        assert fitted.stop_reason_ == "generations"


def test_max_fits_counts_restored_configurations_so_a_rerun_retraces(tmp_path):
    first = evolve(max_fits=20, memory=tmp_path, generations=4).fit(*landscape_data())
    Landscape.fit_count = 0
    second = evolve(max_fits=20, memory=tmp_path, generations=4).fit(*landscape_data())
    assert Landscape.fit_count == 1  # the refit
    assert second.cv_results_["params"] == first.cv_results_["params"]
    assert second.stop_reason_ == "max_fits"


def test_max_time_stops_after_the_running_generation():
    fitted = evolve(max_time=1e-9, generations=10).fit(*landscape_data())
    assert len(fitted.logbook_) == 1
    assert fitted.stop_reason_ == "max_time"
    assert hasattr(fitted, "best_estimator_")


def test_patience_stops_when_the_best_score_stalls():
    # tag does not change the score: no generation improves on the first
    fitted = evolve(space={"tag": Integer(0, 1000)}, patience=2, generations=10).fit(
        *landscape_data()
    )
    assert len(fitted.logbook_) == 3
    assert fitted.stop_reason_ == "patience"


def test_patience_is_reset_by_improvements():
    fitted = evolve(patience=1, generations=10, population_size=8).fit(*landscape_data())
    best = fitted.logbook_.select("best")
    # with patience=1 every generation but the last improved on its predecessor
    assert all(later > earlier for earlier, later in pairwise(best[:-1]))
    assert fitted.stop_reason_ in {"patience", "generations"}


# -- callbacks ------------------------------------------------------------------------------------


def test_callbacks_see_every_generation_and_can_stop_the_search():
    seen = []

    def record(entry):
        seen.append(entry)

    def stop_at_second(entry):
        return entry["gen"] == 1

    fitted = evolve(callbacks=[record, stop_at_second], generations=5).fit(*landscape_data())
    assert [entry["gen"] for entry in seen] == [0, 1]
    assert set(seen[0]) == set(fitted.logbook_.header)
    assert seen[1]["best"] == fitted.logbook_[1]["best"]
    assert fitted.stop_reason_ == "callback" and len(fitted.logbook_) == 2


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"max_time": 1e-9}, "max_time"),
        ({"space": {"tag": Integer(0, 1000)}, "patience": 2}, "patience"),
        ({"max_fits": 27, "refit": False}, "max_fits"),
        ({}, "generations"),
    ],
)
def test_callbacks_see_the_generation_that_stops_the_search(kwargs, reason):
    seen = []
    fitted = evolve(callbacks=seen.append, **{"generations": 4, **kwargs}).fit(*landscape_data())
    assert fitted.stop_reason_ == reason
    assert [entry["gen"] for entry in seen] == list(fitted.logbook_.select("gen"))
    assert seen[-1] == fitted.logbook_[-1]


def test_a_callback_asking_to_stop_on_the_last_generation_is_the_stop_reason():
    fitted = evolve(callbacks=lambda entry: entry["gen"] == 3, generations=4).fit(*landscape_data())
    assert len(fitted.logbook_) == 4 and fitted.stop_reason_ == "callback"


def test_a_single_callable_is_accepted():
    fitted = evolve(callbacks=lambda entry: True).fit(*landscape_data())
    assert len(fitted.logbook_) == 1


# -- KeyboardInterrupt ----------------------------------------------------------------------------


def test_interrupt_keeps_completed_generations_and_reraises_without_refit():
    # 6 configurations x 3 folds = 18 fits in generation 0; the 20th fit is interrupted
    fitted = evolve(estimator=Landscape(interrupt_at=20))
    with pytest.raises(KeyboardInterrupt):
        fitted.fit(*landscape_data())
    assert len(fitted.logbook_) == 1
    assert len(fitted.cv_results_["params"]) == 6
    assert (fitted.cv_results_["generation"] == 0).all()
    assert fitted.stop_reason_ == "interrupt"
    assert fitted.best_params_ == fitted.cv_results_["params"][fitted.best_index_]
    assert fitted.best_score_ == fitted.cv_results_["mean_test_score"].max()
    assert not hasattr(fitted, "best_estimator_")
    assert not hasattr(fitted, "_state")


def test_interrupt_refits_the_best_so_far_when_asked():
    fitted = evolve(estimator=Landscape(interrupt_at=20), refit_on_interrupt=True)
    fitted.fit(*landscape_data())  # returns normally
    assert fitted.stop_reason_ == "interrupt"
    assert len(fitted.logbook_) == 1 and len(fitted.cv_results_["params"]) == 6
    assert fitted.best_estimator_.x == fitted.best_params_["x"]
    assert Landscape.fit_count == 18 + 2 + 1  # generation 0, two of generation 1, the refit


def test_interrupt_in_the_first_generation_leaves_an_empty_logbook():
    fitted = evolve(estimator=Landscape(interrupt_at=2), refit_on_interrupt=True)
    with pytest.raises(KeyboardInterrupt):
        fitted.fit(*landscape_data())
    assert len(fitted.logbook_) == 0
    assert not hasattr(fitted, "cv_results_")


def test_interrupt_from_a_callback_keeps_the_generation_it_saw():
    def interrupt(entry):
        if entry["gen"] == 1:
            raise KeyboardInterrupt

    fitted = evolve(callbacks=interrupt)
    with pytest.raises(KeyboardInterrupt):
        fitted.fit(*landscape_data())
    assert len(fitted.logbook_) == 2
    assert set(fitted.cv_results_["generation"]) == {0, 1}
