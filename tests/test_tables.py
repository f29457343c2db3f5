"""DataFrames in, DataFrames out: a GAN fitted on a mixed-type table samples the training
columns, in order, with their dtypes and only valid values; conditions, scores, pickles and
the reversible encoding of tables."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from gan_estimators import GANEstimator
from gan_estimators.quality.diagnostics import GANTrainingWarning
from gan_estimators.tables.columns import MAX_DISCRETE_INTEGER_VALUES, discrete_column_names
from gan_estimators.tables.encoding import TableEncoder

FAST = {"n_filters": 4, "latent_dim": 8, "batch_size": 16, "random_state": 0}
#: Columns of :func:`_mixed_frame` that ``discrete_columns="auto"`` models as categories.
AUTO_DISCRETE = ["rooms", "flag", "colour", "name", "member", "code"]
CONTINUOUS = ["height", "income", "count", "visits"]
INTEGERS = ["count", "visits"]


def _with_gaps(values, rate, rng):
    series = pd.Series(values, dtype=object)
    series[rng.random(len(series)) < rate] = None
    return series


def _mixed_frame(n=120, seed=0):
    """Every column kind a user's table has, with missing values in some, and an index
    that is not 0..n-1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "height": _with_gaps(170 + 10 * x, 0.2, rng).astype(np.float64),
            "income": rng.lognormal(10, 1, size=n),
            "count": rng.integers(-50, 500, size=n),
            "rooms": rng.integers(1, 4, size=n),
            "flag": x > 0,
            "colour": pd.Categorical(
                rng.choice(["red", "green", "blue"], size=n),
                categories=["red", "green", "blue", "violet"],
                ordered=True,
            ),
            "name": _with_gaps(rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.1, 0.3]), 0.2, rng),
            "visits": _with_gaps(rng.integers(0, 1000, size=n), 0.15, rng).astype("Int64"),
            "member": _with_gaps(rng.random(n) < 0.5, 0.15, rng).astype("boolean"),
            "code": _with_gaps(rng.choice(["u", "v"], size=n), 0.25, rng).astype("string"),
        }
    )
    frame.index = rng.permutation(np.arange(1000, 1000 + n))
    return frame


def _fit(frame, **params):
    with warnings.catch_warnings():
        # Tiny networks trained for a few steps collapse; that is not what these tests test.
        warnings.simplefilter("ignore", GANTrainingWarning)
        return GANEstimator.for_tables(**{**FAST, **params}).fit(frame)


@pytest.fixture(scope="module")
def frame():
    return _mixed_frame()


@pytest.fixture(scope="module")
def fitted(frame):
    return _fit(frame, n_steps=30)


@pytest.fixture(scope="module")
def samples(fitted):
    return fitted.sample(400, random_state=0)


def _assert_same_columns_and_dtypes(samples, frame):
    assert isinstance(samples, pd.DataFrame)
    assert list(samples.columns) == list(frame.columns)
    for name in frame.columns:
        assert samples[name].dtype == frame[name].dtype, name
    categories = frame["colour"].cat
    assert samples["colour"].cat.categories.tolist() == categories.categories.tolist()
    assert samples["colour"].cat.ordered == categories.ordered


def _assert_valid_values(samples, frame):
    """Discrete columns hold training values only (missing only where training had
    missing values); continuous ones lie within their training range, integers integral."""
    for name in discrete_column_names(frame):
        allowed = set(frame[name].dropna().tolist())
        assert set(samples[name].dropna().tolist()) <= allowed, name
        if not frame[name].isna().any():
            assert not samples[name].isna().any(), name
    for name in CONTINUOUS:
        values = samples[name].dropna().to_numpy(dtype=np.float64)
        assert np.all(values >= frame[name].min()), name
        assert np.all(values <= frame[name].max()), name
        if not frame[name].isna().any():
            assert not samples[name].isna().any(), name
    for name in INTEGERS:
        values = samples[name].dropna().to_numpy(dtype=np.float64)
        np.testing.assert_array_equal(values, np.round(values))


# ------------------------------------------------------------------ round trip of columns


