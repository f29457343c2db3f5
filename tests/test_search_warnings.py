"""Quiet candidates: warnings of candidate fits are collected and counted, not printed."""

import warnings

import numpy as np
import pytest
from _search_toys import Budgeted, ToyTrainingWarning, evolve, landscape_data

from gan_estimators import Real


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_candidate_warnings_are_counted_per_configuration_not_printed(n_jobs, capsys):
    search = evolve(
        Budgeted(n_warnings=2),
        {"x": Real(0.0, 1.0)},
        cv=2,
        n_jobs=n_jobs,
        verbose=1,
        refit=False,  # the refit is the user's own fit: it warns (see below)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(*landscape_data())
    assert not [w for w in caught if issubclass(w.category, (ToyTrainingWarning, RuntimeWarning))]
    results = search.cv_results_
    large = np.array([p["x"] > 0.8 for p in results["params"]])
    assert large.any() and not large.all(), "precondition: both kinds of configuration"
    # two toy warnings per split, plus one RuntimeWarning per split for x > 0.8
    np.testing.assert_array_equal(results["n_warnings"], np.where(large, 6, 4))
    first = results["first_warning"]
    assert all(m.startswith("ToyTrainingWarning: toy training at x=") for m in first)
    out = capsys.readouterr().out
    n_rows = len(results["params"])
    assert f"raised {4 * n_rows} ToyTrainingWarning in {n_rows} configuration(s)" in out
    assert f"raised {2 * large.sum()} RuntimeWarning in {large.sum()} configuration(s)" in out


def test_quiet_fits_report_no_warning_and_no_summary(capsys):
    search = evolve(Budgeted(), {"x": Real(0.0, 0.5)}, cv=2, verbose=1).fit(*landscape_data())
    assert (search.cv_results_["n_warnings"] == 0).all()
    assert (search.cv_results_["first_warning"] == "").all()
    assert "candidate fits raised" not in capsys.readouterr().out


def test_the_refit_warns_as_the_users_own_fit():
    search = evolve(
        Budgeted(n_warnings=1), {"x": Real(0.0, 1.0)}, cv=2, population_size=2, generations=1
    )
    with pytest.warns(ToyTrainingWarning):
        search.fit(*landscape_data())
    assert not hasattr(search, "_skl_callbacks")
