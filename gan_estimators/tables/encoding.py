"""The reversible encoding of a mixed-type table as numbers in [-1, 1] that a GAN trains on.

:class:`TableEncoder` is fitted on a DataFrame.  Each continuous column becomes one value,
its training quantile mapped to [-1, 1] (scikit-learn's ``QuantileTransformer``: any
marginal, multi-modal or skewed, becomes uniform, and mapping back stays within the
training range); each discrete column becomes a one-hot block (scikit-learn's
``OneHotEncoder``), written as -1 / +1; a column with missing values gets a two-way block
more (present, missing), or, for a discrete column, a "missing" category.  ``spans`` lists
the blocks, so that the generator can end each one-hot block with a choice of exactly one
category.  :meth:`TableEncoder.inverse_transform` gives back a DataFrame with the training
columns, order and dtypes.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer

from gan_estimators.tables.columns import continuous_column_names, discrete_column_names

#: The kinds of encoded blocks: one value in [-1, 1], or a one-hot choice.
CONTINUOUS, DISCRETE = "continuous", "discrete"
#: Most quantiles a continuous column's transformer keeps.
MAX_QUANTILES = 1000


@dataclass(frozen=True)
class Span:
    """A block of encoded features: ``width`` columns from ``start``, of kind ``kind``."""

    start: int
    width: int
    kind: str


def _python_values(series):
    """The column as an object array of Python scalars, missing values as None."""
    values = series.astype(object).to_numpy(copy=True)
    missing = series.isna().to_numpy()
    values[missing] = None
    return np.array([v.item() if isinstance(v, np.generic) else v for v in values], dtype=object)


def category_key(value):
    """A dictionary key under which a category matches only itself: ``True`` is not ``1``
    (Python's own equality says it is), ``1`` is ``1.0``, a NumPy scalar is its Python
    value, and None and NaN both stand for a missing value."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and value != value):
        return ("missing",)
    if isinstance(value, bool):
        return ("bool", value)
    return ("value", value)


def one_hot_encoder(n_categories):
    """scikit-learn's ``OneHotEncoder`` of category indices ``0 .. n_categories - 1``, fitted
    (indices rather than values: a column may mix strings, numbers and None)."""
    indices = np.arange(n_categories).reshape(-1, 1)
    return OneHotEncoder(
        categories=[indices[:, 0]], sparse_output=False, handle_unknown="ignore"
    ).fit(indices)


def _observed_categories(series):
    """The categories of a discrete column in a stable order: a categorical's own order,
    else sorted (by text when the values are of mixed types); None last if any missing."""
    present = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        used = set(present.tolist())
        categories = [c for c in series.cat.categories.tolist() if c in used]
    else:
        distinct = {}
        for value in _python_values(present):
            distinct.setdefault(category_key(value), value)
        categories = list(distinct.values())
        try:
            categories.sort()
        except TypeError:
            categories.sort(key=repr)
    categories = [c.item() if isinstance(c, np.generic) else c for c in categories]
    if series.isna().any():
        categories.append(None)
    return categories


@dataclass
class ColumnCoding:
    """How one column is encoded.

    ``kind`` is :data:`CONTINUOUS` or :data:`DISCRETE`; ``dtype`` the pandas dtype to give
    back; ``categories`` the one-hot categories of a discrete column (None stands for a
    missing value); ``missing_rate`` the training fraction of missing values; ``transformer``
    the fitted scikit-learn transformer.
    """

    name: str
    kind: str
    dtype: object
    categories: list | None
    missing_rate: float
    transformer: object

    @property
    def has_missing(self):
        return self.missing_rate > 0

    @property
    def width(self):
        if self.kind == DISCRETE:
            return len(self.categories)
        return 1 + (2 if self.has_missing else 0)

    @classmethod
    def fit(cls, series, kind):
        missing = float(series.isna().mean())
        if kind == DISCRETE:
            categories = _observed_categories(series)
            transformer = one_hot_encoder(len(categories))
            return cls(series.name, kind, series.dtype, categories, missing, transformer)
        values = _numbers(series.dropna()).reshape(-1, 1)
        if len(values) == 0:
            raise ValueError(
                f"column {series.name!r} has no values: drop it, or list it in discrete_columns."
            )
        transformer = QuantileTransformer(
            n_quantiles=min(MAX_QUANTILES, len(values)), output_distribution="uniform"
        ).fit(values)
        return cls(series.name, kind, series.dtype, None, missing, transformer)

    def transform(self, series):
        """The column's encoded block, ``(n, width)`` float32 in [-1, 1]."""
        if self.kind == DISCRETE:
            one_hot = self.transformer.transform(self.codes(series).reshape(-1, 1))
            return (2.0 * one_hot - 1.0).astype(np.float32)
        missing = series.isna().to_numpy()
        values = _numbers(series).reshape(-1, 1)
        # A missing value stands at the median; its indicator says it is missing.
        filled = np.where(
            np.isnan(values),
            self.transformer.quantiles_[len(self.transformer.quantiles_) // 2],
            values,
        )
        block = [2.0 * self.transformer.transform(filled) - 1.0]
        if self.has_missing:
            block.append(np.where(missing[:, None], [[-1.0, 1.0]], [[1.0, -1.0]]))
        return np.hstack(block).astype(np.float32)

    def codes(self, series):
        """Index of each value's category (-1 for a value not among ``categories``)."""
        index = {category_key(c): i for i, c in enumerate(self.categories)}
        return np.array([index.get(category_key(v), -1) for v in _python_values(series)])

    def inverse_transform(self, block):
        """The column (a Series of the training dtype) from its encoded ``block``."""
        if len(block) == 0:
            return _restore_dtype(pd.Series([], name=self.name, dtype=object), self.dtype)
        if self.kind == DISCRETE:
            values = np.array(self.categories, dtype=object)[np.argmax(block, axis=1)]
            return _restore_dtype(pd.Series(values, name=self.name, dtype=object), self.dtype)
        uniform = (np.clip(block[:, :1].astype(np.float64), -1.0, 1.0) + 1.0) / 2.0
        values = self.transformer.inverse_transform(uniform)[:, 0]
        if self.has_missing:
            values = np.where(block[:, 2] > block[:, 1], np.nan, values)
        return _restore_dtype(pd.Series(values, name=self.name), self.dtype)

    def spans(self, start):
        if self.kind == DISCRETE:
            return [Span(start, self.width, DISCRETE)]
        spans = [Span(start, 1, CONTINUOUS)]
        if self.has_missing:
            spans.append(Span(start + 1, 2, DISCRETE))
        return spans


def _numbers(series):
    """A continuous column as float64, missing values as NaN (datetimes as nanoseconds)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        nanoseconds = series.dt.tz_localize(None) if series.dt.tz is not None else series
        numbers = nanoseconds.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        return np.where(series.isna().to_numpy(), np.nan, numbers.astype(np.float64))
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _restore_dtype(series, dtype):
    """``series`` given the training column's ``dtype`` (integers rounded; an integer or
    boolean column with missing values becomes pandas' nullable kind)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return series.astype(dtype)
    missing = series.isna()
    if pd.api.types.is_bool_dtype(dtype):
        if missing.any() and not isinstance(dtype, pd.BooleanDtype):
            return series.astype("boolean")
        return series.astype(dtype)
    if pd.api.types.is_integer_dtype(dtype):
        numbers = pd.to_numeric(series, errors="coerce")
        if pd.api.types.is_float_dtype(numbers.dtype):
            numbers = numbers.round()
        if missing.any() and not pd.api.types.is_extension_array_dtype(dtype):
            return numbers.astype("Int64")
        return numbers.astype(dtype)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        nanoseconds = pd.to_numeric(series, errors="coerce").round()
        times = pd.to_datetime(nanoseconds, unit="ns")
        if getattr(dtype, "tz", None) is not None:
            times = times.dt.tz_localize(dtype.tz)
        return times.astype(dtype)
    if pd.api.types.is_numeric_dtype(dtype):
        return series.astype(dtype)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return series.astype(dtype)
    return series.astype(object).where(~missing, None)


class TableEncoder:
    """The fitted encoding of a DataFrame's columns (see the module docstring).

    Use :meth:`fit` to create one.

    Attributes
    ----------
    columns : list of ColumnCoding
        One per training column, in order.
    spans : list of Span
        The encoded blocks, in order; together ``width`` features.
    """

    def __init__(self, columns):
        self.columns = columns
        self.spans, start = [], 0
        for column in columns:
            self.spans += column.spans(start)
            start += column.width
        self.width = start

    @classmethod
    def fit(cls, frame, discrete_columns="auto"):
        """Fit the encoding of ``frame`` (a DataFrame of at least one column)."""
        discrete = discrete_column_names(frame, discrete_columns)
        continuous = set(continuous_column_names(frame, discrete))
        columns = [
            ColumnCoding.fit(frame[name], CONTINUOUS if name in continuous else DISCRETE)
            for name in frame.columns
        ]
        return cls(columns)

    @property
    def names(self):
        """The training columns' names, in order."""
        return [column.name for column in self.columns]

    @property
    def discrete_names(self):
        return [column.name for column in self.columns if column.kind == DISCRETE]

    def transform(self, frame):
        """``frame`` (with the training columns) encoded: ``(n, width)`` float32."""
        blocks = [column.transform(frame[column.name]) for column in self.columns]
        return np.hstack([np.zeros((len(frame), 0), np.float32), *blocks])

    def inverse_transform(self, encoded):
        """The DataFrame ``encoded`` (``(n, width)``) stands for, with the training dtypes."""
        encoded = np.asarray(encoded)
        columns, start = {}, 0
        for column in self.columns:
            columns[column.name] = column.inverse_transform(
                encoded[:, start : start + column.width]
            ).reset_index(drop=True)
            start += column.width
        return pd.DataFrame(columns, columns=self.names)


@dataclass(frozen=True)
class Condition:
    """Discrete column ``column`` holding its ``index``-th category ``category``; its
    one-hot block is ``width`` features from ``start``."""

    column: str
    category: object
    index: int
    start: int
    width: int


def table_conditions(encoder):
    """Every (discrete column, category) condition of ``encoder``, in encoded order."""
    conditions, start = [], 0
    for column in encoder.columns:
        if column.kind == DISCRETE:
            conditions += [
                Condition(column.name, category, index, start, column.width)
                for index, category in enumerate(column.categories)
            ]
        start += column.width
    return conditions


def condition_codes(encoder, frame):
    """``(n_rows, n_discrete_columns)`` indices into :func:`table_conditions` of each row's
    category in each discrete column (-1 for a category the encoder does not know)."""
    codes, offset = [], 0
    for column in encoder.columns:
        if column.kind != DISCRETE:
            continue
        column_codes = column.codes(frame[column.name])
        codes.append(np.where(column_codes >= 0, offset + column_codes, -1))
        offset += len(column.categories)
    return np.stack(codes, axis=1) if codes else np.zeros((len(frame), 0), dtype=int)


def training_by_sampling(encoder, frame, rng):
    """Rows and conditions to train on, drawn as CTGAN's training-by-sampling draws them.

    For each of ``len(frame)`` draws: a discrete column uniformly, one of its categories
    with probability proportional to the logarithm of its frequency (so rare categories
    are trained on more often than they occur), then a row holding that category.

    Returns
    -------
    rows : ndarray of int
        Indices into ``frame``.
    conditions : ndarray of int
        The drawn condition of each row, an index into :func:`table_conditions`.
    """
    codes = condition_codes(encoder, frame)
    n_rows, n_columns = codes.shape
    columns = rng.randint(n_columns, size=n_rows)
    rows = np.empty(n_rows, dtype=int)
    conditions = np.empty(n_rows, dtype=int)
    for column in range(n_columns):
        draws = np.flatnonzero(columns == column)
        present, counts = np.unique(codes[:, column], return_counts=True)
        weights = np.log1p(counts)
        chosen = rng.choice(present, size=len(draws), p=weights / weights.sum())
        conditions[draws] = chosen
        for condition in np.unique(chosen):
            holders = np.flatnonzero(codes[:, column] == condition)
            where = draws[chosen == condition]
            rows[where] = holders[rng.randint(len(holders), size=len(where))]
    return rows, conditions


def condition_prior(encoder, frame):
    """Probability of each condition when a discrete column is drawn uniformly and its
    category with its training frequency: the conditions of unconditional samples."""
    codes = condition_codes(encoder, frame)
    prior = np.zeros(len(table_conditions(encoder)))
    for column in range(codes.shape[1]):
        np.add.at(prior, codes[:, column], 1.0 / (codes.shape[0] * codes.shape[1]))
    return prior


def impose_conditions(encoded, conditions, indices):
    """Set, in place, each encoded row's one-hot block of its condition to that category.

    ``indices[i]`` is row ``i``'s index into ``conditions`` (:func:`table_conditions`).
    """
    for code in np.unique(indices):
        condition = conditions[code]
        where = np.flatnonzero(indices == code)
        block = slice(condition.start, condition.start + condition.width)
        encoded[where, block] = -1.0
        encoded[where, condition.start + condition.index] = 1.0
    return encoded
