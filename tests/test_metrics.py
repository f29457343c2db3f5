"""Sample-quality metrics against hand-computed values, reference formulas and invariants."""

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_estimators.quality import metrics as M
from gan_estimators.quality import neighbours

# ------------------------------------------------------------------------------------------
# Fréchet distance
# ------------------------------------------------------------------------------------------


def test_fd_hand_computed_1d():
    # real: mean 1, var (ddof=1) 2; fake: mean 3, var 8.
    # FD = (1 - 3)^2 + 2 + 8 - 2 * sqrt(2 * 8) = 4 + 10 - 8 = 6
    assert M.frechet_distance([[0.0], [2.0]], [[1.0], [5.0]]) == pytest.approx(6.0)


def test_fd_from_stats_hand_computed_diagonal():
    # tr(S1 + S2 - 2 sqrt(S1 S2)) with S1 = diag(1, 4), S2 = diag(4, 9): 18 - 2 (2 + 6) = 2
    value = M.frechet_distance_from_stats([0, 0], np.diag([1.0, 4.0]), [0, 0], np.diag([4.0, 9]))
    assert value == pytest.approx(2.0)
    value = M.frechet_distance_from_stats([1, 2], np.eye(2), [0, 0], np.eye(2))
    assert value == pytest.approx(5.0)


def test_fd_identical_sets_is_zero():
    X = np.random.default_rng(0).normal(size=(50, 6))
    assert M.frechet_distance(X, X) == pytest.approx(0.0, abs=1e-9)


def test_fd_shifted_set_is_squared_shift():
    X = np.random.default_rng(1).normal(size=(200, 3))
    shift = np.array([1.0, 2.0, 0.0])
    assert M.frechet_distance(X, X + shift) == pytest.approx(5.0, abs=1e-8)


def test_fd_shifted_gaussians_approximately_squared_shift():
    rng = np.random.default_rng(2)
    shift = np.array([3.0, 0.0, -4.0, 0.0])  # |shift|^2 = 25
    real = rng.normal(size=(20000, 4))
    fake = rng.normal(size=(20000, 4)) + shift
    assert M.frechet_distance(real, fake) == pytest.approx(25.0, rel=0.01)


def test_fd_matches_sqrtm_formula_on_well_conditioned_data():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    fake = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + 1.0
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert M.frechet_distance(real, fake) == pytest.approx(expected, rel=1e-8)


def test_fd_stable_on_singular_covariances():
    # Fewer samples than dimensions and duplicated rows: covariances are singular, their
    # computed eigenvalues slightly negative; the result must stay real, finite and >= 0.
    rng = np.random.default_rng(4)
    real = rng.normal(size=(10, 64))
    fake = np.repeat(rng.normal(size=(2, 64)), 5, axis=0)
    value = M.frechet_distance(real, fake)
    assert np.isfinite(value) and value >= 0
    assert M.frechet_distance(fake, fake) == pytest.approx(0.0, abs=1e-8)


# ------------------------------------------------------------------------------------------
# KID
# ------------------------------------------------------------------------------------------


def test_kid_hand_computed_1d():
    # k(x, y) = (x y + 1)^3, X = {0, 1}, Y = {1, 2}:
    # XX: k(0,1) = 1 -> 1;  YY: k(1,2) = 27 -> 27;  XY: 1 + 1 + 8 + 27 = 37 -> 2 * 37 / 4
    result = M.kid([[0.0], [1.0]], [[1.0], [2.0]], n_subsets=1, subset_size=2)
    assert result.mean == pytest.approx(1 + 27 - 18.5)
    assert result.std == 0.0


def test_kid_hand_computed_2d_uses_dimension_and_can_be_negative():
    # k(x, y) = (x.y / 2 + 1)^3; X = {(1,0), (0,1)}, Y = {(1,1), (0,0)}:
    # XX = 1, YY = 1, XY: 3.375 + 1 + 3.375 + 1 = 8.75 -> 2 * 8.75 / 4 = 4.375
    result = M.kid([[1, 0], [0, 1]], [[1, 1], [0, 0]], n_subsets=3, subset_size=2)
    assert result.mean == pytest.approx(1 + 1 - 4.375)