def test_sample_has_the_training_columns_order_and_dtypes(samples, frame):
    assert len(samples) == 400
    assert isinstance(samples.index, pd.RangeIndex)
    _assert_same_columns_and_dtypes(samples, frame)
    assert samples["flag"].dtype == bool
    assert samples["count"].dtype == np.int64
    assert samples["visits"].dtype == "Int64"
    assert samples["member"].dtype == "boolean"
    assert samples["code"].dtype == "string"


def test_samples_hold_only_training_values_within_range(samples, frame):
    _assert_valid_values(samples, frame)
    # "violet" is a category of the dtype that training never held.
    assert "violet" not in set(samples["colour"])


def test_sample_of_zero_rows_is_an_empty_frame_of_the_training_dtypes(fitted, frame):
    for conditions in (None, {"name": "a"}):
        empty = fitted.sample(0, random_state=0, conditions=conditions)
        assert empty.shape == (0, frame.shape[1])
        _assert_same_columns_and_dtypes(empty, frame)


def test_decoding_any_encoded_rows_gives_valid_values(frame):
    """Whatever the generator outputs, even beyond [-1, 1], decodes to valid values."""
    encoder = TableEncoder.fit(frame)
    encoded = np.random.default_rng(1).uniform(-1.5, 1.5, size=(500, encoder.width))
    decoded = encoder.inverse_transform(encoded.astype(np.float32))
    _assert_same_columns_and_dtypes(decoded, frame)
    _assert_valid_values(decoded, frame)
    for name in CONTINUOUS:
        # Decoding reaches the training extremes (the range is not shrunk).
        values = decoded[name].dropna().to_numpy(dtype=np.float64)
        assert values.min() == frame[name].min(), name
        assert values.max() == frame[name].max(), name


def test_encoder_round_trip_reproduces_the_frame(frame):
    encoder = TableEncoder.fit(frame)
    encoded = encoder.transform(frame)
    assert encoded.dtype == np.float32
    assert encoded.shape == (len(frame), encoder.width)
    assert np.all(np.abs(encoded) <= 1.0)
    assert sum(span.width for span in encoder.spans) == encoder.width
    decoded = encoder.inverse_transform(encoded)
    expected = frame.reset_index(drop=True)
    exact = [name for name in frame.columns if name not in ("height", "income")]
    pd.testing.assert_frame_equal(decoded[exact], expected[exact])
    for name in ("height", "income"):
        assert decoded[name].dtype == np.float64
        np.testing.assert_array_equal(decoded[name].isna(), expected[name].isna())
        np.testing.assert_allclose(decoded[name], expected[name], rtol=1e-5)


def test_encoding_ignores_the_index(frame):
    encoder = TableEncoder.fit(frame)
    np.testing.assert_array_equal(
        encoder.transform(frame), encoder.transform(frame.reset_index(drop=True))
    )


# ------------------------------------------------------------------ missing values


def _gappy_frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": _with_gaps(rng.normal(5, 2, size=n), 0.3, rng).astype(np.float64),
            "count": _with_gaps(rng.integers(0, 1000, size=n), 0.25, rng).astype("Int64"),
            "kind": _with_gaps(rng.choice(["a", "b"], size=n), 0.3, rng),
            "colour": pd.Categorical(_with_gaps(rng.choice(["red", "blue"], size=n), 0.25, rng)),
            "full": rng.normal(size=n),
        }
    )


def test_missing_value_rates_are_reproduced():
    frame = _gappy_frame()
    samples = _fit(frame, n_steps=200).sample(2000, random_state=0)
    real, fake = frame.isna().mean(), samples.isna().mean()
    assert fake["full"] == 0.0
    # 0.15 absolute: a short training of a tiny network is no precise estimate, but every
    # column here misses 25-30% of its values, so a model that never (or always) generates
    # a missing value in a column fails.
    assert (fake - real).abs().max() <= 0.15, pd.DataFrame({"training": real, "samples": fake})


# ------------------------------------------------------------------ conditional sampling


