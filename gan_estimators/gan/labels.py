"""Class labels of a conditional GAN estimator: checks, classes, and their JSON form.

``fit(X, y)`` with labels ``y`` trains a class-conditional GAN (:mod:`.conditioning` builds
its networks).  This module checks the labels (:func:`check_labels`), fits the classes and
their training frequencies (:func:`fit_classes`), maps labels to class indices and back
(:func:`label_indices`, :func:`sample_labels`), and writes the classes to a saved folder's
JSON and reads them back with their type (:func:`classes_to_json`, :func:`classes_from_json`).

Labels may be integers, floats, booleans or strings (a NumPy array, a list or a pandas
Series), all of one type.  This module imports neither TensorFlow nor Keras.
"""

import math
from numbers import Real

import numpy as np

#: Fewest classes a conditional fit learns (one class is the unconditional model).
MIN_CLASSES = 2
#: NumPy dtype kinds that labels (and so ``classes_``) may have: booleans, integers, floats,
#: strings (fixed-width or Python objects).
LABEL_KINDS = "biufUO"
#: Fitted attributes of a conditional model; absent from an unconditional one.
CLASS_ATTRIBUTES = ("classes_", "class_prior_")
#: Set by ``score(X, y)`` of a conditional model.
PER_CLASS_SCORES = "per_class_scores_"


def _is_missing(value):
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    # pandas.NA and pandas.NaT, recognised without importing pandas.
    return type(value).__name__ in ("NAType", "NaTType")


def _as_label_array(y, name):
    """``y`` as a 1-D NumPy array of labels of one type, without missing values."""
    values = y.to_numpy() if hasattr(y, "to_numpy") else y
    # A list is read as Python objects: NumPy would turn [1, "a"] into two strings.
    is_array = isinstance(values, np.ndarray)
    labels = values if is_array else np.asarray(values, dtype=object)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of class labels; got an array of shape {labels.shape}."
        )
    if labels.dtype.kind == "O":
        if any(_is_missing(v) for v in labels):
            raise ValueError(f"{name} must not hold missing labels (None, NaN, pandas.NA).")
        if all(isinstance(v, str) for v in labels):
            if not is_array:
                labels = labels.astype(str)
        else:
            # Python numbers in an object array: their common NumPy type, if they have one.
            labels = np.asarray(labels.tolist())
            if labels.dtype.kind not in "biuf":
                raise ValueError(
                    f"{name} must hold class labels of one type (integers, floats, booleans "
                    "or strings); got a mix."
                )
    if labels.dtype.kind not in LABEL_KINDS:
        raise ValueError(
            f"{name} must hold integers, floats, booleans or strings as class labels; got "
            f"dtype {labels.dtype}."
        )
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError(f"{name} must not hold missing labels (NaN).")
    return labels


def check_labels(y, n_samples, *, name="y"):
    """``y`` checked as the class labels of ``n_samples`` samples.

    Returns
    -------
    ndarray
        The labels, 1-D (a pandas Series becomes its values; a single column is raveled).

    Raises
    ------
    ValueError
        Naming ``name``: not 1-D, of another length, holding missing labels or labels of
        mixed or unsupported types.
    """
    labels = _as_label_array(y, name)
    if len(labels) != n_samples:
        raise ValueError(
            f"{name} must hold one label per sample of X: X has {n_samples} samples, {name} "
            f"has {len(labels)}."
        )
    return labels


def fit_classes(labels, *, name="y"):
    """The sorted distinct labels and their frequencies in ``labels`` (checked labels).

    Returns
    -------
    classes : ndarray
        Sorted unique labels (as ``numpy.unique`` gives them).
    prior : ndarray of float64
        Frequency of each class in ``labels`` (summing to 1).

    Raises
    ------
    ValueError
        Naming ``name`` when ``labels`` has fewer than :data:`MIN_CLASSES` classes.
    """
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < MIN_CLASSES:
        raise ValueError(
            f"{name} must hold at least {MIN_CLASSES} classes to train a conditional GAN; got "
            f"only {classes.tolist()!r}. Fit without y for a single class."
        )
    return classes, counts / counts.sum()


def label_indices(labels, classes, *, name="y"):
    """Index into ``classes`` of each label of ``labels`` (a checked 1-D array), as int32.

    Raises
    ------
    ValueError
        Naming ``name``, the unknown labels and the known classes.
    """
    index = {value: i for i, value in enumerate(classes.tolist())}
    values = labels.tolist()
    unknown = sorted({repr(v) for v in values if v not in index})
    if unknown:
        raise ValueError(
            f"{name} holds labels the estimator was not fitted on: {', '.join(unknown)}; the "
            f"known classes are {classes.tolist()!r}."
        )
    return np.fromiter((index[v] for v in values), dtype=np.int32, count=len(values))


