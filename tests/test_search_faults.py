"""Faults during a search: an interrupted refit, a corrupt ``memory=`` entry."""

import glob
import os
import warnings

import pytest
from _search_toys import Landscape, evolve, landscape_data


def _fits_of_a_whole_search(**kwargs):
    Landscape.fit_count = 0
    evolve(**kwargs).fit(*landscape_data())
    return Landscape.fit_count


@pytest.mark.parametrize("refit_on_interrupt", [False, True])
def test_an_interrupted_refit_keeps_the_completed_search(refit_on_interrupt):
    refit = _fits_of_a_whole_search()  # the refit is the last fit of the search
    Landscape.fit_count = 0
    search = evolve(Landscape(interrupt_at=refit), refit_on_interrupt=refit_on_interrupt)
    with pytest.raises(KeyboardInterrupt):
        search.fit(*landscape_data())
    finished = evolve().fit(*landscape_data())
    assert search.stop_reason_ == "interrupt"
    assert list(search.cv_results_["params"]) == list(finished.cv_results_["params"])
    assert search.best_params_ == finished.best_params_
    assert not hasattr(search, "best_estimator_")


def _entries(folder):
    return sorted(glob.glob(os.path.join(folder, "**", "output.pkl"), recursive=True))


def test_a_corrupt_memory_entry_is_refitted_once_and_replaced(tmp_path):
    first = evolve(memory=tmp_path).fit(*landscape_data())
    entries = _entries(tmp_path)
    assert len(entries) == first.n_candidates_evaluated_
    with open(entries[0], "wb") as file:
        file.write(b"\x80\x04 truncated")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no joblib warning (with its traceback) either
        second = evolve(memory=tmp_path).fit(*landscape_data())
        third = evolve(memory=tmp_path).fit(*landscape_data())
    assert second.n_candidates_evaluated_ == 1  # only the corrupt configuration
    assert third.n_candidates_evaluated_ == 0  # replaced: restored like the others
    for rerun in (second, third):
        assert list(rerun.cv_results_["params"]) == list(first.cv_results_["params"])


def test_an_interrupted_refit_of_a_fully_restored_search_keeps_its_results(tmp_path, monkeypatch):
    first = evolve(memory=tmp_path).fit(*landscape_data())

    def interrupted(self, X, y=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(Landscape, "fit", interrupted)  # the only fit left is the refit
    search = evolve(memory=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        search.fit(*landscape_data())
    assert search.n_candidates_evaluated_ == 0
    assert search.stop_reason_ == "interrupt"
    assert list(search.cv_results_["params"]) == list(first.cv_results_["params"])
    assert search.best_params_ == first.best_params_
    assert not hasattr(search, "best_estimator_")