def test_kid_matches_brute_force_unbiased_mmd():
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(40, 3)), rng.normal(size=(30, 3)) + 0.5
    d = 3

    def k(a, b):
        return (a @ b / d + 1) ** 3

    def brute(x, y):
        s = len(x)
        xx = sum(k(x[i], x[j]) for i in range(s) for j in range(s) if i != j)
        yy = sum(k(y[i], y[j]) for i in range(s) for j in range(s) if i != j)
        xy = sum(k(x[i], y[j]) for i in range(s) for j in range(s))
        return xx / (s * (s - 1)) + yy / (s * (s - 1)) - 2 * xy / s**2

    # The subsets drawn by kid() with a seed, redrawn here in the same order.
    result = M.kid(real, fake, n_subsets=4, subset_size=10, random_state=0)
    rs = np.random.RandomState(0)
    values = []
    for _ in range(4):
        ir = rs.choice(40, 10, replace=False)
        jf = rs.choice(30, 10, replace=False)
        values.append(brute(real[ir], fake[jf]))
    assert result.mean == pytest.approx(np.mean(values))
    assert result.std == pytest.approx(np.std(values))


def test_kid_identical_and_equal_distributions_near_zero():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(500, 8))
    far = M.kid(X, X + 1.0).mean
    assert abs(M.kid(X, X).mean) < 0.01 * far
    assert abs(M.kid(X, rng.normal(size=(500, 8))).mean) < 0.01 * far


def test_kid_subsets_give_spread():
    rng = np.random.default_rng(7)
    result = M.kid(rng.normal(size=(300, 4)), rng.normal(size=(300, 4)) + 0.3, subset_size=50)
    assert result.std > 0
    assert result.mean > 0


# ------------------------------------------------------------------------------------------
# k-NN metrics
# ------------------------------------------------------------------------------------------

REAL_1D = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
FAKE_1D = np.array([[0.5], [20.0], [2.9]])


# Precision/recall, k=1: real radii 1, 1, 1, 1, 7.  Fakes: 0.5 (inside), 20 (outside: 10 > 7),
# 2.9 (inside) -> precision 2/3.  Fake radii 2.4, 17.1, 2.4; every real lies in a fake ball
# (10 is 10 <= 17.1 from the outlier 20) -> recall 1: recall's known outlier weakness.
# Density/coverage, k=1: balls containing each fake: 0.5 -> {0, 1}; 20 -> none; 2.9 -> {2, 3}:
# density 4 / (1 * 3).  Real balls holding a fake: 0, 1, 2, 3 but not 10 (nearest fake
# 7.1 > 7): coverage 4/5.
@pytest.mark.parametrize(
    ("pair", "first", "second", "expected"),
    [
        (M.precision_recall, M.precision, M.recall, (2 / 3, 1.0)),
        (M.density_coverage, M.density, M.coverage, (4 / 3, 0.8)),
    ],
)
def test_neighbourhood_metrics_hand_computed(pair, first, second, expected):
    values = pair(REAL_1D, FAKE_1D, k=1)
    assert values == pytest.approx(expected)
    assert first(REAL_1D, FAKE_1D, k=1) == values[0]
    assert second(REAL_1D, FAKE_1D, k=1) == values[1]


def test_closed_balls_keep_discrete_data_on_its_manifold():
    X = np.array([[0.0], [0.0], [1.0], [1.0], [1.0], [2.0]])
    assert M.precision_recall(X, X, k=1) == (1.0, 1.0)
    assert M.density_coverage(X, X, k=1)[1] == 1.0


def test_single_repeated_sample_has_zero_recall():
    rng = np.random.default_rng(8)
    real = rng.normal(size=(200, 5))
    fake = np.repeat(rng.normal(size=(1, 5)), 200, axis=0)
    assert M.recall(real, fake) == 0.0
    assert M.duplicate_fraction(real, fake) == 1.0
    assert M.diversity_ratio(real, fake) == pytest.approx(0.0, abs=1e-6)


