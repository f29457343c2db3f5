"""Checks of what a saved folder's ``estimator.json`` and ``arrays.npz`` hold.

``load`` reads a folder that may have been edited, truncated or assembled from two models.
:func:`check_document` checks the JSON document's keys and value types,
:func:`read_arrays` that the arrays are numbers and :func:`check_data_range` the data range's
presence, shapes and finiteness, each raising a
:class:`~gan_estimators.gan.errors.ModelFolderError` that names the file and the value at
fault.  The parameters themselves are checked by the estimator's own constraints, and the
networks against the stored structure, in :mod:`.loading`.

This module imports neither TensorFlow nor Keras.
"""

import zipfile
from numbers import Real

import numpy as np

from gan_estimators.gan._config import NETWORKS
from gan_estimators.gan.errors import ModelFolderError
from gan_estimators.gan.labels import check_classes_json
from gan_estimators.gan.layout import IMAGE, TABULAR
from gan_estimators.quality.history import VALIDATION_KEYS

#: The first format whose ``estimator.json`` holds ``table``.
TABLE_VERSION = 8
#: Network kinds a fit records in ``network_``.
_NETWORK_KINDS = tuple(name for name in NETWORKS if name != "auto")


def _is_int(value, low=0):
    return type(value) is int and value >= low


def _is_number(value):
    return value is None or (isinstance(value, Real) and not isinstance(value, bool))


def _require(condition, path, what):
    if not condition:
        raise ModelFolderError(path, what)


def _check_fitted(fitted, path):
    _require(isinstance(fitted, dict), path, "'fitted' must be a JSON object")
    for key in ("n_steps_", "network_", "batch_size_", "seed", "structure", "layout"):
        _require(key in fitted, path, f"'fitted' lacks {key!r}")
    checks = {
        "n_steps_": (_is_int(fitted["n_steps_"]), "an integer >= 0"),
        "network_": (fitted["network_"] in _NETWORK_KINDS, f"one of {_NETWORK_KINDS}"),
        "batch_size_": (_is_int(fitted["batch_size_"], 1), "an integer >= 1"),
        "seed": (_is_int(fitted["seed"]), "an integer >= 0"),
        "structure": (isinstance(fitted["structure"], dict), "a JSON object"),
        "layout": (fitted["layout"] in (IMAGE, TABULAR), f"{IMAGE!r} or {TABULAR!r}"),
    }
    for key, (valid, expected) in checks.items():
        _require(valid, path, f"fitted {key} must be {expected}; got {fitted[key]!r}")
    best_step = fitted.get("best_step_")
    _require(
        best_step is None or _is_int(best_step, 1),
        path,
        f"fitted best_step_ must be an integer >= 1 or null; got {best_step!r}",
    )
    _require(
        _is_number(fitted.get("best_val_score_")),
        path,
        f"fitted best_val_score_ must be a number or null; got {fitted.get('best_val_score_')!r}",
    )
    stopped_early = fitted.get("stopped_early_")
    _require(
        stopped_early is None or isinstance(stopped_early, bool),
        path,
        f"fitted stopped_early_ must be true, false or null; got {stopped_early!r}",
    )
    key = fitted.get("optimizer_key")
    _require(
        key is None
        or (
            isinstance(key, list)
            and len(key) == 3
            and isinstance(key[0], str)
            and all(_is_number(v) and v is not None for v in key[1:])
        ),
        path,
        f"fitted optimizer_key must be [name, beta_1, beta_2]; got {key!r}",
    )
    problem = check_classes_json(fitted)
    _require(problem is None, path, problem)
    if fitted["layout"] == IMAGE:
        shape = fitted.get("image_shape_")
        _require(
            isinstance(shape, list) and len(shape) == 3 and all(_is_int(s, 1) for s in shape),
            path,
            f"fitted image_shape_ must be [height, width, channels]; got {shape!r}",
        )
        expected_ndims = (3, 4) if shape[2] == 1 else (4,)
    else:
        n_features = fitted.get("n_features_in_")
        _require(
            _is_int(n_features, 1), path, f"fitted n_features_in_ must be >= 1; got {n_features!r}"
        )
        names = fitted.get("feature_names_in_")
        _require(
            names is None
            or (
                isinstance(names, list)
                and len(names) == n_features
                and all(isinstance(n, str) for n in names)
            ),
            path,
            f"fitted feature_names_in_ must be {n_features} column names",
        )
        expected_ndims = (2,)
    _require(
        fitted.get("input_ndim") in expected_ndims,
        path,
        f"fitted input_ndim must be one of {expected_ndims} for this layout; "
        f"got {fitted.get('input_ndim')!r}",
    )


