"""Quality of a synthetic table against a real one: column shapes, column pair trends and
train-on-synthetic / test-on-real.

The figures are those of SDMetrics' ``QualityReport`` [SDMetrics]_, computed here with NumPy,
pandas and SciPy only (no TensorFlow, no SDMetrics):

- *column shapes*: per column, the KS complement (``1 - D`` of the two-sample
  Kolmogorov–Smirnov test on the non-missing values, rounded to :data:`KS_DECIMALS` decimals)
  for a continuous column, the TV complement (``1 - 0.5 * sum |p_real - p_synthetic|`` over the
  non-missing values) for a discrete one;
- *column pair trends*: per pair, the correlation similarity (``1 - |r_real - r_synthetic| / 2``,
  Pearson, on the rows where both values are present) of two continuous columns, the contingency
  similarity (``1 - 0.5 * sum |P_real(a, b) - P_synthetic(a, b)|``, a missing value being a value
  of its own) otherwise; in a pair of a continuous and a discrete column the continuous column is
  first cut into :data:`PAIR_BINS` equal-width bins over the range of its own frame (real and
  synthetic each on their own edges; a column's maximum and its missing values share the bin
  after the last), as the ``QualityReport`` does;
- a pair counts only where the real table shows a trend: ``|r_real|`` above
  ``real_correlation_threshold`` for two continuous columns, Cramér's V of the real pair above
  ``real_association_threshold`` otherwise (the ``QualityReport``'s defaults); other pairs, and
  pairs whose correlation is undefined in either table (a column with a single value), score NaN
  and are left out of the mean.

Which columns are discrete is decided on the real table by
:func:`gan_estimators.tables.columns.discrete_column_names`; datetime columns are continuous and
compared as numbers.

References
----------
.. [SDMetrics] DataCebo, "SDMetrics: metrics for synthetic data", version 0.32,
   https://docs.sdv.dev/sdmetrics
"""

import itertools
import math
import sys

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp, pearsonr
from scipy.stats.contingency import association
from sklearn.base import clone

from gan_estimators.tables.columns import discrete_column_names

__all__ = [
    "KS_DECIMALS",
    "PAIR_BINS",
    "REAL_ASSOCIATION_THRESHOLD",
    "REAL_CORRELATION_THRESHOLD",
    "column_pair_trends",
    "column_shapes",
    "table_quality",
    "train_synthetic_test_real",
]

#: Decimals continuous values keep before the KS test, so that float noise is no difference.
KS_DECIMALS = sys.float_info.dig - 1
#: Equal-width bins of a continuous column paired with a discrete one.
PAIR_BINS = 10
#: A pair of continuous columns counts when ``|r|`` of the real pair is above this.
REAL_CORRELATION_THRESHOLD = 0.5
#: A pair with a discrete column counts when Cramér's V of the real pair is above this.
REAL_ASSOCIATION_THRESHOLD = 0.3


def column_shapes(real, synthetic, discrete_columns="auto"):
    """How well each column's distribution is reproduced, in [0, 1] (1: identical).

    Parameters
    ----------
    real, synthetic : DataFrame
        The real and the synthetic table, with the same columns (in any order).
    discrete_columns : "auto" or list of str, default="auto"
        Which columns are discrete, as :func:`~gan_estimators.tables.columns.discrete_column_names`
        decides on ``real``.

    Returns
    -------
    dict of str to float
        Per column of ``real``, in its order: the KS complement of a continuous column, the TV
        complement of a discrete one; NaN where a table has no value in the column.

    Raises
    ------
    TypeError
        ``real`` or ``synthetic`` is not a DataFrame.
    ValueError
        A table is empty, or the two tables have different columns.
    """
    _check_tables(real, synthetic)
    discrete = set(discrete_column_names(real, discrete_columns))
    return {
        name: (
            _tv_complement(real[name], synthetic[name])
            if name in discrete
            else _ks_complement(_as_numbers(real[name], "real"), _as_numbers(synthetic[name]))
        )
        for name in real.columns
    }


