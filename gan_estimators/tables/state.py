"""A fitted :class:`~gan_estimators.tables.encoding.TableEncoder` as JSON and arrays, and back.

A saved model folder holds no pickle, so the encoder of a model fitted on a DataFrame is
written as a JSON document (:func:`encoder_to_json`): per column its name, kind, pandas dtype
(a categorical one with its categories, their dtype and its ``ordered`` flag), one-hot
categories (JSON values, so that integers, floats, booleans and strings come back with their
type; None for a missing value), missing rate, and the parameters of its scikit-learn
transformer; the fitted ``QuantileTransformer`` of a continuous column keeps its
``quantiles_`` and ``references_`` in arrays.  :func:`encoder_from_json` rebuilds the
encoder: the quantile transformers from their arrays, the one-hot encoders by fitting them
on their categories (all a fit of that encoder learns).

What this module writes, it reads back equal: :func:`encoder_to_json` refuses, with a
TypeError, a dtype or category it could not rebuild, and :func:`encoder_from_json` refuses,
with a ValueError naming the column, a document or array that does not describe an encoder.

This module imports neither TensorFlow nor Keras.
"""

import json
import math
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer

from gan_estimators.tables.encoding import (
    CONTINUOUS,
    DISCRETE,
    ColumnCoding,
    TableEncoder,
    category_key,
    one_hot_encoder,
)

#: The Python types of the values JSON holds exactly: categories of these types (or None for
#: a missing value) come back with their type.
_JSON_SCALARS = (bool, int, float, str)
#: The transformer of each column kind.
_TRANSFORMERS = {CONTINUOUS: QuantileTransformer, DISCRETE: OneHotEncoder}
#: The fitted arrays of a continuous column's QuantileTransformer.
_QUANTILE_ARRAYS = ("quantiles", "references")


def _is_json_scalar(value):
    return value is None or type(value) in _JSON_SCALARS


def _array_name(prefix, index, name):
    return f"{prefix}{index}_{name}"


# ------------------------------------------------------------------------------ dtypes


def _dtype_to_json(dtype):
    """A JSON object naming ``dtype`` (see :func:`_dtype_from_json`), unchecked."""
    if isinstance(dtype, pd.CategoricalDtype):
        return {
            "name": "category",
            "categories": [
                c.item() if isinstance(c, np.generic) else c for c in dtype.categories.tolist()
            ],
            "categories_dtype": _dtype_to_json(dtype.categories.dtype),
            "ordered": bool(dtype.ordered),
        }
    if isinstance(dtype, pd.StringDtype):
        # "string" and pandas' "str" differ in their missing value, which their name hides.
        missing = "NA" if dtype.na_value is pd.NA else "NaN"
        return {"name": "string", "storage": dtype.storage, "na_value": missing}
    return {"name": str(dtype)}


def _dtype_from_json(data):
    """The pandas dtype :func:`_dtype_to_json` wrote; ValueError for anything else."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ValueError(f"a dtype must be an object with a 'name'; got {data!r}")
    name = data["name"]
    if name == "category":
        categories, ordered = data.get("categories"), data.get("ordered")
        if not isinstance(categories, list) or not all(
            _is_json_scalar(c) and c is not None for c in categories
        ):
            raise ValueError(
                f"the categories of a category dtype must be a list; got {categories!r}"
            )
        if not isinstance(ordered, bool):
            raise ValueError(f"a category dtype's 'ordered' must be true or false; got {ordered!r}")
        index = pd.Index(categories, dtype=_dtype_from_json(data.get("categories_dtype")))
        return pd.CategoricalDtype(index, ordered=ordered)
    if name == "string":
        missing, storage = data.get("na_value"), data.get("storage")
        if missing not in ("NA", "NaN") or storage not in ("python", "pyarrow"):
            raise ValueError(f"not a string dtype: {data!r}")
        try:
            if missing == "NA":
                return pd.StringDtype(storage)
            return pd.StringDtype(storage, na_value=np.nan)
        except (ImportError, TypeError) as exc:  # pyarrow missing; a pandas without "str"
            raise ValueError(f"this pandas cannot build {data!r} ({exc})") from None
    try:
        dtype = pd.api.types.pandas_dtype(name)
    except (TypeError, ValueError, ImportError) as exc:
        raise ValueError(f"{name!r} is not a pandas dtype ({exc})") from None
    if isinstance(dtype, np.dtype) and dtype.kind == "V":
        raise ValueError(f"{name!r} is not a column dtype")  # raw bytes or records
    return dtype


def _same_dtype(a, b):
    """Equality of dtypes that also tells categories of other dtypes apart (an ordered
    categorical's ``==`` compares the categories' values only)."""
    if isinstance(a, pd.CategoricalDtype) and isinstance(b, pd.CategoricalDtype):
        return a == b and a.categories.dtype == b.categories.dtype
    return a == b


def _checked_dtype(column):
    """The JSON form of ``column.dtype``, refused unless it reads back as the same dtype."""
    data = _dtype_to_json(column.dtype)
    try:
        rebuilt = _dtype_from_json(json.loads(json.dumps(data)))
    except (TypeError, ValueError):
        rebuilt = None
    if rebuilt is None or not _same_dtype(rebuilt, column.dtype):
        raise TypeError(
            f"save() cannot store column {column.name!r} of dtype {column.dtype!r} as JSON; "
            "convert the column (e.g. to 'category' of strings or numbers) or use pickle or "
            "joblib.dump for this estimator instead."
        )
    return data


# ------------------------------------------------------------------------ transformers


def _params_to_json(column):
    """The JSON parameters of the column's transformer: its own, without the categories (a
    one-hot encoder is rebuilt from the column's) and with its output dtype by name."""
    params = column.transformer.get_params(deep=False)
    if column.kind == DISCRETE:
        params.pop("categories")
        params["dtype"] = np.dtype(params["dtype"]).name
    unstorable = sorted(name for name, value in params.items() if not _is_json_scalar(value))
    if unstorable:
        raise TypeError(
            f"save() cannot store the parameters {unstorable} of column {column.name!r}'s "
            f"{type(column.transformer).__name__} as JSON; use pickle or joblib.dump instead."
        )
    return params