def _check_history(history, path):
    _require(isinstance(history, dict), path, "history_ must be a JSON object of lists")
    # One entry per iteration, and one per held-out score.
    lengths = {False: set(), True: set()}
    for key, values in history.items():
        _require(
            isinstance(values, list) and all(_is_number(v) for v in values),
            path,
            f"history_[{key!r}] must be a list of numbers",
        )
        lengths[key in VALIDATION_KEYS].add(len(values))
    _require(len(lengths[False]) <= 1, path, "the lists of history_ differ in length")
    _require(
        len(lengths[True]) <= 1,
        path,
        f"the lists {' and '.join(VALIDATION_KEYS)} of history_ differ in length",
    )


def check_document(document, path):
    """Check the keys and value types of a loaded ``estimator.json`` (read from ``path``).

    The format and version are checked before, the parameters after (by the estimator's
    constraints).

    Raises
    ------
    ModelFolderError
        Naming ``path`` and the first key that is missing or of the wrong type.
    """
    for key in ("params", "fitted", "history_"):
        _require(key in document, path, f"lacks the key {key!r}")
    _require(
        isinstance(document.get("estimator", ""), str),
        path,
        f"'estimator' must be a class name; got {document.get('estimator')!r}",
    )
    _require(isinstance(document["params"], dict), path, "'params' must be a JSON object")
    _check_fitted(document["fitted"], path)
    _check_history(document["history_"], path)
    for key in ("feature_map_", "diagnostics_"):
        value = document.get(key)
        _require(value is None or isinstance(value, dict), path, f"{key} must be a JSON object")
    # Every folder from format 8 on says whether the model was fitted on a DataFrame.
    _require(
        "table" in document or document.get("version", 1) < TABLE_VERSION,
        path,
        "lacks the key 'table' (the training table's columns, or null)",
    )
    table = document.get("table")
    _require(
        table is None or isinstance(table, dict),
        path,
        "table must be a JSON object (the training table's columns) or null",
    )
    if table is not None:
        _require(
            document["fitted"]["layout"] == TABULAR,
            path,
            f"table is stored, but the fitted layout is {document['fitted']['layout']!r}",
        )
        _require(
            "classes_" not in document["fitted"],
            path,
            "a table's classes are its conditions (table.class_prior_), not fitted classes_",
        )


def read_arrays(path):
    """All arrays of a saved folder's ``arrays.npz`` (at ``path``), each checked numeric.

    Returns
    -------
    dict of str to ndarray

    Raises
    ------
    ModelFolderError
        Naming ``path`` and what is wrong: not a readable ``.npz`` file, or a non-numeric
        array.
    """
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except FileNotFoundError:
        raise ModelFolderError(path, "missing") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFolderError(path, f"not a readable .npz file ({exc})") from None
    for name, array in arrays.items():
        _require(array.dtype.kind in "biuf", path, f"{name} holds {array.dtype}, not numbers")
    return arrays


def check_data_range(arrays, path, fitted, n_encoded=None):
    """Check ``data_min_`` and ``data_max_`` of ``arrays`` (read from ``path``) against
    ``fitted``: finite numbers, ordered, shaped ``()`` for images and ``(n_features_in_,)``
    for arrays, or ``(n_encoded,)`` for a table encoded into ``n_encoded`` features.

    Raises
    ------
    ModelFolderError
        Naming ``path`` and the array that is missing, of a wrong shape or not finite.
    """
    if fitted["layout"] == IMAGE:
        shape = ()
    else:
        shape = (fitted["n_features_in_"] if n_encoded is None else n_encoded,)
    for name in ("data_min_", "data_max_"):
        _require(name in arrays, path, f"lacks the array {name!r}")
        array = arrays[name]
        _require(array.shape == shape, path, f"{name} has shape {array.shape}, not {shape}")
        _require(np.all(np.isfinite(array)), path, f"{name} holds NaN or infinite values")
    _require(
        np.all(arrays["data_min_"] <= arrays["data_max_"]),
        path,
        "data_min_ exceeds data_max_",
    )
