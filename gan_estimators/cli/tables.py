"""Tables on the command line: ``fit --data FILE.csv`` and ``sample --csv FILE``.

A ``.csv`` or ``.parquet`` file is read as a pandas DataFrame and checked as the estimator
will check it, before any training; ``sample`` of a model fitted on a table writes the
sampled DataFrame as CSV, ``--condition COLUMN=VALUE`` reading each value as one of the
categories the column held in training.

pandas, the estimator and the table encoding are imported inside the functions that need
them.
"""

import os

from gan_estimators.cli.console import UserError
from gan_estimators.cli.io import replaced_atomically

#: The file name endings ``--data`` reads as a table, and the reader of each.
TABLE_FORMATS = {".csv": "CSV", ".parquet": "Parquet"}

#: The package ``pandas.read_parquet`` needs for ``.parquet`` files.
PARQUET_ENGINE = "pyarrow"

#: Most column names a progress line lists.
_SHOWN_NAMES = 12


def is_table_file(path):
    """Whether ``--data path`` names a table file (``.csv`` or ``.parquet``)."""
    return os.path.splitext(str(path))[1].lower() in TABLE_FORMATS


def _names_text(names):
    shown = ", ".join(str(name) for name in names[:_SHOWN_NAMES])
    more = f", ... ({len(names)} in all)" if len(names) > _SHOWN_NAMES else ""
    return shown + more


def read_table(path):
    """The table in the ``.csv`` or ``.parquet`` file ``path``, and one line describing it.

    Returns
    -------
    frame : DataFrame
        The file as pandas reads it (``read_csv``; ``read_parquet`` with pyarrow).
    description : str

    Raises
    ------
    UserError
        A missing or unreadable file, or a ``.parquet`` file without pyarrow installed.
    """
    import pandas as pd

    kind = TABLE_FORMATS[os.path.splitext(str(path))[1].lower()]
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file")
    if kind == "Parquet":
        try:
            __import__(PARQUET_ENGINE)
        except ImportError:
            raise UserError(
                f"{path}: reading a .parquet file needs the package {PARQUET_ENGINE}, which is "
                f"not installed (pip install {PARQUET_ENGINE}); or save the table as .csv"
            ) from None
    try:
        if kind == "Parquet":
            frame = pd.read_parquet(path, engine=PARQUET_ENGINE)
        else:
            frame = pd.read_csv(path)
    except (ValueError, OSError) as exc:  # pandas' and pyarrow's parse errors are ValueErrors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: not a readable {kind} table ({first})") from None
    return frame, f"{path}: a table of {len(frame)} rows and {frame.shape[1]} columns"


def check_table(estimator, frame, path):
    """Raise a :class:`UserError` for a table that ``estimator``'s ``fit`` would refuse.

    The checks are the estimator's own (column names, rows, infinite values, the
    ``discrete_columns`` it names, columns without values), run on a clone, before any
    training.

    Returns
    -------
    discrete, continuous : list of str
        The columns modelled as categories and as numbers.
    """
    from sklearn.base import clone

    from gan_estimators.gan.table_path import check_frame
    from gan_estimators.tables.columns import continuous_column_names
    from gan_estimators.tables.encoding import TableEncoder

    try:
        checked = check_frame(clone(estimator), frame, reset=True)
        encoder = TableEncoder.fit(checked, estimator.discrete_columns)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path}: {exc}") from None
    return encoder.discrete_names, continuous_column_names(checked, encoder.discrete_names)


def columns_line(discrete, continuous):
    """The column kinds of a table, in one line."""
    parts = []
    for names, kind in ((discrete, "discrete"), (continuous, "continuous")):
        if names:
            parts.append(f"{len(names)} {kind} ({_names_text(names)})")
    return "Columns: " + "; ".join(parts)


def table_quality_line(estimator):
    """The table quality of a fitted estimator's ``diagnostics_`` in words; None if absent."""
    report = getattr(getattr(estimator, "diagnostics_", None), "table_quality", None)
    if not report:
        return None
    pairs = report["column_pair_trends"]
    # None when no pair of training columns has a trend to reproduce.
    pairs_text = "none to rate" if pairs is None else f"{pairs:.2f}"
    return (
        f"table quality {report['overall']:.2f} against the training rows (column shapes "
        f"{report['column_shapes']:.2f}, column pair trends {pairs_text})"
    )


