"""How a GAN estimator trains on, samples and scores a mixed-type table (a DataFrame).

Any DataFrame ``X`` takes this path.  ``fit`` encodes it with a
:class:`~gan_estimators.tables.encoding.TableEncoder` (stored as ``_table_encoder_``), whose
encoded rows already lie in [-1, 1]: the estimator's :class:`~.layout.DataLayout` is then the
identity on them, and the MLP generator ends with a
:class:`~.table_output.TableOutput`.  ``sample`` decodes the generated rows into a DataFrame
with the training columns and dtypes; ``score`` and ``diagnostics_`` rate samples with the
table metrics of :mod:`gan_estimators.quality.tables`.
"""

import dataclasses

import numpy as np

from gan_estimators._random import draw_seed
from gan_estimators.gan.layout import TABULAR, DataLayout
from gan_estimators.quality.diagnostics import diagnose
from gan_estimators.quality.evaluation import DIAGNOSTIC_SAMPLES, purpose_seed, warn_flagged
from gan_estimators.quality.report import _plain
from gan_estimators.tables.columns import is_frame
from gan_estimators.tables.encoding import (
    TableEncoder,
    condition_prior,
    training_by_sampling,
)

#: The estimator attribute holding the fitted
#: :class:`~gan_estimators.tables.encoding.TableEncoder` of a model fitted on a DataFrame.
ENCODER_ATTRIBUTE = "_table_encoder_"
#: Streams of the seeds of a table's diagnostics and score samples.
_DIAGNOSTICS_STREAM, _SCORE_STREAM = 0x7AB1, 0x7AB2


def fitted_on_table(estimator):
    """Whether ``estimator`` was fitted on a DataFrame."""
    return getattr(estimator, ENCODER_ATTRIBUTE, None) is not None


def check_frame(estimator, X, *, reset, remedy=None):
    """``X`` checked as a training or scored table; returns it with a fresh RangeIndex.

    ``reset`` (a new fit) sets ``n_features_in_`` and ``feature_names_in_``; otherwise the
    columns must be the training columns, in order (``remedy`` ends that message when
    training continues).
    """
    if not all(isinstance(name, str) for name in X.columns):
        raise TypeError(
            "X is a DataFrame whose column names are not all strings; name every column "
            "with a string (e.g. X.columns = X.columns.astype(str))."
        )
    if X.columns.duplicated().any():
        duplicated = list(X.columns[X.columns.duplicated()])
        raise ValueError(f"X has duplicated column names {duplicated!r}; name columns uniquely.")
    if len(X) < 2 or X.shape[1] == 0:
        raise ValueError(
            f"X must have at least 2 rows and 1 column; got a DataFrame of shape {X.shape}."
        )
    numeric = X.select_dtypes(include="number")
    if len(numeric.columns) and np.isinf(numeric.to_numpy(dtype=np.float64, na_value=0)).any():
        raise ValueError("X holds infinite values; only finite numbers or missing values.")
    if reset:
        estimator.n_features_in_ = X.shape[1]
        estimator.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return X.reset_index(drop=True)
    expected = list(estimator.feature_names_in_)
    if list(X.columns) != expected:
        ending = f"; {remedy}" if remedy else ""
        raise ValueError(
            f"X has columns {list(X.columns)!r}, but this estimator was fitted on "
            f"{expected!r}{ending}."
        )
    return X.reset_index(drop=True)


def check_same_kind(estimator, X, remedy):
    """Raise unless ``X`` is a DataFrame exactly when the estimator was fitted on one."""
    if is_frame(X) != fitted_on_table(estimator):
        fitted = "a DataFrame" if fitted_on_table(estimator) else "an array"
        given = "a DataFrame" if is_frame(X) else "an array"
        raise ValueError(f"X is {given}, but this estimator was fitted on {fitted}; {remedy}.")


def start_table(estimator, frame):
    """Fit the table's encoder, and its conditions as ``classes_`` / ``class_prior_`` when
    it has discrete columns; returns the identity layout on the encoded width."""
    encoder = TableEncoder.fit(frame, estimator.discrete_columns)
    setattr(estimator, ENCODER_ATTRIBUTE, encoder)
    if encoder.discrete_names:
        estimator.class_prior_ = condition_prior(encoder, frame)
        estimator.classes_ = np.arange(len(estimator.class_prior_))
    ones = np.ones(encoder.width)
    return DataLayout(TABULAR, 2, -ones, ones)


def training_rows(estimator, frame, seed):
    """The rows and condition indices one fit call trains on (training-by-sampling), or
    ``(frame, None)`` for a table without discrete columns."""
    if getattr(estimator, "classes_", None) is None:
        return frame, None
    encoder = getattr(estimator, ENCODER_ATTRIBUTE)
    index, conditions = training_by_sampling(encoder, frame, np.random.RandomState(seed))
    return frame.iloc[index].reset_index(drop=True), conditions


def output_spans(estimator):
    """The encoded blocks the generator's output layer ends, or None for other data."""
    encoder = getattr(estimator, ENCODER_ATTRIBUTE, None)
    if encoder is None:
        return None
    return [(span.start, span.width, span.kind) for span in encoder.spans]


def rows(X, index):
    """The rows ``index`` of an array or DataFrame."""
    return X.iloc[index].reset_index(drop=True) if is_frame(X) else X[index]


def encoded(estimator, X):
    """``X`` as the numbers the networks see before scaling (tables encoded)."""
    return getattr(estimator, ENCODER_ATTRIBUTE).transform(X) if is_frame(X) else X


def table_quality_of(estimator, real, fake):
    """:func:`~gan_estimators.quality.tables.table_quality` with the training's column kinds."""
    from gan_estimators.quality.tables import table_quality

    discrete = getattr(estimator, ENCODER_ATTRIBUTE).discrete_names
    return table_quality(real, fake, discrete_columns=discrete)


def table_score(estimator, frame):
    """The overall table quality of ``len(frame)`` samples against ``frame``."""
    seed = purpose_seed(getattr(estimator, "random_state", None), _SCORE_STREAM)
    fake = estimator.sample(len(frame), random_state=seed)
    return float(table_quality_of(estimator, frame, fake)["overall"])


def _nan_as_none(value):
    """``value`` (plain JSON types) with NaN, a figure that does not apply (a pair without a
    trend in the real data), as None: equal to itself, also after a JSON round trip."""
    if isinstance(value, dict):
        return {key: _nan_as_none(item) for key, item in value.items()}
    if isinstance(value, float) and value != value:
        return None
    return value


def fit_table_diagnostics(estimator, frame):
    """Set ``diagnostics_`` of a table-fitted estimator: the failure modes, with the encoded
    rows as features, and the table quality of samples against the training rows."""
    random_state = getattr(estimator, "random_state", None)
    rng = np.random.RandomState(purpose_seed(random_state, _DIAGNOSTICS_STREAM))
    n = min(len(frame), DIAGNOSTIC_SAMPLES)
    real = frame.iloc[np.sort(rng.choice(len(frame), n, replace=False))].reset_index(drop=True)
    fake = estimator.sample(n, random_state=draw_seed(rng))
    encoder = getattr(estimator, ENCODER_ATTRIBUTE)
    report = diagnose(
        getattr(estimator, "history_", None),
        real_features=encoder.transform(real),
        fake_features=encoder.transform(fake),
        loss=getattr(estimator, "loss", None),
    )
    quality = _nan_as_none(_plain(table_quality_of(estimator, real, fake)))
    report = dataclasses.replace(report, table_quality=quality)
    estimator.diagnostics_ = report
    warn_flagged(estimator, report, stacklevel=4)