def _transformer(kind, params, categories):
    """An unfitted transformer of ``kind`` with the stored ``params``, checked by
    scikit-learn."""
    if not isinstance(params, dict) or not all(_is_json_scalar(v) for v in params.values()):
        raise ValueError(f"transformer parameters must be an object of values; got {params!r}")
    params = dict(params)
    if kind == DISCRETE:
        try:
            dtype = np.dtype(params.get("dtype", "float64"))
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind != "f":
            raise ValueError(f"a one-hot encoder's dtype must be a float dtype; got {params}")
        params.update(dtype=dtype.type, categories=[list(categories)])
    try:
        transformer = _TRANSFORMERS[kind](**params)
        transformer._validate_params()
    except TypeError as exc:  # an unknown parameter name
        raise ValueError(f"transformer parameters {sorted(params)}: {exc}") from None
    return transformer


def _quantile_transformer(params, quantiles, references):
    """A QuantileTransformer with ``params`` fitted to the stored ``quantiles`` and
    ``references`` (as ``fit`` on one feature sets them)."""
    n = len(references)
    if references.shape != (n,) or quantiles.shape != (n, 1) or n == 0:
        raise ValueError(
            f"quantiles of shape {quantiles.shape} and references of shape "
            f"{references.shape} do not describe one feature's quantiles"
        )
    if not (np.all(np.isfinite(quantiles)) and np.all(np.isfinite(references))):
        raise ValueError("the quantiles or references hold NaN or infinite values")
    if np.any(np.diff(quantiles[:, 0]) < 0) or np.any(np.diff(references) <= 0):
        raise ValueError("the quantiles must be non-decreasing and the references increasing")
    if references[0] < 0 or references[-1] > 1:
        raise ValueError("the references must lie in [0, 1]")
    transformer = _transformer(CONTINUOUS, params, None)
    transformer.n_quantiles_ = n
    transformer.quantiles_ = quantiles.astype(np.float64)
    transformer.references_ = references.astype(np.float64)
    transformer.n_features_in_ = 1
    return transformer


# ----------------------------------------------------------------------------- columns


def _categories_to_json(column):
    unstorable = [c for c in column.categories if not _is_json_scalar(c)]
    if unstorable:
        raise TypeError(
            f"save() cannot store the values {unstorable[:3]!r} of column {column.name!r} as "
            "JSON (only strings, numbers, booleans and missing values); convert them or use "
            "pickle or joblib.dump for this estimator instead."
        )
    return list(column.categories)


def _column_to_json(column, index, prefix, arrays):
    document = {
        "name": column.name,
        "kind": column.kind,
        "dtype": _checked_dtype(column),
        "categories": None,
        "missing_rate": float(column.missing_rate),
        "transformer": _params_to_json(column),
    }
    if column.kind == DISCRETE:
        document["categories"] = _categories_to_json(column)
    else:
        for part in _QUANTILE_ARRAYS:  # the transformer's fitted quantiles_ and references_
            fitted = getattr(column.transformer, f"{part}_")
            arrays[_array_name(prefix, index, part)] = np.asarray(fitted, dtype=np.float64)
    return document


