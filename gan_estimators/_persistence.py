"""Serialisation helpers for estimators holding Keras models.

Keras models do not pickle reliably (they hold TensorFlow resources and traced functions),
so an estimator's ``__getstate__`` swaps each model for the bytes of its native ``.keras``
archive and ``__setstate__`` swaps them back, the approach scikeras takes.  Only Keras's
public saving API is used: it wants a file name, so the bytes go through a temporary file.

Parameters are written as JSON by :func:`params_to_json`, which also knows how to encode a
NumPy ``RandomState`` / ``Generator`` passed as ``random_state``, so that a saved estimator
can be loaded without unpickling anything.
"""

import os
import tempfile

import keras
import numpy as np


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