@pytest.mark.parametrize(
    ("column", "value"),
    [("name", "b"), ("colour", "green"), ("flag", True), ("rooms", 2), ("code", "u")],
)
def test_one_condition_gives_only_that_value(fitted, frame, column, value):
    rows = fitted.sample(60, random_state=0, conditions={column: value})
    assert len(rows) == 60
    _assert_same_columns_and_dtypes(rows, frame)
    assert (rows[column] == value).all()
    _assert_valid_values(rows, frame)


def test_condition_on_a_missing_value_gives_missing_values(fitted):
    rows = fitted.sample(30, random_state=0, conditions={"name": None})
    assert rows["name"].isna().all()
    rows = fitted.sample(30, random_state=0, conditions={"code": np.nan})
    assert rows["code"].isna().all()


def test_two_conditions_give_only_rows_meeting_both(fitted):
    # "name" == "b" is the rarest condition; the value of "rooms" its rows hold most often
    # is generated often enough to be met in the draws.
    rooms = fitted.sample(200, random_state=1, conditions={"name": "b"})["rooms"].mode()[0]
    conditions = {"name": "b", "rooms": int(rooms)}
    rows = fitted.sample(40, random_state=0, conditions=conditions)
    assert len(rows) == 40
    assert (rows["name"] == "b").all()
    assert (rows["rooms"] == rooms).all()


def test_conditional_samples_are_reproducible(fitted):
    first = fitted.sample(20, random_state=5, conditions={"colour": "blue"})
    pd.testing.assert_frame_equal(
        first, fitted.sample(20, random_state=5, conditions={"colour": "blue"})
    )


@pytest.mark.parametrize(
    ("conditions", "match"),
    [
        ({"nope": "a"}, "'nope'.*not a discrete column"),
        ({"height": 170.0}, "'height'.*not a discrete column"),
        ({"count": 3}, "'count'.*not a discrete column"),
        ({"name": "zzz"}, "'name'.*'zzz'.*never held"),
        ({"colour": "violet"}, "'colour'.*'violet'.*never held"),
        ({"rooms": 7}, "'rooms'.*7.*never held"),
        ({"flag": 1}, "'flag'.*never held"),
        ({"colour": None}, "'colour'.*never held"),
        ({"name": "b", "nope": 1}, "'nope'"),
    ],
)
def test_bad_conditions_are_refused_naming_them(fitted, conditions, match):
    with pytest.raises(ValueError, match=match):
        fitted.sample(5, conditions=conditions)


@pytest.mark.parametrize("conditions", [{}, [("name", "b")], "name"])
def test_conditions_must_be_a_non_empty_dict(fitted, conditions):
    with pytest.raises(TypeError, match="conditions"):
        fitted.sample(5, conditions=conditions)


def test_y_and_labels_are_refused_for_a_table(fitted, frame):
    with pytest.raises(ValueError, match="conditions"):
        fitted.sample(5, y="b")
    with pytest.raises(ValueError, match="conditions"):
        fitted.sample(5, return_labels=True)
    with pytest.raises(ValueError, match="y was given with a DataFrame"):
        GANEstimator.for_tables(n_steps=1, **FAST).fit(frame, frame["name"])


def test_array_fitted_model_refuses_conditions():
    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    estimator = _fit(X, n_steps=5)
    assert isinstance(estimator.sample(4, random_state=0), np.ndarray)
    with pytest.raises(ValueError, match="not fitted on a DataFrame"):
        estimator.sample(4, conditions={"0": 1.0})
    with pytest.raises(ValueError, match="fitted on an array"):
        estimator.score(pd.DataFrame(X, columns=["a", "b", "c"]))


# ------------------------------------------------------------------ discrete columns


def test_auto_detects_text_category_bool_and_few_valued_integer_columns(frame):
    assert discrete_column_names(frame) == AUTO_DISCRETE


def test_auto_integer_threshold():
    few = np.arange(MAX_DISCRETE_INTEGER_VALUES).repeat(2)
    many = np.arange(MAX_DISCRETE_INTEGER_VALUES + 1).repeat(2)[: len(few)]
    table = pd.DataFrame(
        {"few": few, "many": many, "nullable": pd.array([*few[:-1], None], dtype="Int64")}
    )
    table.loc[0, "many"] = MAX_DISCRETE_INTEGER_VALUES
    assert table["many"].nunique() == MAX_DISCRETE_INTEGER_VALUES + 1
    assert discrete_column_names(table) == ["few", "nullable"]