def test_same_distribution_expected_coverage():
    # Naeem et al., Lemma 2: E[coverage] = 1 - prod_{i=1..k} (n - i) / (2n - i) for n = m.
    rng = np.random.default_rng(9)
    n, k = 1000, 5
    expected = 1 - math.prod((n - i) / (2 * n - i) for i in range(1, k + 1))
    values = [M.coverage(rng.normal(size=(n, 4)), rng.normal(size=(n, 4))) for _ in range(3)]
    assert np.mean(values) == pytest.approx(expected, abs=0.01)
    density = M.density(rng.normal(size=(n, 4)), rng.normal(size=(n, 4)))
    assert density == pytest.approx(1.0, abs=0.1)


def test_duplicate_fraction_hand_computed():
    # Real NN distances 1, 1, 1, 1, 7 -> the 1% quantile is 1.  Fake NN distances:
    # 0 -> 0.5, 0.5 -> 0.5, 5 -> 4, 9 -> 4: two of four are <= 1.
    fake = np.array([[0.0], [0.5], [5.0], [9.0]])
    assert M.duplicate_fraction(REAL_1D, fake) == pytest.approx(0.5)


def test_duplicate_threshold_ignores_exact_copies_in_the_real_data():
    # Real: 0 and 4, each three times.  Distinct NN distances: 4, 4 -> tau = 4.
    real = np.array([[0.0], [0.0], [0.0], [4.0], [4.0], [4.0]])
    fake = np.array([[0.0], [3.0], [10.0], [20.0]])  # NN: 3, 3, 7, 10
    assert M.duplicate_fraction(real, fake) == pytest.approx(0.5)
    assert M.compute_metrics(real, fake, ["duplicate_fraction"])["duplicate_fraction"] == 0.5


def test_diversity_ratio_hand_computed():
    assert M.diversity_ratio([[0.0], [2.0]], [[0.0], [1.0]]) == pytest.approx(0.5)
    assert M.diversity_ratio([[0.0], [0.0]], [[0.0], [1.0]]) == math.inf
    assert M.diversity_ratio([[0.0], [0.0]], [[1.0], [1.0]]) == 0.0


def test_chunked_distances_match_unchunked(monkeypatch):
    rng = np.random.default_rng(10)
    real, fake = rng.normal(size=(120, 3)), rng.normal(size=(90, 3)) + 0.2
    expected = M.compute_metrics(real, fake)
    monkeypatch.setattr(neighbours, "_CHUNK_ROWS", 7)
    assert M.compute_metrics(real, fake) == pytest.approx(expected)


def test_compute_metrics_matches_individual_functions():
    rng = np.random.default_rng(11)
    real, fake = rng.normal(size=(150, 4)), rng.normal(size=(120, 4)) * 1.2
    out = M.compute_metrics(real, fake, random_state=3)
    assert set(out) == {*M.METRIC_NAMES, "kid_std"}
    assert out["fd"] == pytest.approx(M.frechet_distance(real, fake))
    kid = M.kid(real, fake, random_state=np.random.RandomState(3))
    assert out["kid"] == pytest.approx(kid.mean)
    assert (out["precision"], out["recall"]) == pytest.approx(M.precision_recall(real, fake))
    assert (out["density"], out["coverage"]) == pytest.approx(M.density_coverage(real, fake))
    assert out["duplicate_fraction"] == pytest.approx(M.duplicate_fraction(real, fake))
    only = M.compute_metrics(real, fake, ["coverage"])
    assert only == {"coverage": out["coverage"]}
    assert M.compute_metrics(real, fake, ["recall"], pr_k=5)["recall"] == pytest.approx(
        M.recall(real, fake, k=5)
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: M.frechet_distance(np.zeros((5, 2)), np.zeros((5, 3))), "same number"),
        (lambda: M.frechet_distance(np.zeros((5,)), np.zeros((5, 3))), "2-D"),
        (lambda: M.frechet_distance(np.zeros((1, 2)), np.zeros((5, 2))), "at least 2"),
        (lambda: M.kid([[np.nan]] * 3, [[0.0]] * 3), "NaN"),
        (lambda: M.kid(np.zeros((5, 2)), np.zeros((5, 2)), subset_size=1), "subset_size"),
        (lambda: M.precision_recall(np.zeros((3, 2)), np.ones((9, 2))), "more than k=3"),
        (lambda: M.density_coverage(np.zeros((9, 2)), np.ones((9, 2)), k=0), "positive"),
        (lambda: M.duplicate_fraction(np.eye(3), np.eye(3), quantile=2), "quantile"),
        (lambda: M.compute_metrics(np.eye(3), np.eye(3), ["fid"]), "unknown metric"),
    ],
)
def test_invalid_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------


