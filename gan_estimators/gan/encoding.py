"""JSON encodings of a GAN estimator's parameter values and fitted feature map.

:func:`params_to_json` writes parameters as JSON, NumPy ``RandomState`` / ``Generator``
instances passed as ``random_state`` included, so that a saved estimator loads without
unpickling anything; :func:`params_from_json` reads them back and accepts nothing else (a
stored generator state names one of a fixed list of NumPy bit generators).  A fitted
built-in feature map is written as JSON plus arrays for the ``.npz`` file
(:func:`feature_map_to_json`); a ``feature_map`` parameter that is a user object (function,
Keras model, transformer) is replaced by a marker (:func:`feature_map_param_to_json`) and
comes back as an :class:`~gan_estimators.quality.features.UnsavedFeatureMap`.

This module imports neither TensorFlow nor Keras.
"""

import json

import numpy as np

from gan_estimators.quality.features import _STORABLE_MAPS, FeatureMap, UnsavedFeatureMap


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
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return list(value)
    raise TypeError(
        f"save() stores parameters as JSON, but {name}={value!r} is not JSON-serialisable; "
        "use pickle or joblib.dump for this estimator instead."
    )


#: The bit generators a saved ``numpy.random.Generator`` may name; loading calls no other
#: ``numpy.random`` attribute.
_BIT_GENERATORS = ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")


def _decode_random_state(value):
    """The RandomState or Generator ``value`` encodes; ValueError for anything else."""
    kind, state = value.get("__numpy_random__"), value.get("state")
    try:
        if kind == "RandomState":
            name, keys, pos, has_gauss, cached = state
            if name != "MT19937" or type(pos) is not int or type(has_gauss) is not int:
                raise ValueError("not an MT19937 state")
            generator = np.random.RandomState()
            keys = np.asarray(keys, dtype=np.uint32)
            generator.set_state((name, keys, pos, has_gauss, float(cached)))
            return generator
        if kind == "Generator":
            name = state["bit_generator"]
            if name not in _BIT_GENERATORS:
                raise ValueError(f"unknown bit generator {name!r}")
            bit_generator = getattr(np.random, name)()
            bit_generator.state = state
            return np.random.Generator(bit_generator)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"an invalid NumPy {kind} state ({exc})") from None
    raise ValueError(f"an unknown random generator encoding {kind!r}")


def _decode_value(value):
    if isinstance(value, dict) and "__numpy_random__" in value:
        return _decode_random_state(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ValueError(f"{value!r} is not a value save() writes")


def params_to_json(params):
    """JSON-ready copy of ``get_params(deep=False)``; TypeError for what JSON cannot hold."""
    return {name: _encode_value(name, value) for name, value in params.items()}


def params_from_json(encoded):
    """Inverse of :func:`params_to_json`; ValueError naming the parameter it cannot read."""
    if not isinstance(encoded, dict):
        raise ValueError(f"parameters must be a JSON object, not {type(encoded).__name__}")
    params = {}
    for name, value in encoded.items():
        try:
            params[name] = _decode_value(value)
        except ValueError as exc:
            raise ValueError(f"parameter {name!r} is {exc}") from None
    return params


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
        mapping = _STORABLE_MAPS.get(encoded[_FEATURE_MAP])
        if mapping is None:
            raise ValueError(f"feature_map names an unknown feature map {encoded[_FEATURE_MAP]!r}")
        return mapping(**params_from_json(encoded.get("params", {})))
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
