"""Search-space dimensions: gene in [0, 1] <-> value, exact round trips, validation."""

import math
import pickle

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from gan_estimators import Categorical, Integer, Real, reference_space
from gan_estimators.search.space import SearchSpace, as_dimension

genes = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@st.composite
def integer_dimensions(draw):
    low = draw(st.integers(-(10**12), 10**12))
    high = draw(st.integers(low + 1, low + draw(st.sampled_from([10, 10**6, 2**48 - 1]))))
    return Integer(low, high)


@st.composite
def real_dimensions(draw):
    low = draw(finite)
    high = draw(finite)
    assume(low < high)
    return Real(low, high)


@st.composite
def log_real_dimensions(draw):
    low = draw(st.floats(min_value=1e-12, max_value=1e6))
    high = draw(st.floats(min_value=1e-12, max_value=1e9))
    assume(math.log(low) < math.log(high))
    return Real(low, high, log=True)


# -- round trips: decode(encode(v)) == v ---------------------------------------------------------


@given(integer_dimensions(), st.data())
@settings(deadline=None)  # the CPU is shared: timing is not the property
def test_integer_round_trip_is_exact(dim, data):
    value = data.draw(st.integers(dim.low, dim.high))
    gene = dim.encode(value)
    assert 0.0 <= gene <= 1.0
    assert dim.decode(gene) == value
    assert type(dim.decode(gene)) is int


@given(real_dimensions(), st.data())
@settings(deadline=None)  # the CPU is shared: timing is not the property
def test_real_round_trip_within_tolerance(dim, data):
    value = data.draw(st.floats(min_value=dim.low, max_value=dim.high))
    gene = dim.encode(value)
    assert 0.0 <= gene <= 1.0
    scale = max(abs(dim.low), abs(dim.high))
    assert math.isclose(dim.decode(gene), value, rel_tol=1e-9, abs_tol=1e-12 * scale)


@given(log_real_dimensions(), st.data())
@settings(deadline=None)  # the CPU is shared: timing is not the property
def test_log_real_round_trip_within_relative_tolerance(dim, data):
    value = data.draw(st.floats(min_value=dim.low, max_value=dim.high))
    assert math.isclose(dim.decode(dim.encode(value)), value, rel_tol=1e-9)


@given(st.lists(st.one_of(st.integers(), st.text(), st.none()), min_size=1, unique=True))
@settings(deadline=None)  # the CPU is shared: timing is not the property
def test_categorical_round_trip_is_exact(choices):
    dim = Categorical(choices)
    for value in choices:
        assert dim.decode(dim.encode(value)) == value


@pytest.mark.parametrize(
    "distribution, tolerance",
    [
        (stats.loguniform(1e-4, 1e2), 1e-9),
        (stats.uniform(-3, 5), 1e-9),
        (stats.norm(2.0, 0.5), 1e-6),
        (stats.expon(scale=3.0), 1e-6),
    ],
)
def test_continuous_distribution_round_trip(distribution, tolerance):
    dim = as_dimension(distribution)
    for value in distribution.rvs(size=50, random_state=np.random.RandomState(0)):
        assert math.isclose(dim.decode(dim.encode(value)), value, rel_tol=tolerance)


@pytest.mark.parametrize("distribution", [stats.randint(1, 10), stats.poisson(4.0)])
def test_discrete_distribution_round_trip_is_exact(distribution):
    dim = as_dimension(distribution)
    for value in np.unique(distribution.rvs(size=100, random_state=np.random.RandomState(0))):
        decoded = dim.decode(dim.encode(int(value)))
        assert decoded == value and type(decoded) is int


# -- decoded values always lie in range ----------------------------------------------------------


@given(integer_dimensions(), genes)
@settings(deadline=None)  # the CPU is shared: timing is not the property
def test_integer_decodes_in_range(dim, gene):
    assert dim.low <= dim.decode(gene) <= dim.high


@given(st.one_of(real_dimensions(), log_real_dimensions()), genes)
@settings(deadline=None)  # the CPU is shared: timing is not the property
def test_real_decodes_in_range(dim, gene):
    assert dim.low <= dim.decode(gene) <= dim.high


@given(genes)
@settings(max_examples=50, deadline=None)
def test_distribution_decodes_in_support(gene):
    assert 1e-4 <= as_dimension(stats.loguniform(1e-4, 1e2)).decode(gene) <= 1e2
    assert 1 <= as_dimension(stats.randint(1, 10)).decode(gene) <= 9
    assert math.isfinite(as_dimension(stats.norm()).decode(gene))


