"""Which columns of a DataFrame are discrete.

Discrete columns are modelled as categories (one-hot, sampled as one valid category each);
every other column is continuous.  :func:`discrete_column_names` is the one place that
decides it, for the GAN's encoding and for the quality metrics of tables alike.
"""

import pandas as pd

#: An integer column with at most this many distinct values is discrete under ``"auto"``.
MAX_DISCRETE_INTEGER_VALUES = 10


def is_frame(X):
    """Whether ``X`` is a pandas DataFrame (the input that takes the table path)."""
    return isinstance(X, pd.DataFrame)


def _is_discrete_dtype(series):
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return True
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return True
    if pd.api.types.is_integer_dtype(dtype):
        return series.nunique(dropna=True) <= MAX_DISCRETE_INTEGER_VALUES
    return False


def discrete_column_names(frame, discrete_columns="auto"):
    """The names of the discrete columns of ``frame``, in column order.

    Parameters
    ----------
    frame : DataFrame
        The table.
    discrete_columns : "auto" or list of str, default="auto"
        ``"auto"``: object, string, category and boolean columns, and integer columns with
        at most :data:`MAX_DISCRETE_INTEGER_VALUES` distinct values.  A list names them.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        A listed name is not a column of ``frame``, or an object/string column is not listed
        (it cannot be modelled as a number).
    TypeError
        ``discrete_columns`` is neither ``"auto"`` nor a list of column names.
    """
    if isinstance(discrete_columns, str):
        if discrete_columns != "auto":
            raise ValueError(
                "discrete_columns must be 'auto' or a list of column names, not "
                f"{discrete_columns!r}."
            )
        return [name for name in frame.columns if _is_discrete_dtype(frame[name])]
    if not isinstance(discrete_columns, list | tuple):
        raise TypeError(
            "discrete_columns must be 'auto' or a list of column names, not "
            f"{type(discrete_columns).__name__}."
        )
    unknown = [name for name in discrete_columns if name not in frame.columns]
    if unknown:
        raise ValueError(
            f"discrete_columns names {unknown!r}, which are not columns of X "
            f"(columns: {list(frame.columns)!r})."
        )
    listed = set(discrete_columns)
    textual = [
        name
        for name in frame.columns
        if name not in listed and not _is_numeric_like(frame[name].dtype)
    ]
    if textual:
        raise ValueError(
            f"columns {textual!r} hold non-numeric values but are not in discrete_columns; "
            "list them there (or use discrete_columns='auto')."
        )
    return [name for name in frame.columns if name in listed]


def _is_numeric_like(dtype):
    """Values a continuous column can hold: numbers and datetimes (not booleans)."""
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return True
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def continuous_column_names(frame, discrete):
    """The columns of ``frame`` not in ``discrete``, in column order."""
    discrete = set(discrete)
    return [name for name in frame.columns if name not in discrete]
