"""Validation of training data for generative estimators, of held-out data and of ``sample``'s
arguments.

Tabular input (2-D, numpy or pandas) goes through scikit-learn's ``validate_data`` so that
``n_features_in_`` / ``feature_names_in_`` and their consistency checks behave exactly as in
any scikit-learn estimator; stacks of images (3-D ``(n, h, w)`` or 4-D ``(n, h, w, c)``)
go through ``check_array(allow_nd=True)``.  Both reject sparse, complex, non-numeric,
NaN / infinite, empty and single-sample input with a ``ValueError`` or ``TypeError`` that
names ``X``.
"""

from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.utils.validation import check_array, validate_data

#: Fewest samples a GAN can be fitted on (one sample has no distribution to learn, and
#: scikit-learn's common checks expect the "1 sample" error).
MIN_SAMPLES = 2


def _ndim(X):
    if sparse.issparse(X):
        return 2
    if hasattr(X, "ndim"):
        return X.ndim
    if hasattr(X, "iloc") or hasattr(X, "columns"):
        return 2
    try:
        return np.ndim(X)
    except Exception:  # ragged nested lists: let check_array produce its message
        return 2


def validate_training_data(estimator, X, *, reset):
    """Validate ``X`` for ``fit`` / ``partial_fit``.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator; for tabular input ``n_features_in_`` and ``feature_names_in_`` are
        set (``reset=True``) or checked (``reset=False``) on it.
    X : array-like or DataFrame
        ``(n_samples, n_features)``, ``(n_samples, height, width)`` or
        ``(n_samples, height, width, channels)``.
    reset : bool
        Whether this call starts a new fit.

    Returns
    -------
    X : ndarray of float32
        The validated data.
    """
    # scikit-learn's quick finiteness test sums X: data near the float32 limits overflows that
    # sum (then checked value by value) and would warn about it.
    with np.errstate(over="ignore", invalid="ignore"):
        return _validated(estimator, X, reset)


def _validated(estimator, X, reset):
    ndim = _ndim(X)
    if ndim in (3, 4):
        X = check_array(
            X,
            accept_sparse=False,
            dtype=np.float32,
            allow_nd=True,
            ensure_min_samples=MIN_SAMPLES,
            ensure_all_finite=True,
            input_name="X",
        )
        if 0 in X.shape[1:]:
            raise ValueError(f"X must not have an empty image dimension; got shape {X.shape}.")
        return X
    if ndim > 4:
        raise ValueError(
            "X must be 2-D (n_samples, n_features), 3-D (n_samples, height, width) or 4-D "
            f"(n_samples, height, width, channels); got a {ndim}-D array."
        )
    # 0-D, 1-D and 2-D input: validate_data raises scikit-learn's usual "Expected 2D
    # array" message for the first two.
    return validate_data(
        estimator,
        X,
        reset=reset,
        accept_sparse=False,
        dtype=np.float32,
        ensure_min_samples=MIN_SAMPLES,
        ensure_all_finite=True,
    )


def check_sample_arguments(n, random_state):
    """Raise a ValueError naming the argument unless ``sample(n, random_state)`` can run.

    ``n`` must be a non-negative integer; ``random_state`` None, an integer seed in
    [0, 2**32 - 1], a ``RandomState`` or a ``Generator``.
    """
    if isinstance(n, bool | np.bool_) or not isinstance(n, Integral) or n < 0:
        raise ValueError(f"n must be a non-negative integer; got {n!r}.")
    if random_state is None or isinstance(
        random_state, np.random.RandomState | np.random.Generator
    ):
        return
    if (
        isinstance(random_state, bool | np.bool_)
        or not isinstance(random_state, Integral)
        or not 0 <= random_state < 2**32
    ):
        raise ValueError(
            "random_state must be None, an integer in [0, 2**32 - 1], a RandomState or a "
            f"Generator; got {random_state!r}."
        )


def check_validation_data(data, X):
    """Raise a ValueError naming ``validation_data`` unless it can be scored against an
    estimator fitted on the validated ``X``: finite numbers, at least 2 samples, each shaped
    like a sample of ``X`` (a single-channel image with or without its channel axis).
    """
    try:
        array = check_array(
            data,
            accept_sparse=False,
            allow_nd=True,
            ensure_min_samples=MIN_SAMPLES,
            ensure_all_finite=True,
            input_name="validation_data",
        )
    except ValueError as exc:
        if "validation_data" in str(exc):
            raise
        raise ValueError(f"validation_data: {exc}") from None
    expected = tuple(X.shape[1:])
    accepted = {expected}
    if X.ndim == 3:
        accepted.add((*expected, 1))
    elif X.ndim == 4 and expected[-1] == 1:
        accepted.add(expected[:-1])
    if tuple(array.shape[1:]) not in accepted:
        raise ValueError(
            f"validation_data must hold samples shaped like those of X, {expected}; got "
            f"samples of shape {tuple(array.shape[1:])}."
        )