def column_pair_trends(
    real,
    synthetic,
    discrete_columns="auto",
    *,
    real_correlation_threshold=REAL_CORRELATION_THRESHOLD,
    real_association_threshold=REAL_ASSOCIATION_THRESHOLD,
):
    """How well the trend between each pair of columns is reproduced, in [0, 1] (1: identical).

    Parameters
    ----------
    real, synthetic : DataFrame
        The real and the synthetic table, with the same columns (in any order).
    discrete_columns : "auto" or list of str, default="auto"
        Which columns are discrete, as :func:`~gan_estimators.tables.columns.discrete_column_names`
        decides on ``real``.
    real_correlation_threshold : float in [0, 1], default=0.5
        A pair of continuous columns is scored only when ``|r|`` of the real pair is above it.
    real_association_threshold : float in [0, 1], default=0.3
        A pair with a discrete column is scored only when Cramér's V of the real pair is above
        it; 0 scores every such pair.

    Returns
    -------
    dict of (str, str) to float
        Per pair of columns of ``real`` (in its column order): the correlation similarity of two
        continuous columns, the contingency similarity otherwise; NaN for a pair that does not
        count (no trend in the real table, or a correlation undefined in either table).

    Raises
    ------
    TypeError
        ``real`` or ``synthetic`` is not a DataFrame.
    ValueError
        A table is empty, the two tables have different columns, or a threshold is outside
        [0, 1].
    """
    _check_tables(real, synthetic)
    for name, value in (
        ("real_correlation_threshold", real_correlation_threshold),
        ("real_association_threshold", real_association_threshold),
    ):
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"{name} must be a number in [0, 1], not {value!r}.")
    discrete = set(discrete_column_names(real, discrete_columns))
    numbers = {
        name: (_as_numbers(real[name], "real"), _as_numbers(synthetic[name]))
        for name in real.columns
        if name not in discrete
    }
    scores = {}
    for first, second in itertools.combinations(real.columns, 2):
        if first not in discrete and second not in discrete:
            scores[first, second] = _correlation_similarity(
                *numbers[first], *numbers[second], real_correlation_threshold
            )
            continue
        codes = [
            _category_codes(real[name], synthetic[name])
            if name in discrete
            else (_bins(numbers[name][0]), _bins(numbers[name][1]))
            for name in (first, second)
        ]
        scores[first, second] = _contingency_similarity(*codes, real_association_threshold)
    return scores


def table_quality(
    real,
    synthetic,
    discrete_columns="auto",
    *,
    real_correlation_threshold=REAL_CORRELATION_THRESHOLD,
    real_association_threshold=REAL_ASSOCIATION_THRESHOLD,
):
    """The quality of a synthetic table: column shapes, column pair trends and their mean.

    Parameters
    ----------
    real, synthetic : DataFrame
        The real and the synthetic table, with the same columns (in any order).
    discrete_columns : "auto" or list of str, default="auto"
        Which columns are discrete, as :func:`~gan_estimators.tables.columns.discrete_column_names`
        decides on ``real``.
    real_correlation_threshold, real_association_threshold : float in [0, 1]
        Which pairs count, as in :func:`column_pair_trends`.

    Returns
    -------
    dict
        ``"column_shapes"``: the mean of ``"per_column"`` (:func:`column_shapes`);
        ``"column_pair_trends"``: the mean of the scored pairs of ``"per_pair"``
        (:func:`column_pair_trends`); ``"overall"``: the mean of those two. All are in [0, 1],
        higher is better; a mean over nothing is NaN, and ``"overall"`` leaves a NaN out.

    Raises
    ------
    TypeError
        ``real`` or ``synthetic`` is not a DataFrame.
    ValueError
        A table is empty, the two tables have different columns, or a threshold is outside
        [0, 1].
    """
    per_column = column_shapes(real, synthetic, discrete_columns)
    per_pair = column_pair_trends(
        real,
        synthetic,
        discrete_columns,
        real_correlation_threshold=real_correlation_threshold,
        real_association_threshold=real_association_threshold,
    )
    shapes = _mean_of_numbers(per_column.values())
    pairs = _mean_of_numbers(per_pair.values())
    return {
        "overall": _mean_of_numbers([shapes, pairs]),
        "column_shapes": shapes,
        "column_pair_trends": pairs,
        "per_column": per_column,
        "per_pair": per_pair,
    }