def _check_categories(categories, missing_rate):
    if not isinstance(categories, list) or not categories:
        raise ValueError(f"categories must be a non-empty list; got {categories!r}")
    if not all(_is_json_scalar(c) for c in categories):
        raise ValueError(f"categories must be strings, numbers, booleans or null: {categories!r}")
    keys = [category_key(c) for c in categories]
    if len(set(keys)) != len(keys):
        raise ValueError(f"categories must be distinct; got {categories!r}")
    if (None in categories) != (missing_rate > 0):
        raise ValueError(
            "a discrete column has a null category exactly when its missing_rate is above 0"
        )


def _column_from_json(document, index, prefix, arrays):
    if not isinstance(document, dict):
        raise ValueError(f"columns[{index}] must be a JSON object")
    name, kind = document.get("name"), document.get("kind")
    if not isinstance(name, str):
        raise ValueError(f"columns[{index}]: name must be a string; got {name!r}")
    try:
        if kind not in _TRANSFORMERS:
            raise ValueError(f"kind must be one of {sorted(_TRANSFORMERS)}; got {kind!r}")
        missing_rate = document.get("missing_rate")
        if not (
            isinstance(missing_rate, Real)
            and not isinstance(missing_rate, bool)
            and math.isfinite(missing_rate)
            and 0 <= missing_rate <= 1
        ):
            raise ValueError(f"missing_rate must be a number in [0, 1]; got {missing_rate!r}")
        dtype = _dtype_from_json(document.get("dtype"))
        categories = document.get("categories")
        params = document.get("transformer")
        if kind == DISCRETE:
            _check_categories(categories, missing_rate)
            _transformer(DISCRETE, params, range(len(categories)))
            transformer = one_hot_encoder(len(categories))
        else:
            if categories is not None:
                raise ValueError("a continuous column has no categories")
            quantiles, references = (
                arrays.get(_array_name(prefix, index, part)) for part in _QUANTILE_ARRAYS
            )
            if quantiles is None or references is None:
                raise ValueError("its quantile arrays are missing")
            transformer = _quantile_transformer(params, quantiles, references)
            categories = None
    except ValueError as exc:
        raise ValueError(f"column {name!r}: {exc}") from None
    return ColumnCoding(
        name=name,
        kind=kind,
        dtype=dtype,
        categories=categories,
        missing_rate=float(missing_rate),
        transformer=transformer,
    )


# ----------------------------------------------------------------------------- encoder


def encoder_to_json(encoder, prefix):
    """``encoder`` as a JSON document and the arrays of its continuous columns.

    Parameters
    ----------
    encoder : TableEncoder
        A fitted encoder.
    prefix : str
        Start of the arrays' names (their home is shared with other arrays).

    Returns
    -------
    document : dict
        ``{"columns": [...]}``, one JSON object per column, in order.
    arrays : dict of str to ndarray
        Each continuous column's ``quantiles`` and ``references``, named ``prefix`` +
        its column index + ``_quantiles`` / ``_references``.

    Raises
    ------
    TypeError
        A column's dtype, category or transformer parameter cannot be written as JSON and
        read back equal (a datetime category, an object that is not a string, number or
        boolean, ...).
    """
    arrays = {}
    columns = [
        _column_to_json(column, index, prefix, arrays)
        for index, column in enumerate(encoder.columns)
    ]
    return {"columns": columns}, arrays


def encoder_from_json(document, arrays, prefix):
    """The :class:`TableEncoder` :func:`encoder_to_json` wrote as ``document`` and ``arrays``.

    Parameters
    ----------
    document : dict
        The JSON document (after a JSON round trip).
    arrays : mapping of str to ndarray
        The arrays; those starting with ``prefix`` must be exactly the encoder's.
    prefix : str
        As given to :func:`encoder_to_json`.

    Returns
    -------
    TableEncoder
        Fitted: it transforms and inverse-transforms as the saved encoder did.

    Raises
    ------
    ValueError
        Naming the column at fault: a missing or malformed entry, a dtype pandas does not
        know, invalid transformer parameters, quantile arrays missing, misshapen or not
        sorted; or arrays with ``prefix`` that belong to no continuous column.
    """
    columns = document.get("columns") if isinstance(document, dict) else None
    if not isinstance(columns, list) or not columns:
        raise ValueError("the table encoder must list its columns ('columns': [...])")
    codings = [
        _column_from_json(column, index, prefix, arrays) for index, column in enumerate(columns)
    ]
    names = [coding.name for coding in codings]
    if len(set(names)) != len(names):
        raise ValueError(f"the column names {names!r} are not distinct")
    expected = {
        _array_name(prefix, index, part)
        for index, coding in enumerate(codings)
        if coding.kind == CONTINUOUS
        for part in _QUANTILE_ARRAYS
    }
    stray = sorted(name for name in arrays if name.startswith(prefix) and name not in expected)
    if stray:
        raise ValueError(f"the arrays {stray} belong to no continuous column")
    return TableEncoder(codings)