def test_bounds_are_reached_and_bins_are_equal():
    dim = Integer(1, 4)
    assert [dim.decode(g) for g in (0.0, 0.24, 0.25, 0.5, 0.75, 1.0)] == [1, 1, 2, 3, 4, 4]
    assert Real(0.005, 0.1).decode(0.0) == 0.005 and Real(0.005, 0.1).decode(1.0) == 0.1
    assert Real(1e-8, 1e-4, log=True).decode(0.0) == 1e-8
    assert Real(1e-8, 1e-4, log=True).decode(1.0) == 1e-4
    assert math.isclose(Real(1e-8, 1e-4, log=True).decode(0.5), 1e-6)
    assert Categorical(["a", "b"]).decode(1.0) == "b"


def test_reference_defect_bounds_not_swapped():
    # the reference decoded CRITICS with min and max swapped: encode(5) decoded to 6
    critics = reference_space()["n_critic"]
    assert [critics.decode(critics.encode(v)) for v in range(1, 11)] == list(range(1, 11))


def test_uniform_genes_give_every_integer_equally():
    dim = Integer(1, 3)
    draws = [dim.decode(g) for g in np.random.default_rng(0).random(30_000)]
    assert np.allclose(np.bincount(draws)[1:] / len(draws), 1 / 3, atol=0.01)


# -- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: Integer(5, 5), ValueError, "low must be smaller than high"),
        (lambda: Integer(5, 1), ValueError, "low must be smaller than high"),
        (lambda: Integer(1.5, 3), TypeError, "low must be an integer"),
        (lambda: Integer(0, 2**60), ValueError, "too wide"),
        (lambda: Real(1.0, 1.0), ValueError, "low must be smaller than high"),
        (lambda: Real(0.0, 1.0, log=True), ValueError, "log=True needs low > 0"),
        (lambda: Real(-1.0, 1.0, log=True), ValueError, "log=True needs low > 0"),
        (lambda: Real(0.0, math.inf), ValueError, "high must be finite"),
        (lambda: Real(1e-5, 1.0000000000000003e-05, log=True), ValueError, "too narrow"),
        (lambda: Real("a", 1.0), TypeError, "low must be a real number"),
        (lambda: Categorical([]), ValueError, "must not be empty"),
        (lambda: Categorical("abc"), TypeError, "list or tuple"),
    ],
)
def test_invalid_dimensions_are_rejected(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    "space, error, match",
    [
        ({}, ValueError, "at least one parameter"),
        ({"C": []}, ValueError, r"param_space\['C'\].*must not be empty"),
        ({"C": 1.0}, TypeError, r"param_space\['C'\] must be"),
        ({"C": "abc"}, TypeError, r"param_space\['C'\] must be"),
        ({"C": stats.rv_discrete(values=([1, 2], [0.5, 0.5])).freeze()}, None, None),
        ([("C", [1, 2])], TypeError, "must be a dict"),
        ({"C": stats.loguniform}, TypeError, r"param_space\['C'\].*frozen distribution"),
    ],
)
def test_invalid_spaces_name_the_culprit(space, error, match):
    if error is None:
        SearchSpace(space)
        return
    with pytest.raises(error, match=match):
        SearchSpace(space)


def test_sampler_without_quantile_function_is_rejected():
    class OnlyRvs:
        def rvs(self, random_state=None):
            return 1.0

    with pytest.raises(TypeError, match=r"param_space\['C'\].*no quantile function"):
        SearchSpace({"C": OnlyRvs()})


def test_unknown_parameter_names_are_rejected_with_the_valid_ones():
    space = SearchSpace({"C": [1.0], "gama": [0.1]})
    with pytest.raises(ValueError, match="'gama', which is not a parameter of SVC"):
        space.check_parameters(SVC())


def test_nested_names_are_checked_and_may_follow_a_searched_step():
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    SearchSpace({"clf__C": [1.0], "scale__with_mean": [True, False]}).check_parameters(pipe)
    # clf__max_iter is not an SVC parameter... unless "clf" itself is searched
    SearchSpace({"clf": [SVC(), LogisticRegression()], "clf__max_iter": [100]}).check_parameters(
        pipe
    )
    with pytest.raises(ValueError, match="clf__gama"):
        SearchSpace({"clf__gama": [1.0]}).check_parameters(pipe)


# -- search spaces ---------------------------------------------------------------------------------


def test_lists_and_distributions_are_accepted_like_randomized_search():
    space = SearchSpace(
        {"kernel": ["rbf", "linear"], "C": stats.loguniform(1e-2, 1e2), "deg": (2, 3)}
    )
    assert isinstance(space.dimensions[0], Categorical)
    assert isinstance(space.dimensions[2], Categorical)
    params, key = space.decode([0.9, 0.5, 0.1])
    assert params["kernel"] == "linear" and params["deg"] == 2
    assert math.isclose(params["C"], 1.0)
    assert key == (1, params["C"], 0)