def train_synthetic_test_real(estimator, synthetic, real_test, target, *, discrete_columns="auto"):
    """Score of an estimator trained on the synthetic table and tested on real rows (TSTR).

    A clone of ``estimator`` is fitted on the synthetic table's features (every column but
    ``target``) to predict ``target``, then scored with its own ``score`` on ``real_test``
    (accuracy for a classifier, R² for a regressor).  Discrete feature columns become integer
    codes (categories from both tables, sorted where they can be; a missing value is -1), so any
    scikit-learn estimator takes them; a continuous feature keeps its missing values as NaN.
    Rows whose ``target`` is missing are left out of both tables.

    Parameters
    ----------
    estimator : estimator
        A scikit-learn estimator; it is cloned, never fitted itself.
    synthetic : DataFrame
        The table to train on.
    real_test : DataFrame
        Real rows to test on, with the same columns as ``synthetic``.
    target : str
        The column to predict.
    discrete_columns : "auto" or list of str, default="auto"
        Which columns are discrete, as :func:`~gan_estimators.tables.columns.discrete_column_names`
        decides on ``real_test``.

    Returns
    -------
    float
        ``score`` of the fitted clone on ``real_test``.

    Raises
    ------
    TypeError
        A table is not a DataFrame.
    ValueError
        A table is empty, the tables have different columns, ``target`` is not one of them or
        is their only column, or a table has no row with a ``target`` value.
    """
    _check_tables(real_test, synthetic, real_name="real_test")
    if target not in real_test.columns:
        raise ValueError(
            f"target {target!r} is not a column of real_test and synthetic "
            f"(columns: {list(real_test.columns)!r})."
        )
    features = [name for name in real_test.columns if name != target]
    if not features:
        raise ValueError(
            f"target {target!r} is the only column: there is no feature to learn from."
        )
    discrete = set(discrete_column_names(real_test, discrete_columns))
    tables = {}
    for table_name, table in (("synthetic", synthetic), ("real_test", real_test)):
        table = table[table[target].notna()]
        if table.empty:
            raise ValueError(f"{table_name} has no row with a value of target {target!r}.")
        tables[table_name] = table
    columns = {"synthetic": [], "real_test": []}
    for name in features:
        if name in discrete:
            pair = _feature_codes(tables["synthetic"][name], tables["real_test"][name])
        else:
            pair = (
                _as_numbers(tables["synthetic"][name]),
                _as_numbers(tables["real_test"][name], "real_test"),
            )
        columns["synthetic"].append(pair[0])
        columns["real_test"].append(pair[1])
    model = clone(estimator).fit(
        np.column_stack(columns["synthetic"]), tables["synthetic"][target].to_numpy()
    )
    return float(
        model.score(np.column_stack(columns["real_test"]), tables["real_test"][target].to_numpy())
    )


def _check_tables(real, synthetic, real_name="real"):
    for name, table in ((real_name, real), ("synthetic", synthetic)):
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, not {type(table).__name__}.")
        if table.shape[0] == 0 or table.shape[1] == 0:
            raise ValueError(f"{name} is empty (shape {table.shape}): it needs rows and columns.")
        if table.columns.has_duplicates:
            duplicated = list(table.columns[table.columns.duplicated()])
            raise ValueError(f"{name} has duplicated column names {duplicated!r}.")
    missing = [name for name in real.columns if name not in synthetic.columns]
    extra = [name for name in synthetic.columns if name not in real.columns]
    if missing or extra:
        raise ValueError(
            f"synthetic must have the columns of {real_name}: it lacks {missing!r} and has "
            f"{extra!r} that {real_name} has not."
        )


def _as_numbers(column, table_name="synthetic"):
    """A continuous column as float64 with NaN for missing values (datetimes as their ticks)."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert(None)
    if pd.api.types.is_datetime64_dtype(column.dtype) or pd.api.types.is_timedelta64_dtype(
        column.dtype
    ):
        numbers = column.to_numpy().view("int64").astype(float)
        numbers[column.isna().to_numpy()] = np.nan
        return numbers
    try:
        return column.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"column {column.name!r} of {table_name} is continuous but holds values that are not "
            f"numbers ({error}); list it in discrete_columns."
        ) from None


def _ks_complement(real, synthetic):
    real = np.round(real[~np.isnan(real)], KS_DECIMALS)
    synthetic = np.round(synthetic[~np.isnan(synthetic)], KS_DECIMALS)
    if real.size == 0 or synthetic.size == 0:
        return math.nan
    return float(1.0 - ks_2samp(real, synthetic).statistic)


def _category_codes(real, synthetic):
    """Codes of both columns' values on one scale; a missing value is -1."""
    codes, _ = pd.factorize(pd.concat([real, synthetic], ignore_index=True))
    return codes[: len(real)], codes[len(real) :]