@st.composite
def feature_pairs(draw, min_n=6):
    """Two continuous feature sets (ties have probability zero) of equal dimension."""
    n = draw(st.integers(min_n, 40))
    m = draw(st.integers(min_n, 40))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    shift = draw(st.floats(-3, 3))
    scale = draw(st.floats(0.2, 3))
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d)) * scale + shift, rng


PROPERTY_SETTINGS = settings(max_examples=40, deadline=None)


@PROPERTY_SETTINGS
@given(feature_pairs())
def test_fd_symmetric_nonnegative_and_invariant(data):
    real, fake, rng = data
    value = M.frechet_distance(real, fake)
    assert value >= 0
    assert M.frechet_distance(fake, real) == pytest.approx(value, rel=1e-6, abs=1e-8)
    assert M.frechet_distance(rng.permutation(real), rng.permutation(fake)) == pytest.approx(
        value, rel=1e-6, abs=1e-8
    )
    offset = rng.normal(size=real.shape[1]) * 5
    assert M.frechet_distance(real + offset, fake + offset) == pytest.approx(
        value, rel=1e-6, abs=1e-8
    )
    # Rotating both sets leaves every distance unchanged.
    q, _ = np.linalg.qr(rng.normal(size=(real.shape[1], real.shape[1])))
    assert M.frechet_distance(real @ q, fake @ q) == pytest.approx(value, rel=1e-6, abs=1e-8)


@PROPERTY_SETTINGS
@given(feature_pairs())
def test_kid_full_sets_symmetric_and_permutation_invariant(data):
    real, fake, rng = data
    s = min(len(real), len(fake))
    real, fake = real[:s], fake[:s]
    value = M.kid(real, fake, n_subsets=1).mean
    assert M.kid(fake, real, n_subsets=1).mean == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert M.kid(rng.permutation(real), rng.permutation(fake), n_subsets=1).mean == (
        pytest.approx(value, rel=1e-9, abs=1e-9)
    )


@PROPERTY_SETTINGS
@given(feature_pairs())
def test_knn_metrics_ranges_swap_symmetry_and_permutation_invariance(data):
    real, fake, rng = data
    out = M.compute_metrics(real, fake)
    for name in ("precision", "recall", "coverage", "duplicate_fraction"):
        assert 0.0 <= out[name] <= 1.0
    assert out["density"] >= 0 and out["diversity"] >= 0
    # Precision of (real, fake) is recall of (fake, real), and vice versa.
    precision, recall = M.precision_recall(real, fake)
    assert M.precision_recall(fake, real) == (recall, precision)
    permuted = M.compute_metrics(rng.permutation(real), rng.permutation(fake))
    assert permuted["fd"] == pytest.approx(out["fd"], rel=1e-6, abs=1e-8)
    for name in ("precision", "recall", "density", "coverage", "duplicate_fraction"):
        assert permuted[name] == out[name]


@PROPERTY_SETTINGS
@given(feature_pairs())
def test_set_against_itself_is_perfect(data):
    real, _, _ = data
    assert M.frechet_distance(real, real) == pytest.approx(0.0, abs=1e-7)
    assert M.precision_recall(real, real) == (1.0, 1.0)
    assert M.coverage(real, real) == 1.0
    assert M.diversity_ratio(real, real) == pytest.approx(1.0)


def test_as_score_makes_every_metric_greater_is_better():
    assert M.METRIC_NAMES == tuple(M.METRIC_DIRECTIONS)
    assert M.as_score("fd", 3.0) == -3.0
    assert M.as_score("duplicate_fraction", 0.25) == -0.25
    assert M.as_score("coverage", 0.75) == 0.75
    assert M.as_score("diversity", 1.0) == 0.0
    assert M.as_score("diversity", 0.5) == M.as_score("diversity", 2.0) == -math.log(2.0)
    assert M.as_score("diversity", 0.0) == -math.inf
