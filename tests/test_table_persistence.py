"""Models fitted on DataFrames survive save/load and pickle with their columns: a restored model
samples the same DataFrame (values, columns, dtypes, categories) for the same random_state,
conditions included; broken table metadata in a folder is refused."""

import decimal
import json
import pickle
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from gan_estimators import GANEstimator
from gan_estimators.gan.errors import ModelFolderError
from gan_estimators.gan.fitted_state import TABLE_ARRAY_PREFIX, VERSION
from gan_estimators.gan.folder import write_manifest
from gan_estimators.gan.persistence import FORMAT
from gan_estimators.quality.diagnostics import GANTrainingWarning
from gan_estimators.tables.encoding import CONTINUOUS, TableEncoder
from gan_estimators.tables.state import encoder_from_json, encoder_to_json


def _mixed_frame(n=64, seed=0):
    """int, float with gaps, category (one unused), bool, object with gaps, string, a small
    integer and a nullable integer column."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "count": rng.integers(0, 1000, n),
            "weight": np.where(rng.random(n) < 0.2, np.nan, rng.gamma(2.0, 3.0, n)),
            "colour": pd.Categorical(
                rng.choice(["red", "green", "blue"], n),
                categories=["red", "green", "blue", "unused"],
            ),
            "flag": rng.random(n) < 0.4,
            "city": pd.Series(rng.choice(["Oslo", "Lima", None], n).tolist(), dtype=object),
            "code": pd.array(rng.choice(["a", "b"], n), dtype="string"),
            "level": rng.integers(1, 4, n),
            "rating": pd.array(
                np.where(rng.random(n) < 0.25, None, rng.integers(0, 3, n)).tolist(), dtype="Int64"
            ),
        }
    )


def _fit(frame, **params):
    params = {"n_steps": 5, "batch_size": 16, "latent_dim": 4, "n_filters": 2, **params}
    with warnings.catch_warnings():
        # A few steps are too few for the diagnostics; their warnings are not the point here.
        warnings.simplefilter("ignore", GANTrainingWarning)
        return GANEstimator.for_tables(random_state=0, **params).fit(frame)


@pytest.fixture(scope="module")
def mixed_gan():
    return _fit(_mixed_frame()), _mixed_frame(), {"colour": "green"}


@pytest.fixture(scope="module")
def penguin_gan():
    penguins = pytest.importorskip("palmerpenguins").load_penguins()
    return _fit(penguins, batch_size=32), penguins, {"species": "Chinstrap"}


def _save_load(gan, tmp_path):
    gan.save(tmp_path / "gan")
    return GANEstimator.load(tmp_path / "gan")


ROUND_TRIPS = {
    "save_load": _save_load,
    "pickle": lambda gan, tmp_path: pickle.loads(pickle.dumps(gan)),
}


def _same_frames(a, b):
    assert list(a.columns) == list(b.columns)
    assert a.dtypes.equals(b.dtypes)
    assert a.equals(b)


@pytest.mark.parametrize("how", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("which", ["mixed_gan", "penguin_gan"])
def test_a_restored_table_model_samples_the_same_dataframe(how, which, request, tmp_path):
    gan, frame, conditions = request.getfixturevalue(which)
    restored = ROUND_TRIPS[how](gan, tmp_path)

    samples = restored.sample(40, random_state=3)
    _same_frames(samples, gan.sample(40, random_state=3))
    assert samples.dtypes.equals(frame.dtypes)  # the training dtypes, categories included
    conditional = restored.sample(15, random_state=4, conditions=conditions)
    _same_frames(conditional, gan.sample(15, random_state=4, conditions=conditions))
    ((column, value),) = conditions.items()
    assert (conditional[column] == value).all()
    # The conditions are the classes of the networks: arange(K) and their prior, exactly.
    assert restored.classes_.dtype == gan.classes_.dtype
    np.testing.assert_array_equal(restored.classes_, gan.classes_)
    np.testing.assert_array_equal(restored.class_prior_, gan.class_prior_)
    assert list(restored.feature_names_in_) == list(frame.columns)
    assert restored.score(frame) == gan.score(frame)
    # The table quality of diagnostics_ comes back (NaN where a pair is undefined).
    assert restored.diagnostics_.table_quality is not None
    assert json.dumps(restored.diagnostics_.to_dict(), sort_keys=True) == json.dumps(
        gan.diagnostics_.to_dict(), sort_keys=True
    )


def test_a_loaded_encoder_keeps_every_column_and_encodes_as_the_fitted_one(mixed_gan, tmp_path):
    gan, frame, _ = mixed_gan
    loaded = _save_load(gan, tmp_path)
    for before, after in zip(
        gan._table_encoder_.columns, loaded._table_encoder_.columns, strict=True
    ):
        assert (after.name, after.kind, after.missing_rate) == (
            before.name,
            before.kind,
            before.missing_rate,
        )
        assert after.dtype == before.dtype
        # 1 and 1.0 and True are different categories: each comes back with its type.
        assert after.categories == before.categories
        assert [type(c) for c in after.categories or []] == [
            type(c) for c in before.categories or []
        ]
    np.testing.assert_array_equal(
        loaded._table_encoder_.transform(frame), gan._table_encoder_.transform(frame)
    )


def test_the_saved_folder_holds_the_columns_as_json_and_the_quantiles_as_arrays(
    mixed_gan, tmp_path
):
    gan, frame, _ = mixed_gan
    gan.save(tmp_path / "gan")
    document = json.loads((tmp_path / "gan" / "estimator.json").read_text())
    assert document["version"] == VERSION == 8
    columns = {column["name"]: column for column in document["table"]["columns"]}
    assert list(columns) == list(frame.columns)
    assert columns["colour"]["dtype"] == {
        "name": "category",
        "categories": ["red", "green", "blue", "unused"],
        "categories_dtype": {"name": "object"},
        "ordered": False,
    }
    assert columns["flag"]["categories"] == [False, True]
    assert columns["city"]["categories"][-1] is None
    assert columns["rating"]["dtype"] == {"name": "Int64"}
    assert columns["code"]["dtype"]["name"] == "string"
    assert "classes_" not in document["fitted"]
    assert len(document["table"]["class_prior_"]) == len(gan.classes_)
    with np.load(tmp_path / "gan" / "arrays.npz", allow_pickle=False) as arrays:
        table_arrays = sorted(k for k in arrays.files if k.startswith(TABLE_ARRAY_PREFIX))
        count = gan._table_encoder_.columns[0].transformer
        np.testing.assert_array_equal(arrays[f"{TABLE_ARRAY_PREFIX}0_quantiles"], count.quantiles_)
    continuous = [i for i, c in enumerate(document["table"]["columns"]) if c["kind"] == CONTINUOUS]
    assert table_arrays == sorted(
        f"{TABLE_ARRAY_PREFIX}{i}_{part}"
        for i in continuous
        for part in ("quantiles", "references")
    )


def _drop_quantiles(folder):
    with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
        kept = {k: arrays[k] for k in arrays.files if k != f"{TABLE_ARRAY_PREFIX}0_quantiles"}
    np.savez(folder / "arrays.npz", **kept)


def _column(document, name):
    return next(c for c in document["table"]["columns"] if c["name"] == name)


def _repeat_first_category(document):
    categories = _column(document, "city")["categories"]
    categories[1] = categories[0]


CORRUPTIONS = {
    "missing": (lambda d: d.pop("table"), r"lacks the key 'table'"),
    "not an object": (lambda d: d.update(table=[]), r"table must be a JSON object"),
    "unknown dtype": (
        lambda d: _column(d, "count")["dtype"].update(name="no-such-dtype"),
        r"column 'count': 'no-such-dtype' is not a pandas dtype",
    ),
    "renamed column": (
        lambda d: _column(d, "city").update(name="town"),
        r"the columns .* are not the fitted feature_names_in_",
    ),
    "lost category": (
        lambda d: _column(d, "colour")["categories"].pop(),
        r"its columns encode \d+ features, but the data range",
    ),
    "bad prior": (
        lambda d: d["table"]["class_prior_"].pop(),
        r"class_prior_ must be \d+ frequencies summing to 1",
    ),
    "repeated category": (
        _repeat_first_category,
        r"column 'city': categories must be distinct",
    ),
    "prior dropped": (
        lambda d: d["table"].update(class_prior_=None),
        r"class_prior_ must hold one frequency per condition of the discrete columns \(\d+\)",
    ),
}


@pytest.fixture(scope="module")
def saved_mixed_gan(mixed_gan, tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved") / "gan"
    mixed_gan[0].save(folder)
    return folder


@pytest.mark.parametrize("case", [*CORRUPTIONS, "missing quantiles"])
def test_a_folder_with_broken_table_metadata_is_refused(case, saved_mixed_gan, tmp_path):
    folder = tmp_path / "gan"
    shutil.copytree(saved_mixed_gan, folder)
    document = json.loads((folder / "estimator.json").read_text())
    if case == "missing quantiles":
        _drop_quantiles(folder)
        message = r"column 'count': its quantile arrays are missing"
    else:
        edit, message = CORRUPTIONS[case]
        edit(document)
    (folder / "estimator.json").write_text(json.dumps(document))
    write_manifest(folder, FORMAT, VERSION)  # edits the manifest cannot tell
    with pytest.raises(ModelFolderError, match=r"estimator\.json: (table: )?" + message):
        GANEstimator.load(folder)


def test_a_table_with_a_single_condition_round_trips(tmp_path):
    # One discrete column of one value: one condition, classes_ == [0].
    frame = pd.DataFrame({"flag": [True] * 12, "x": np.linspace(0.0, 1.0, 12)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras: a softmax over one category
        gan = _fit(frame, n_steps=2, batch_size=8)
        loaded = _save_load(gan, tmp_path)
        np.testing.assert_array_equal(loaded.classes_, [0])
        _same_frames(loaded.sample(6, random_state=0), gan.sample(6, random_state=0))


def test_array_models_write_a_null_table_and_format_7_folders_still_load(tmp_path):
    X = np.random.default_rng(1).normal(size=(40, 3))
    gan = GANEstimator(n_filters=2, latent_dim=3, n_steps=2, batch_size=16, random_state=0).fit(X)
    gan.save(tmp_path / "gan")
    document = json.loads((tmp_path / "gan" / "estimator.json").read_text())
    assert document["table"] is None
    # What format 7 wrote: no table, no discrete_columns.
    del document["table"], document["params"]["discrete_columns"]
    document["version"] = 7
    (tmp_path / "gan" / "estimator.json").write_text(json.dumps(document))
    write_manifest(tmp_path / "gan", FORMAT, 7)
    loaded = GANEstimator.load(tmp_path / "gan")
    assert loaded.discrete_columns == "auto"
    np.testing.assert_array_equal(loaded.sample(5, random_state=1), gan.sample(5, random_state=1))


def _dtype_zoo(n=12, seed=0):
    """Dtypes beyond the estimator tests': ordered integer and float categories, numbers of
    two types in one object column, pandas' NaN-missing "str", nullable booleans and floats,
    small unsigned and single-precision numbers."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ordered": pd.Categorical(rng.choice([3, 1, 2], n), categories=[3, 2, 1], ordered=True),
            "halves": pd.Categorical(rng.choice([0.5, 1.5], n)),
            "numbers": pd.Series(rng.choice([1, 2.5, None], n).tolist(), dtype=object),
            "text": pd.Series(
                rng.choice(["x", "y", None], n).tolist(),
                dtype=pd.StringDtype("python", na_value=np.nan),
            ),
            "maybe": pd.array(rng.choice([True, False, None], n).tolist(), dtype="boolean"),
            "small": rng.integers(0, 200, n).astype("uint8"),
            "single": rng.normal(size=n).astype("float32"),
            "gappy": pd.array(
                np.where(rng.random(n) < 0.3, None, rng.normal(size=n)).tolist(), dtype="Float64"
            ),
        }
    )


def test_the_encoder_state_round_trips_through_json_and_arrays():
    frame = _dtype_zoo()
    encoder = TableEncoder.fit(frame)
    document, arrays = encoder_to_json(encoder, "t__")
    restored = encoder_from_json(json.loads(json.dumps(document)), arrays, "t__")
    encoded = encoder.transform(frame)
    np.testing.assert_array_equal(restored.transform(frame), encoded)
    _same_frames(restored.inverse_transform(encoded), encoder.inverse_transform(encoded))
    numbers = next(c for c in restored.columns if c.name == "numbers")
    assert [type(c) for c in numbers.categories] == [int, float, type(None)]


def test_columns_json_cannot_hold_are_refused_before_saving():
    prices = [decimal.Decimal("1.5"), decimal.Decimal("2.5")] * 3
    encoder = TableEncoder.fit(pd.DataFrame({"price": pd.Series(prices, dtype=object)}))
    with pytest.raises(TypeError, match=r"cannot store the values .* of column 'price'"):
        encoder_to_json(encoder, "t__")
