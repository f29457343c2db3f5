"""Properties of the reversible encoding of tables over random small mixed-type frames:
encoding then decoding gives the frame back, and any encoded rows decode to valid values."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gan_estimators.tables.columns import discrete_column_names
from gan_estimators.tables.encoding import TableEncoder

KINDS = ("float", "int", "few_int", "bool", "category", "text", "Int64", "boolean", "string")
FLOATS = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
WORDS = st.sampled_from(["a", "b", "longer word", "", "Ünï", "3"])


def _blanked(values, missing):
    return [None if gap else value for value, gap in zip(values, missing, strict=True)]


def _column(draw, kind, n):
    """One column of ``kind`` with ``n`` rows, perhaps with missing values (never all
    missing: a continuous column needs a value)."""
    missing = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    missing[draw(st.integers(0, n - 1))] = False
    if kind == "float":
        values = draw(st.lists(FLOATS, min_size=n, max_size=n))
        return pd.Series(_blanked(values, missing), dtype=float)
    if kind in ("int", "few_int"):
        bound = 3 if kind == "few_int" else 10**9
        values = draw(st.lists(st.integers(-bound, bound), min_size=n, max_size=n))
        return pd.Series(values, dtype=np.int64)
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind == "category":
        values = draw(st.lists(WORDS, min_size=n, max_size=n))
        extra = draw(st.lists(WORDS, max_size=2))
        categories = list(dict.fromkeys([*draw(st.permutations(sorted(set(values)))), *extra]))
        values = _blanked(values, missing)
        dtype = pd.CategoricalDtype(categories, ordered=draw(st.booleans()))
        return pd.Series(values, dtype=dtype)
    if kind == "text":
        values = draw(st.lists(st.one_of(WORDS, st.integers(0, 3)), min_size=n, max_size=n))
        return pd.Series(_blanked(values, missing), dtype=object)
    strategy = {"Int64": st.integers(-50, 50), "boolean": st.booleans(), "string": WORDS}[kind]
    values = draw(st.lists(strategy, min_size=n, max_size=n))
    return pd.Series(_blanked(values, missing), dtype=kind)


@st.composite
def mixed_frames(draw):
    n = draw(st.integers(2, 25))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    return pd.DataFrame({f"{kind}_{i}": _column(draw, kind, n) for i, kind in enumerate(kinds)})


def _assert_frames_match(decoded, frame):
    """Equal; continuous columns (integers too) up to the float32 precision of the
    encoding, relative to the column's largest magnitude."""
    assert list(decoded.columns) == list(frame.columns)
    discrete = discrete_column_names(frame)
    for name in frame.columns:
        expected, actual = frame[name], decoded[name]
        assert actual.dtype == expected.dtype, name
        if name in discrete:
            pd.testing.assert_series_equal(actual, expected, obj=name)
            continue
        np.testing.assert_array_equal(actual.isna(), expected.isna(), err_msg=name)
        actual = actual.to_numpy(dtype=np.float64, na_value=np.nan)
        expected = expected.to_numpy(dtype=np.float64, na_value=np.nan)
        scale = np.nanmax(np.abs(expected))
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-5 * scale, err_msg=name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=mixed_frames())
def test_transform_then_inverse_transform_gives_the_frame_back(frame):
    encoder = TableEncoder.fit(frame)
    encoded = encoder.transform(frame)
    assert encoded.shape == (len(frame), encoder.width)
    assert encoded.dtype == np.float32
    assert np.all(np.abs(encoded) <= 1.0)
    _assert_frames_match(encoder.inverse_transform(encoded), frame)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=mixed_frames(), seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 30))
def test_any_encoded_rows_decode_to_valid_values(frame, seed, rows):
    encoder = TableEncoder.fit(frame)
    encoded = np.random.default_rng(seed).uniform(-1.2, 1.2, size=(rows, encoder.width))
    decoded = encoder.inverse_transform(encoded.astype(np.float32))
    assert len(decoded) == rows
    assert list(decoded.columns) == list(frame.columns)
    discrete = discrete_column_names(frame)
    for name in frame.columns:
        expected, actual = frame[name], decoded[name]
        assert actual.dtype == expected.dtype, name
        if not expected.isna().any():
            assert not actual.isna().any(), name
        if name in discrete:
            assert set(actual.dropna().tolist()) <= set(expected.dropna().tolist()), name
            continue
        values = actual.dropna().to_numpy(dtype=np.float64)
        assert np.all(values >= expected.min()), name
        assert np.all(values <= expected.max()), name
        if pd.api.types.is_integer_dtype(expected.dtype):
            np.testing.assert_array_equal(values, np.round(values))


def test_object_column_of_strings_and_numbers_round_trips():
    frame = pd.DataFrame({"code": pd.Series(["a", 1, "b", 2.5, None, "a"], dtype=object)})
    encoder = TableEncoder.fit(frame)
    decoded = encoder.inverse_transform(encoder.transform(frame))
    pd.testing.assert_frame_equal(decoded, frame)