def test_space_round_trip_and_exact_keys():
    space = SearchSpace(reference_space())
    params = {
        "n_filters": 64,
        "alpha": 0.2,
        "n_critic": 5,
        "clip_value": 0.01,
        "learning_rate": 5e-5,
    }
    decoded, key = space.decode(space.encode(params))
    assert decoded["n_filters"] == 64 and decoded["n_critic"] == 5
    for name in ("alpha", "clip_value", "learning_rate"):
        assert math.isclose(decoded[name], params[name], rel_tol=1e-9)
    assert hash(key) == hash(space.decode(space.encode(params))[1])


def test_gene_precision_rounds_genes_into_a_grid():
    space = SearchSpace({"x": Real(0.0, 1.0), "k": Integer(0, 99)})
    params, key = space.decode([0.1234, 0.5678], precision=1)
    assert params == {"x": 0.1, "k": 60}
    assert space.decode([0.0951, 0.6449], precision=1)[1] == key
    assert space.n_configurations is None
    assert SearchSpace({"a": [1, 2], "b": Integer(1, 3)}).n_configurations == 6


def test_categorical_choices_need_not_be_hashable():
    choices = [SVC(), LogisticRegression(), [1, 2]]
    dim = Categorical(choices)
    for i, choice in enumerate(choices):
        assert dim.decode(dim.encode(choice)) is choice
        assert dim.key(choice) == i


def test_dimensions_pickle_and_compare():
    for dim in (Integer(1, 5), Real(1e-3, 1.0, log=True), Categorical(["a", None])):
        assert pickle.loads(pickle.dumps(dim)) == dim
    assert repr(Integer(1, 5)) == "Integer(low=1, high=5)"


def test_reference_space_matches_the_spec():
    space = reference_space()
    assert space == {
        "n_filters": Integer(16, 128),
        "alpha": Real(0.05, 0.5),
        "n_critic": Integer(1, 10),
        "clip_value": Real(0.005, 0.1),
        "learning_rate": Real(1e-8, 1e-4, log=True),
    }
    assert reference_space() is not space  # a fresh dict each call
    # the reference decoded ALPHA with an integer decoder (always 0): here it spans its range
    alpha = space["alpha"]
    assert len({alpha.decode(g) for g in np.linspace(0, 1, 11)}) == 11


# -- canonical values: one key per configuration -------------------------------------------------


@given(st.one_of(real_dimensions(), log_real_dimensions()), genes)
@settings(deadline=None)  # the CPU is shared: timing is not the property
def test_decoding_is_a_fixed_point_of_the_round_trip_and_keys_are_stable(dim, gene):
    space = SearchSpace({"value": dim, "k": Integer(0, 9)})
    params, key = space.decode([gene, gene])
    again, again_key = space.decode(space.encode(params))
    assert again == params and again_key == key
    assert hash(key) == hash(again_key)


@given(st.sampled_from([stats.loguniform(1e-4, 1e2), stats.norm(2.0, 0.5)]), genes)
@settings(max_examples=50, deadline=None)
def test_distribution_values_are_canonical_too(distribution, gene):
    dim = as_dimension(distribution)
    value = dim.decode(gene)
    assert dim.decode(dim.encode(value)) == value


def test_genes_a_floating_point_error_apart_decode_to_one_value():
    # the case: two children decoding to 0.46074000977497476 and ...470
    dim = Real(0.0, 1.0)
    first, second = dim.decode(0.46074000977497476), dim.decode(0.46074000977497470)
    assert first == second == 0.4607400098
    log_dim = Real(1e-5, 1e-1, log=True)
    gene = log_dim.encode(3e-3)
    assert log_dim.decode(gene) == log_dim.decode(np.nextafter(gene, 1.0)) == 3e-3


def test_projection_clips_into_the_dimension_and_picks_the_nearest_category():
    assert Integer(0, 5).project(7) == 5 and Integer(0, 5).project(2.6) == 3
    assert Real(0.1, 1.0).project(0.0) == 0.1
    assert Real(0.0, 1.0).project(1 / 3) == 0.3333333333
    assert Categorical([16, 32, 64]).project(40) == 32
    assert Categorical(["a", "b"]).project("b") == "b"
    with pytest.raises(ValueError):
        Categorical(["a", "b"]).project("c")
    with pytest.raises(ValueError):
        Real(0.0, 1.0).project(None)