def write_csv(path, frame):
    """Write ``frame`` to the CSV file ``path`` without its index (missing values as empty
    cells); returns ``path``."""
    with replaced_atomically(path, newline="", encoding="utf-8") as handle:
        frame.to_csv(handle, index=False)
    return path


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _reads_as(text, category):
    """Whether ``--condition`` text ``text`` stands for the training category ``category``
    (an empty text for a missing value, as CSV files write them)."""
    if category is None:
        return text == ""
    if isinstance(category, bool):
        return text.strip().lower() == str(category).lower()
    if _is_number(category):
        try:
            return float(text) == category
        except ValueError:
            return False
    return False


def _condition_value(column, text, categories):
    """The training category of ``column`` that ``text`` stands for: the one it spells
    (``str(category)``), else the one it reads as (``"2007"`` is 2007, ``"true"`` True)."""
    spelled = [category for category in categories if category is not None]
    for category in spelled:
        if str(category) == text:
            return category
    for category in categories:
        if _reads_as(text, category):
            return category
    shown = ", ".join("(missing: an empty value)" if c is None else str(c) for c in categories)
    raise UserError(
        f"--condition {column}={text}: column {column!r} never held {text!r} in training; its "
        f"values: {shown}"
    )


def parse_conditions(estimator, pairs):
    """``--condition`` pairs ``(column, text)`` as the ``conditions`` of ``estimator.sample``:
    each text read as one of the categories its column held in training.

    Raises
    ------
    UserError
        A column named twice, not in the table, or continuous; a value the column never held.
    """
    from gan_estimators.gan.table_path import ENCODER_ATTRIBUTE
    from gan_estimators.tables.encoding import table_conditions

    encoder = getattr(estimator, ENCODER_ATTRIBUTE)
    discrete = encoder.discrete_names
    choices = f"its discrete columns: {_names_text(discrete)}" if discrete else "it has none"
    conditions = {}
    for column, text in pairs:
        if column in conditions:
            raise UserError(f"--condition names column {column!r} twice")
        if column not in encoder.names:
            raise UserError(
                f"--condition {column}={text}: {column!r} is not a column of the model's "
                f"table; {choices}"
            )
        if column not in discrete:
            raise UserError(
                f"--condition {column}={text}: {column!r} is a continuous column; --condition "
                f"takes a discrete one; {choices}"
            )
        categories = [c.category for c in table_conditions(encoder) if c.column == column]
        conditions[column] = _condition_value(column, text, categories)
    return conditions


def sample_table(args, estimator):
    """``sample`` of a model fitted on a table: ``-n`` rows, meeting every ``--condition``,
    written to ``--csv``.

    Raises
    ------
    UserError
        ``--npy``, ``--png`` or ``--class`` given (they are for models of arrays), no
        ``--csv``, a bad ``--condition``, or conditions the model rarely generates.
    """
    if args.npy is not None:
        raise UserError(
            "this model generates table rows (a DataFrame), not an array: write them with "
            "--csv FILE instead of --npy"
        )
    if args.png is not None:
        raise UserError("this model generates table rows, not images: write them with --csv FILE")
    if args.classes is not None:
        raise UserError(
            "--class is for a model fitted with --conditional; this one was fitted on a table: "
            "use --condition COLUMN=VALUE"
        )
    conditions = None
    if args.conditions is not None:
        conditions = parse_conditions(estimator, args.conditions)
    try:
        frame = estimator.sample(args.n, random_state=args.random_state, conditions=conditions)
    except ValueError as exc:
        if conditions is None:
            raise
        # The model met the conditions too rarely in its rounds of draws.
        raise UserError(str(exc)) from None
    written = write_csv(args.csv, frame)
    print(f"Wrote {len(frame)} rows of {frame.shape[1]} columns to {written}")
    return 0