def sample_labels(y, n, classes, prior, rng):
    """Class indices of ``n`` samples asked for by ``sample(n, y=...)``.

    ``y`` is None (classes drawn from ``prior`` with ``rng``), one label (every sample of
    that class) or an array of ``n`` labels.
    """
    if y is None:
        return rng.choice(len(classes), size=n, p=prior).astype(np.int32)
    if np.ndim(y) == 0 and not hasattr(y, "to_numpy"):
        labels = _as_label_array([y], "y")
        return np.full(n, label_indices(labels, classes)[0], dtype=np.int32)
    labels = _as_label_array(y, "y")
    if len(labels) != n:
        raise ValueError(
            f"y must be one label or an array of n={n} labels; got {len(labels)} labels."
        )
    return label_indices(labels, classes)


# ---------------------------------------------------------------- saved folders


def classes_to_json(classes, prior):
    """The entries of a saved folder's ``fitted`` object that store a conditional model's
    classes: ``classes_`` (JSON values), ``classes_dtype`` (their NumPy dtype, so that they
    come back with their type) and ``class_prior_``."""
    return {
        "classes_": classes.tolist(),
        "classes_dtype": classes.dtype.str,
        "class_prior_": [float(p) for p in prior],
    }


def _json_kind_matches(value, kind):
    if kind == "b":
        return isinstance(value, bool)
    if kind in "iu":
        return type(value) is int
    if kind == "f":
        return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, str)


def is_prior_json(prior, n_classes):
    """Whether the stored ``prior`` is a JSON list of ``n_classes`` frequencies summing to 1."""
    return (
        isinstance(prior, list)
        and len(prior) == n_classes
        and all(_json_kind_matches(p, "f") and p >= 0 for p in prior)
        and abs(sum(prior) - 1.0) < 1e-6
    )


def check_classes_json(fitted):
    """Why the class entries of a saved ``fitted`` object are malformed, or None when they
    are fine (or absent, for an unconditional model)."""
    present = [key for key in ("classes_", "classes_dtype", "class_prior_") if key in fitted]
    if not present:
        return None
    if len(present) < 3:
        return "fitted classes_, classes_dtype and class_prior_ must be stored together"
    classes, dtype, prior = fitted["classes_"], fitted["classes_dtype"], fitted["class_prior_"]
    try:
        kind = np.dtype(dtype).kind if isinstance(dtype, str) else None
    except TypeError:
        kind = None
    if kind is None or kind not in LABEL_KINDS:
        return f"fitted classes_dtype must name a label dtype; got {dtype!r}"
    if not (
        isinstance(classes, list)
        and len(classes) >= MIN_CLASSES
        and all(_json_kind_matches(v, kind) for v in classes)
    ):
        return f"fitted classes_ must be a list of at least {MIN_CLASSES} labels of {dtype}"
    if len(set(classes)) != len(classes) or sorted(classes) != classes:
        return "fitted classes_ must be sorted and distinct"
    if not is_prior_json(prior, len(classes)):
        return f"fitted class_prior_ must be {len(classes)} frequencies summing to 1"
    return None


def classes_from_json(fitted):
    """Inverse of :func:`classes_to_json` (entries checked by :func:`check_classes_json`):
    ``(classes, prior)``, or None for an unconditional model."""
    if "classes_" not in fitted:
        return None
    classes = np.array(fitted["classes_"], dtype=np.dtype(fitted["classes_dtype"]))
    return classes, np.asarray(fitted["class_prior_"], dtype=np.float64)


def check_continuation(classes, labels, remedy):
    """Raise a ValueError unless training with ``labels`` (None: without labels) can
    continue a model fitted with ``classes`` (None: without labels); ``remedy`` ends the
    message.  Labels of classes the model does not know are refused by
    :func:`label_indices`."""
    if classes is not None and labels is None:
        raise ValueError(
            f"This estimator was fitted with class labels y (classes {classes.tolist()!r}): "
            f"training can only continue with y; pass y, or {remedy}."
        )
    if classes is None and labels is not None:
        raise ValueError(
            "y was given, but this estimator was fitted without class labels: training can "
            f"only continue without y; {remedy}."
        )
