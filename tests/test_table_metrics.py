"""Quality metrics of tables: column shapes, column pair trends, TSTR, and their agreement with
SDMetrics' QualityReport."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OrdinalEncoder

from gan_estimators.quality.tables import (
    column_pair_trends,
    column_shapes,
    table_quality,
    train_synthetic_test_real,
)
from gan_estimators.tables.columns import discrete_column_names


def _mixed_table(n=200, seed=0):
    """Correlated continuous, boolean, string, integer and category columns, with gaps."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    table = pd.DataFrame(
        {
            "x": x,
            "y": 2.0 * x + rng.normal(scale=0.3, size=n),
            "positive": x > 0,
            "level": np.where(x > 0.5, "high", np.where(x < -0.5, "low", "mid")),
            "count": (x > 0).astype(int) + rng.integers(0, 2, size=n),
            "colour": pd.Categorical(rng.choice(["red", "green"], size=n)),
        }
    )
    table.loc[rng.random(n) < 0.1, "y"] = np.nan
    table.loc[rng.random(n) < 0.1, "level"] = None
    return table


def _shuffled_columns(table, seed=0):
    """Each column permuted on its own: the same columns' distributions, no trends."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({name: rng.permutation(table[name].to_numpy()) for name in table}).astype(
        table.dtypes.to_dict()
    )


def _scored(values):
    return [value for value in values if not math.isnan(value)]


def test_identical_tables_score_one():
    real = _mixed_table()
    quality = table_quality(real, real.copy())
    assert quality["overall"] == pytest.approx(1.0)
    assert quality["column_shapes"] == pytest.approx(1.0)
    assert quality["column_pair_trends"] == pytest.approx(1.0)
    assert all(score == pytest.approx(1.0) for score in quality["per_column"].values())
    assert _scored(quality["per_pair"].values())
    assert all(score == pytest.approx(1.0) for score in _scored(quality["per_pair"].values()))
    # The column order of the synthetic table does not matter.
    assert table_quality(real, real[real.columns[::-1]])["overall"] == pytest.approx(1.0)


def test_shuffled_columns_keep_shapes_but_lose_pair_trends():
    real = _mixed_table()
    shuffled = _shuffled_columns(real)
    quality = table_quality(real, shuffled)
    assert all(score == pytest.approx(1.0) for score in quality["per_column"].values())
    assert quality["per_pair"]["x", "y"] < 0.7  # real r is about 0.99, shuffled about 0
    assert quality["per_pair"]["x", "level"] < 0.7
    assert quality["column_pair_trends"] < 0.75
    assert quality["overall"] == pytest.approx((1.0 + quality["column_pair_trends"]) / 2)


def test_small_example_computed_by_hand():
    real = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0],
            "y": [1.0, 2.0, 3.0, 4.0],
            "a": ["p", "p", "q", "r"],
            "b": ["u", "u", "v", "w"],
        }
    )
    synthetic = pd.DataFrame(
        {
            "x": [3.0, 4.0, 5.0, 6.0],
            "y": [3.0, 5.0, 4.0, 6.0],
            "a": ["p", "q", "q", "q"],
            "b": ["u", "v", "v", "v"],
        }
    )
    shapes = column_shapes(real, synthetic)
    # KS: the empirical CDFs differ by at most 1/2 (at 2 <= t < 3 and 4 <= t < 5).
    assert shapes["x"] == pytest.approx(0.5)
    # TV: p, q, r at 1/2, 1/4, 1/4 against 1/4, 3/4, 0: 1 - (1/4 + 1/2 + 1/4) / 2.
    assert shapes["a"] == pytest.approx(0.5)
    trends = column_pair_trends(real, synthetic)
    # Pearson r: 1 in the real table, 4/5 in the synthetic one: 1 - (1 - 0.8) / 2.
    assert trends["x", "y"] == pytest.approx(0.9)
    # Contingency: (p,u) (p,u) (q,v) (r,w) against (p,u) (q,v) (q,v) (q,v):
    # |1/2 - 1/4| + |1/4 - 3/4| + |1/4 - 0| = 1, so 1 - 1/2; Cramér's V of the real pair is 1.
    assert trends["a", "b"] == pytest.approx(0.5)


def test_mixed_pair_bins_each_table_over_its_own_range():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    real = pd.DataFrame({"x": x, "sign": np.where(x > 0, "plus", "minus")})
    moved = real.assign(x=real["x"] + 100.0)
    assert column_shapes(real, moved)["x"] == pytest.approx(0.0)
    assert column_pair_trends(real, moved)["x", "sign"] == pytest.approx(1.0)


def test_missing_values_are_left_out_of_shapes_but_count_in_contingency():
    real = pd.DataFrame(
        {
            "x": [1.0, 2.0, np.nan, 4.0],
            "a": ["p", None, "q", "q"],
            "b": ["u", "v", "v", "v"],
        }
    )
    synthetic = pd.DataFrame({"x": [1.0, 2.0, 4.0], "a": ["p", "q", "q"], "b": ["u", "v", "v"]})
    shapes = column_shapes(real, synthetic)
    assert shapes["x"] == pytest.approx(1.0)  # 1, 2, 4 in both tables
    assert shapes["a"] == pytest.approx(1.0)  # p, q at 1/3, 2/3 in both tables
    trends = column_pair_trends(real, synthetic, real_association_threshold=0)
    # Real (p,u) (None,v) (q,v) (q,v) against (p,u) (q,v) (q,v):
    # |1/4 - 1/3| + |1/4 - 0| + |1/2 - 2/3| = 1/2, so 1 - 1/4.
    assert trends["a", "b"] == pytest.approx(0.75)


def test_constant_column_pairs_do_not_count():
    rng = np.random.default_rng(0)
    x = rng.normal(size=100)
    real = pd.DataFrame({"x": x, "y": x + rng.normal(scale=0.1, size=100)})
    collapsed = real.assign(y=1.0)
    quality = table_quality(real, collapsed)
    assert math.isnan(quality["per_pair"]["x", "y"])
    assert math.isnan(quality["column_pair_trends"])
    assert quality["overall"] == pytest.approx(quality["column_shapes"])
    # A pair without a trend in the real table does not count either.
    noise = real.assign(y=rng.normal(size=100))
    assert math.isnan(column_pair_trends(noise, noise)["x", "y"])
    assert column_pair_trends(noise, noise, real_correlation_threshold=0)[
        "x", "y"
    ] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("real", "synthetic", "error", "match"),
    [
        (np.zeros((3, 2)), pd.DataFrame({"a": [1.0]}), TypeError, "real must be a pandas"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}), ValueError, "lacks \\['a'\\]"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": []}), ValueError, "synthetic is empty"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": ["x"]}), TypeError, "'a' of synthetic"),
    ],
)
def test_bad_tables_are_refused(real, synthetic, error, match):
    with pytest.raises(error, match=match):
        table_quality(real, synthetic)


def test_bad_thresholds_and_target_are_refused():
    table = _mixed_table(n=20)
    with pytest.raises(ValueError, match="real_correlation_threshold"):
        column_pair_trends(table, table, real_correlation_threshold=1.5)
    with pytest.raises(ValueError, match="target 'species' is not a column"):
        train_synthetic_test_real(HistGradientBoostingClassifier(), table, table, "species")


# --- Agreement with SDMetrics' QualityReport on the benchmark data -------------------------


def _perturbed(real, seed):
    """Rows resampled, a third of the columns shuffled, noise and gaps in float columns, and a
    category the real table lacks."""
    rng = np.random.default_rng(seed)
    synthetic = real.sample(n=int(0.9 * len(real)), replace=True, random_state=seed)
    synthetic = synthetic.reset_index(drop=True)
    for position, name in enumerate(synthetic.columns):
        if position % 3 == 0:
            synthetic[name] = rng.permutation(synthetic[name].to_numpy())
        if pd.api.types.is_float_dtype(synthetic[name]):
            noise = rng.normal(scale=0.3 * synthetic[name].std(), size=len(synthetic))
            synthetic[name] = synthetic[name] + noise
            synthetic.loc[rng.random(len(synthetic)) < 0.05, name] = np.nan
    text = next(name for name in real if real[name].dtype == object)
    synthetic.loc[:4, text] = "never seen"
    return synthetic


def _sdmetrics_report(real, synthetic, thresholds):
    reports = pytest.importorskip("sdmetrics.reports")
    discrete = set(discrete_column_names(real))
    columns = {}
    for name in real:
        if name in discrete:
            kind = "boolean" if pd.api.types.is_bool_dtype(real[name]) else "categorical"
        elif pd.api.types.is_datetime64_any_dtype(real[name]):
            kind = "datetime"
        else:
            kind = "numerical"
        columns[name] = {"sdtype": kind}
    report = reports.QualityReport()
    report.real_correlation_threshold, report.real_association_threshold = thresholds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(
            {"table": real},
            {"table": synthetic},
            {"tables": {"table": {"columns": columns}}},
            verbose=False,
        )
    return report


def _penguins():
    return pytest.importorskip("palmerpenguins").load_penguins()


def _cars():
    # local_data reads the copy inside the package: never a download.
    return pytest.importorskip("vega_datasets").local_data.cars()


@pytest.mark.parametrize("load", [_penguins, _cars], ids=["penguins", "cars"])
@pytest.mark.parametrize("thresholds", [(0.5, 0.3), (0.0, 0.0)], ids=["default", "every-pair"])
def test_figures_agree_with_sdmetrics_quality_report(load, thresholds):
    real = load()
    synthetic = _perturbed(real, seed=0)
    report = _sdmetrics_report(real, synthetic, thresholds)
    ours = table_quality(
        real,
        synthetic,
        real_correlation_threshold=thresholds[0],
        real_association_threshold=thresholds[1],
    )
    shapes = report.get_details("Column Shapes")
    assert dict(zip(shapes["Column"], shapes["Score"], strict=True)) == pytest.approx(
        ours["per_column"], abs=1e-6
    )
    pairs = report.get_details("Column Pair Trends")
    counted = pairs["Meets Threshold?"].fillna(False).astype(bool)
    theirs = {
        (first, second): score if count else math.nan
        for first, second, score, count in zip(
            pairs["Column 1"], pairs["Column 2"], pairs["Score"], counted, strict=True
        )
    }
    assert theirs == pytest.approx(ours["per_pair"], abs=1e-6, nan_ok=True)
    assert sum(counted) >= 10
    properties = report.get_properties()
    properties = dict(zip(properties["Property"], properties["Score"], strict=True))
    assert ours["column_shapes"] == pytest.approx(properties["Column Shapes"], abs=1e-6)
    assert ours["column_pair_trends"] == pytest.approx(properties["Column Pair Trends"], abs=1e-6)
    assert ours["overall"] == pytest.approx(report.get_score(), abs=1e-6)


# --- Train on synthetic, test on real ------------------------------------------------------


def test_tstr_on_the_real_training_rows_equals_train_on_real():
    penguins = _penguins()
    train, test = train_test_split(penguins, test_size=0.2, random_state=0)
    classifier = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    accuracy = train_synthetic_test_real(classifier, train, test, "species")

    features = [name for name in penguins if name != "species"]
    discrete = [name for name in discrete_column_names(penguins) if name in features]
    encoder = OrdinalEncoder(encoded_missing_value=-1).fit(penguins[discrete])

    def encode(table):
        encoded = table[features].copy()
        encoded[discrete] = encoder.transform(table[discrete])
        return encoded.to_numpy(dtype=float)

    reference = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(
        encode(train), train["species"]
    )
    assert accuracy == reference.score(encode(test), test["species"])
    assert accuracy > 0.9
    assert not hasattr(classifier, "classes_")  # a clone was fitted, not the estimator given
    # Rows whose features say nothing of the species teach nothing.
    shuffled = train.assign(species=np.random.default_rng(0).permutation(train["species"]))
    assert train_synthetic_test_real(classifier, shuffled, test, "species") < 0.7