def _tv_complement(real, synthetic):
    real_codes, synthetic_codes = _category_codes(real, synthetic)
    real_codes, synthetic_codes = real_codes[real_codes >= 0], synthetic_codes[synthetic_codes >= 0]
    if real_codes.size == 0 or synthetic_codes.size == 0:
        return math.nan
    size = max(real_codes.max(), synthetic_codes.max()) + 1
    real_share = np.bincount(real_codes, minlength=size) / real_codes.size
    synthetic_share = np.bincount(synthetic_codes, minlength=size) / synthetic_codes.size
    return float(1.0 - 0.5 * np.abs(real_share - synthetic_share).sum())


def _bins(numbers):
    """Equal-width bins over the column's own range; the maximum and NaN fall after the last."""
    present = numbers[~np.isnan(numbers)]
    if not np.isfinite(present).all():
        return None  # no equal-width bins over an infinite range
    return np.digitize(numbers, np.histogram_bin_edges(present, bins=PAIR_BINS))


def _contingency_similarity(first, second, real_association_threshold):
    """``first``/``second``: (real codes, synthetic codes); a missing value is a value too."""
    if any(codes is None for pair in (first, second) for codes in pair):
        return math.nan
    first, second = _with_missing_code(first), _with_missing_code(second)
    width = _top(second) + 1
    cells = [first[i] * width + second[i] for i in range(2)]
    if real_association_threshold > 0:
        _, rows = np.unique(first[0], return_inverse=True)
        _, columns = np.unique(second[0], return_inverse=True)
        table = np.zeros((rows.max() + 1, columns.max() + 1), dtype=np.int64)
        np.add.at(table, (rows, columns), 1)
        if min(table.shape) < 2:
            return math.nan
        if association(table, method="cramer") <= real_association_threshold:
            return math.nan
    size = max(cells[0].max(), cells[1].max()) + 1
    real_share = np.bincount(cells[0], minlength=size) / cells[0].size
    synthetic_share = np.bincount(cells[1], minlength=size) / cells[1].size
    return float(1.0 - 0.5 * np.abs(real_share - synthetic_share).sum())


def _with_missing_code(pair):
    """Codes with a missing value (-1) moved to a code of its own, after the largest."""
    missing = _top(pair) + 1
    return [np.where(codes < 0, missing, codes) for codes in pair]


def _top(pair):
    return max(int(codes.max(initial=-1)) for codes in pair)


def _correlation_similarity(real_x, synthetic_x, real_y, synthetic_y, real_correlation_threshold):
    # A column with a single value has no correlation: the pair does not count.
    if any(
        np.unique(v[~np.isnan(v)]).size == 1 for v in (real_x, synthetic_x, real_y, synthetic_y)
    ):
        return math.nan
    real_r = _pearson(real_x, real_y)
    if abs(real_r) <= real_correlation_threshold:
        return math.nan
    synthetic_r = _pearson(synthetic_x, synthetic_y)
    if math.isnan(real_r) or math.isnan(synthetic_r):
        return math.nan
    return float(1.0 - abs(real_r - synthetic_r) / 2.0)


def _pearson(x, y):
    both = ~(np.isnan(x) | np.isnan(y))
    x, y = x[both], y[both]
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(pearsonr(x, y).statistic)


def _feature_codes(synthetic, real_test):
    """Integer codes of a discrete feature in both tables: categories from both, sorted where
    they compare, a missing value -1."""
    values = pd.concat([synthetic, real_test], ignore_index=True).astype(object)
    categories = list(pd.unique(values[values.notna()]))
    try:
        categories = sorted(categories)
    except TypeError:
        pass  # values of mixed types keep their order of appearance
    return tuple(
        pd.Categorical(column.astype(object), categories=categories).codes.astype(float)
        for column in (synthetic, real_test)
    )


def _mean_of_numbers(values):
    numbers = [value for value in values if not math.isnan(value)]
    return float(np.mean(numbers)) if numbers else math.nan
