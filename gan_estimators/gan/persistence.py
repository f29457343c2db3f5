"""Serialisation helpers for estimators holding Keras models.

Keras models do not pickle reliably (they hold TensorFlow resources and traced functions),
so an estimator's ``__getstate__`` swaps each model for the bytes of its native ``.keras``
archive and ``__setstate__`` swaps them back, the approach scikeras takes.  Only Keras's
public saving API is used: it wants a file name, so the bytes go through a temporary file.

Parameters are written as JSON by :func:`params_to_json`, which also knows how to encode a
NumPy ``RandomState`` / ``Generator`` passed as ``random_state``, so that a saved estimator
can be loaded without unpickling anything.  A fitted built-in feature map is written as JSON
plus arrays for the ``.npz`` file (:func:`feature_map_to_json`); a ``feature_map`` parameter
that is a user object (function, Keras model, transformer) is replaced by a marker
(:func:`feature_map_param_to_json`) and comes back as an
:class:`~gan_estimators.quality.features.UnsavedFeatureMap`.
"""

import json
import os
import tempfile

import keras
import numpy as np

from gan_estimators.quality.features import _STORABLE_MAPS, FeatureMap, UnsavedFeatureMap


def model_to_bytes(model):
    """Bytes of ``model`` saved in Keras's native ``.keras`` format."""
    with tempfile.TemporaryDirectory(prefix="gan_estimators_") as folder:
        path = os.path.join(folder, "model.keras")
        keras.saving.save_model(model, path)
        with open(path, "rb") as handle:
            return handle.read()


def model_from_bytes(data):
    """Inverse of :func:`model_to_bytes` (no optimizer is compiled in)."""
    with tempfile.TemporaryDirectory(prefix="gan_estimators_") as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as handle:
            handle.write(data)
        return keras.saving.load_model(path, compile=False)


def _encode_value(name, value):
    if isinstance(value, np.random.RandomState):
        kind, keys, pos, has_gauss, cached = value.get_state()
        return {
            "__numpy_random__": "RandomState",
            "state": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        }
    if isinstance(value, np.random.Generator):
        return {"__numpy_random__": "Generator", "state": value.bit_generator.state}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(
        f"save() stores parameters as JSON, but {name}={value!r} is not JSON-serialisable; "
        "use pickle or joblib.dump for this estimator instead."
    )


def _decode_value(value):
    if isinstance(value, dict) and "__numpy_random__" in value:
        if value["__numpy_random__"] == "RandomState":
            kind, keys, pos, has_gauss, cached = value["state"]
            state = np.random.RandomState()
            state.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
            return state
        bit_state = value["state"]
        bit_generator = getattr(np.random, bit_state["bit_generator"])()
        bit_generator.state = bit_state
        return np.random.Generator(bit_generator)
    return value


def params_to_json(params):
    """JSON-ready copy of ``get_params(deep=False)``; TypeError for what JSON cannot hold."""
    return {name: _encode_value(name, value) for name, value in params.items()}


def params_from_json(encoded):
    """Inverse of :func:`params_to_json`."""
    return {name: _decode_value(value) for name, value in encoded.items()}


# ---------------------------------------------------------------- feature maps

_NOT_SAVED = "__not_saved__"
_FEATURE_MAP = "__feature_map__"


def describe_object(value):
    """Short human description of a parameter value, for warnings and error messages."""
    if isinstance(value, UnsavedFeatureMap):
        return value.description
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if callable(value) and name is not None and not isinstance(value, type):
        module = getattr(value, "__module__", None)
        return f"function {module}.{name}" if module else f"function {name}"
    if hasattr(value, "layers") and hasattr(value, "get_weights"):
        return f"Keras model {getattr(value, 'name', '')!r}"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def feature_map_param_to_json(value):
    """Encode a ``feature_map`` parameter for ``estimator.json``.

    Returns
    -------
    encoded : JSON-able
        The value itself (a name or None), ``{"__feature_map__": class, "params": ...}`` for
        a built-in map instance, or ``{"__not_saved__": description}`` for anything else.
    not_saved : str or None
        The description when the parameter could not be stored, else None.
    """
    if value is None or isinstance(value, str):
        return value, None
    if type(value) is _STORABLE_MAPS.get(type(value).__name__):
        try:
            params = params_to_json(value.get_params(deep=False))
        except TypeError:
            pass
        else:
            return {_FEATURE_MAP: type(value).__name__, "params": params}, None
    description = describe_object(value)
    return {_NOT_SAVED: description}, description


def feature_map_param_from_json(encoded):
    """Inverse of :func:`feature_map_param_to_json` (a marker gives an UnsavedFeatureMap)."""
    if isinstance(encoded, dict) and _FEATURE_MAP in encoded:
        return _STORABLE_MAPS[encoded[_FEATURE_MAP]](**params_from_json(encoded["params"]))
    if isinstance(encoded, dict) and _NOT_SAVED in encoded:
        return UnsavedFeatureMap(encoded[_NOT_SAVED])
    return encoded


def feature_map_was_saved(encoded):
    """False when ``estimator.json`` holds the not-saved marker for ``feature_map``."""
    return not (isinstance(encoded, dict) and _NOT_SAVED in encoded)


def feature_map_to_json(mapping, prefix):
    """Split a fitted feature map into a JSON document and ``.npz`` arrays.

    Returns
    -------
    (document, arrays) or None
        None when the map cannot be stored without pickle (an adapter of a user object).
        Array names in ``arrays`` start with ``prefix``; ``document["arrays"]`` lists them
        without it.
    """
    try:
        state = mapping.get_state()
        params = params_to_json(state["params"])
        json.dumps(state["attributes"])
    except (AttributeError, TypeError, ValueError):
        return None
    document = {
        "class": state["class"],
        "version": state["version"],
        "params": params,
        "attributes": state["attributes"],
        "arrays": sorted(state["arrays"]),
    }
    arrays = {prefix + name: value for name, value in state["arrays"].items()}
    return document, arrays


def feature_map_from_json(document, arrays, prefix):
    """Inverse of :func:`feature_map_to_json`; ``arrays`` is the opened ``.npz`` file."""
    state = {
        "class": document["class"],
        "version": document["version"],
        "params": params_from_json(document["params"]),
        "attributes": document["attributes"],
        "arrays": {name: arrays[prefix + name] for name in document["arrays"]},
    }
    return FeatureMap.from_state(state)
