"""The first generation: the estimator's own configuration, or the user's list, then random."""

import numpy as np
import pytest
from _search_toys import Landscape, evolve, landscape_data


def _generation_zero(search):
    results = search.cv_results_
    return [p for p, g in zip(results["params"], results["generation"], strict=True) if g == 0]


def test_the_estimators_own_configuration_is_in_generation_zero_projected():
    # k=7 lies outside Integer(0, 5): it is clipped to 5
    search = evolve(Landscape(x=0.25, k=7, choice="b")).fit(*landscape_data())
    assert _generation_zero(search)[0] == {"x": 0.25, "k": 5, "choice": "b"}
    assert len(_generation_zero(search)) == 6


def test_the_search_never_ends_worse_than_the_estimator_as_given():
    own = Landscape(x=0.3, k=2, choice="b")  # the optimum
    search = evolve(own, generations=2).fit(*landscape_data())
    assert search.best_score_ == pytest.approx(own.score(None))
    assert search.best_params_ == {"x": 0.3, "k": 2, "choice": "b"}


def test_a_list_is_used_exactly_then_filled_up_with_random_configurations():
    given = [{"x": 0.1, "k": 1, "choice": "a"}, {"x": 0.9, "k": 4, "choice": "b"}, {"x": 0.6}]
    search = evolve(initial_population=given).fit(*landscape_data())
    first = _generation_zero(search)
    assert first[:2] == given[:2]
    assert first[2] == {"x": 0.6, "k": 0, "choice": "a"}  # the rest from Landscape()
    assert len(first) == 6


def test_more_configurations_than_population_size_are_all_evaluated_first():
    given = [{"x": x} for x in np.linspace(0.0, 1.0, 9)]
    search = evolve(initial_population=given, population_size=4).fit(*landscape_data())
    assert [p["x"] for p in _generation_zero(search)] == [float(x) for x in np.linspace(0, 1, 9)]
    assert search.logbook_.select("nevals")[1] <= 4


@pytest.mark.parametrize(
    "initial_population, error, match",
    [
        ([{"y": 1.0}], ValueError, r"initial_population\[0\] names \['y'\]"),
        ([{"x": 0.5}, {"x": 1.5}], ValueError, r"initial_population\[1\]: x=1.5 is outside"),
        ([{"choice": "c"}], ValueError, r"initial_population\[0\]: choice='c'"),
        ([("x", 0.5)], TypeError, "initial_population must be a list of parameter dicts"),
        ({"x": 0.5}, ValueError, "initial_population"),
    ],
)
def test_invalid_initial_populations_are_rejected_before_any_fit(initial_population, error, match):
    Landscape.fit_count = 0
    with pytest.raises(error, match=match):
        evolve(initial_population=initial_population).fit(*landscape_data())
    assert Landscape.fit_count == 0


def test_an_empty_list_starts_from_random_configurations_only():
    search = evolve(Landscape(x=0.25, k=3), initial_population=[]).fit(*landscape_data())
    assert {"x": 0.25, "k": 3, "choice": "a"} not in _generation_zero(search)


def test_unprojectable_values_get_random_genes():
    search = evolve(Landscape(x=None, k=4)).fit(*landscape_data())
    first = _generation_zero(search)[0]
    assert first["k"] == 4 and 0.0 <= first["x"] <= 1.0