def test_explicit_discrete_columns_are_sampled_as_training_values(frame):
    listed = ["count", *AUTO_DISCRETE]
    estimator = _fit(frame, n_steps=5, discrete_columns=listed)
    assert estimator._table_encoder_.discrete_names == [n for n in frame.columns if n in listed]
    samples = estimator.sample(200, random_state=0)
    _assert_same_columns_and_dtypes(samples, frame)
    assert set(samples["count"]) <= set(frame["count"])
    # A listed column is a category even when conditioning on it.
    value = int(frame["count"].iloc[0])
    rows = estimator.sample(10, random_state=0, conditions={"count": value})
    assert (rows["count"] == value).all()


@pytest.mark.parametrize(
    ("discrete_columns", "error", "match"),
    [
        (["rooms", "nope", *AUTO_DISCRETE], ValueError, "'nope'"),
        (["rooms", "flag", "colour", "member", "code"], ValueError, "'name'"),
        ("some", ValueError, "discrete_columns"),
        (3, ValueError, "discrete_columns"),
    ],
)
def test_bad_discrete_columns_are_refused_before_training(frame, discrete_columns, error, match):
    estimator = GANEstimator.for_tables(n_steps=1, discrete_columns=discrete_columns, **FAST)
    with pytest.raises(error, match=match):
        estimator.fit(frame)
    assert not hasattr(estimator, "generator_")


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda t: t.set_axis(range(t.shape[1]), axis=1), TypeError, "column names"),
        (lambda t: t.set_axis(["a", *(["b"] * (t.shape[1] - 1))], axis=1), ValueError, "dupl"),
        (lambda t: t.assign(income=np.inf), ValueError, "infinite"),
        (lambda t: t.iloc[:1], ValueError, "at least 2 rows"),
        (lambda t: t.assign(height=np.nan), ValueError, "'height'"),
    ],
)
def test_bad_tables_are_refused_before_training(frame, change, error, match):
    estimator = GANEstimator.for_tables(n_steps=1, **FAST)
    with pytest.raises(error, match=match):
        estimator.fit(change(frame))
    assert not hasattr(estimator, "generator_")


# ------------------------------------------------------------------ score, diagnostics, pickle


def test_score_and_diagnostics_rate_tables(fitted, frame):
    score = fitted.score(frame)
    assert isinstance(score, float)
    assert 0.0 <= score <= 1.0
    assert score == fitted.score(frame)
    quality = fitted.diagnostics_.table_quality
    assert 0.0 <= quality["overall"] <= 1.0
    assert set(quality["per_column"]) == set(frame.columns)
    with pytest.raises(ValueError, match="columns"):
        fitted.score(frame[list(reversed(frame.columns))])
    with pytest.raises(ValueError, match="fitted on a DataFrame"):
        fitted.score(np.zeros((5, frame.shape[1])))


def test_pickle_keeps_the_columns_and_the_samples(fitted, frame):
    restored = pickle.loads(pickle.dumps(fitted))
    for random_state, conditions in [(3, None), (4, {"colour": "red"})]:
        expected = fitted.sample(50, random_state=random_state, conditions=conditions)
        again = restored.sample(50, random_state=random_state, conditions=conditions)
        pd.testing.assert_frame_equal(again, expected)
    _assert_same_columns_and_dtypes(restored.sample(5, random_state=0), frame)
    assert list(restored.feature_names_in_) == list(frame.columns)
    assert restored.score(frame) == fitted.score(frame)


def test_training_continues_on_a_table_with_discrete_columns(frame):
    gan = _fit(frame, n_steps=20)
    steps = gan.n_steps_
    gan.partial_fit(frame)
    assert gan.n_steps_ == 2 * steps
    _assert_valid_values(gan.sample(50, random_state=0), frame)
    with pytest.raises(ValueError, match="columns"):
        gan.partial_fit(frame[list(reversed(frame.columns))])
