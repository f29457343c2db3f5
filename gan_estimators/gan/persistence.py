"""Pickling, saving and loading a :class:`~gan_estimators.WGANEstimator`.

The fitted state is listed once, below (:data:`MODELS`, :data:`OPTIMIZERS`,
:data:`FITTED_VALUES`, :data:`LAYOUT`, :data:`RUNTIME`); :func:`release`, the pickle state
(:func:`pickled_state` / :func:`unpickled_state`) and the saved folder (:func:`save` /
:func:`load`) all read it.

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
import warnings

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

from gan_estimators.gan._config import DEFAULTS
from gan_estimators.gan.layout import LAYOUT_ATTRIBUTE, DataLayout
from gan_estimators.quality.diagnostics import DiagnosticsReport
from gan_estimators.quality.features import _STORABLE_MAPS, FeatureMap, UnsavedFeatureMap

#: The Keras models of a fitted estimator, with their file in a saved folder; pickles hold
#: the bytes of each model's ``.keras`` archive.  ``generator_ema_`` exists only with an
#: ``ema_decay``.
MODELS = {
    "generator_": "generator.keras",
    "critic_": "critic.keras",
    "generator_ema_": "generator_ema.keras",
}
#: The optimizer of each network; pickles and folders hold their state as arrays.
OPTIMIZERS = {"generator": "generator_optimizer_", "critic": "critic_optimizer_"}
#: Values set by fit, under their key in a saved folder's ``estimator.json``.  Pickles keep
#: them as they are.  ``_optimizer_key_`` (optimizer name, beta_1, beta_2) says how the
#: optimizers were built, so that their state is restored into the same kind.
FITTED_VALUES = {
    "n_steps_": "n_steps_",
    "network_": "network_",
    "batch_size_": "batch_size_",
    "seed": "_seed_",
    "structure": "_structure_",
    "optimizer_key": "_optimizer_key_",
}
#: The fitted :class:`~gan_estimators.gan.layout.DataLayout`; pickles and folders store its
#: attributes (``data_min_``, ``data_max_``, ``image_shape_``, ...).
LAYOUT = LAYOUT_ATTRIBUTE
#: The compiled trainer: rebuilt when needed, never stored.
RUNTIME = ("_trainer",)

FORMAT = "gan_estimators.WGANEstimator"
#: Version of the saved-folder format.  2: estimator.json also holds feature_map_ (state;
#: arrays in arrays.npz) and diagnostics_; a feature_map parameter save() cannot store is a
#: marker.  3: generator_ema.keras holds the averaged generator when ema_decay is set.
#: 4: critic_width (older folders: 1.0).  5: upsampling (older folders: "nearest").
#: Folders of every older version load.
VERSION = 5
_FEATURE_MAP_PREFIX = "feature_map__"
#: Structural parameters added after the first release, with the value that folders and
#: pickles from before each one's time implied: critics as wide as their generator (before
#: format 4) and nearest-neighbour upsampling (before format 5).
_LEGACY_STRUCTURE = {"critic_width": 1.0, "upsampling": "nearest"}


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


# ---------------------------------------------------------------- estimators


def with_legacy_structure(structure):
    """A copy of ``structure`` completed with the legacy values of the parameters it lacks.

    ``structure`` is a parameter dict or ``_structure_``; a parameter it predates gets the
    value older folders and pickles implied.
    """
    return {**_LEGACY_STRUCTURE, **structure}


def release(estimator):
    """Drop the fitted state of a previous fit (models, optimizers, layout, trainer)."""
    for name in (*MODELS, *OPTIMIZERS.values(), LAYOUT, *RUNTIME, "_optimizer_key_"):
        estimator.__dict__.pop(name, None)


def optimizer_states(estimator):
    """The optimizers' states by network, or None before they exist."""
    if not hasattr(estimator, OPTIMIZERS["generator"]):
        return None
    return {network: getattr(estimator, name).get_state() for network, name in OPTIMIZERS.items()}


def pickled_state(estimator, state):
    """The pickle state of ``estimator`` from ``state``, a copy of its ``__dict__``.

    Models become bytes, optimizers their states, the layout its attributes; the trainer is
    left out.
    """
    states = optimizer_states(estimator)
    for name in (*RUNTIME, *OPTIMIZERS.values()):
        state.pop(name, None)
    layout = state.pop(LAYOUT, None)
    if layout is not None:
        state.update(layout.to_attributes())
    if "generator_" in state:
        for name in MODELS:
            if name in state:
                state[name] = model_to_bytes(state[name])
        state["_optimizer_states_"] = states
    return state


def unpickled_state(state):
    """Inverse of :func:`pickled_state`, also for pickles of every earlier release.

    Returns
    -------
    state : dict
        The estimator's ``__dict__``, without optimizers.
    optimizer_states : dict or None
        What :meth:`WGANEstimator._restore_optimizers` restores.
    """
    state = with_legacy_structure(state)  # a copy: the caller's dict is left alone
    if "_structure_" in state:
        state["_structure_"] = with_legacy_structure(state["_structure_"])
    states = state.pop("_optimizer_states_", None)
    for name in MODELS:
        if isinstance(state.get(name), bytes):
            state[name] = model_from_bytes(state[name])
    if "_layout_" in state:
        layout = DataLayout.from_attributes(state)
        for name in layout.to_attributes():
            state.pop(name, None)
        state[LAYOUT] = layout
    return state, states


def _fitted_document(estimator):
    layout = getattr(estimator, LAYOUT)
    fitted = {key: getattr(estimator, name) for key, name in FITTED_VALUES.items()}
    fitted.update(
        n_steps_=int(fitted["n_steps_"]),
        batch_size_=int(fitted["batch_size_"]),
        seed=int(fitted["seed"]),
        optimizer_key=list(fitted["optimizer_key"]),
        layout=layout.kind,
        input_ndim=int(layout.input_ndim),
    )
    if layout.image_shape is not None:
        fitted["image_shape_"] = list(layout.image_shape)
    else:
        fitted["n_features_in_"] = int(estimator.n_features_in_)
        if hasattr(estimator, "feature_names_in_"):
            fitted["feature_names_in_"] = [str(c) for c in estimator.feature_names_in_]
    return fitted


def save(estimator, path):
    """Write the fitted ``estimator`` to the folder ``path``; see ``WGANEstimator.save``."""
    raw_params = estimator.get_params(deep=False)
    feature_map_param, not_saved = feature_map_param_to_json(raw_params.pop("feature_map"))
    params = params_to_json(raw_params)
    params["feature_map"] = feature_map_param
    feature_map_state = None
    if not_saved is None and getattr(estimator, "feature_map_", None) is not None:
        feature_map_state = feature_map_to_json(estimator.feature_map_, _FEATURE_MAP_PREFIX)
        if feature_map_state is None:  # pragma: no cover - a storable parameter fits storably
            not_saved = describe_object(estimator.feature_map_)
    if not_saved is not None:
        warnings.warn(
            f"save() cannot store feature_map={not_saved} without pickle, so neither it "
            "nor the fitted feature_map_ is saved. The loaded estimator samples as this "
            "one but cannot score() until the map is passed again: "
            f"{type(estimator).__name__}.load(path, feature_map=<the same object>). Use pickle "
            "or joblib to keep it.",
            UserWarning,
            stacklevel=3,
        )
    os.makedirs(path, exist_ok=True)
    diagnostics = getattr(estimator, "diagnostics_", None)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "params": params,
        "fitted": _fitted_document(estimator),
        "history_": estimator.history_,
        # None where a diverged fit left no sample-quality state (or it was not saved).
        "feature_map_": None if feature_map_state is None else feature_map_state[0],
        "diagnostics_": None if diagnostics is None else diagnostics.to_dict(),
    }
    with open(os.path.join(path, "estimator.json"), "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
    for name, filename in MODELS.items():
        if getattr(estimator, name, None) is not None:
            keras.saving.save_model(getattr(estimator, name), os.path.join(path, filename))
    layout = getattr(estimator, LAYOUT)
    arrays = {"data_min_": np.asarray(layout.data_min), "data_max_": np.asarray(layout.data_max)}
    for network, values in (optimizer_states(estimator) or {}).items():
        for i, value in enumerate(values):
            arrays[f"optimizer_{network}_{i}"] = value
    if feature_map_state is not None:
        arrays.update(feature_map_state[1])
    np.savez(os.path.join(path, "arrays.npz"), **arrays)


def _read_document(cls, path):
    with open(os.path.join(path, "estimator.json"), encoding="utf-8") as handle:
        document = json.load(handle)
    if document.get("format") != FORMAT:
        raise ValueError(f"{path} does not hold a saved {cls.__name__}.")
    version = int(document.get("version", 1))
    if version > VERSION:
        raise ValueError(
            f"{path} was saved in format version {version}, newer than this "
            f"gan_estimators understands ({VERSION}); upgrade gan_estimators."
        )
    return document, version


def _params(document, path, feature_map):
    encoded = dict(document["params"])
    encoded_feature_map = encoded.pop("feature_map", DEFAULTS["feature_map"])
    # Folders of format 2 and older come from fits without a weight average.
    encoded.setdefault("ema_decay", None)
    params = params_from_json(with_legacy_structure(encoded))
    if feature_map is None:
        params["feature_map"] = feature_map_param_from_json(encoded_feature_map)
    elif feature_map_was_saved(encoded_feature_map):
        raise ValueError(
            f"feature_map was given, but {path} stores the estimator's feature map "
            f"({encoded_feature_map!r}); load without it and use set_params to change it."
        )
    else:
        params["feature_map"] = feature_map
    return params


def _optimizer_arrays(arrays, network):
    keys = [k for k in arrays.files if k.startswith(f"optimizer_{network}_")]
    return [arrays[k] for k in sorted(keys, key=lambda k: int(k.rsplit("_", 1)[1]))]


def load(cls, path, *, feature_map=None):
    """Read an estimator of class ``cls`` from the folder ``path``; see ``WGANEstimator.load``."""
    document, version = _read_document(cls, path)
    estimator = cls(**_params(document, path, feature_map))
    fitted = document["fitted"]
    for key, name in FITTED_VALUES.items():
        # Folders without an optimizer key restore the optimizers the parameters name.
        if key in fitted:
            setattr(estimator, name, fitted[key])
    estimator._structure_ = with_legacy_structure(fitted["structure"])
    if "optimizer_key" in fitted:
        estimator._optimizer_key_ = tuple(fitted["optimizer_key"])
    if "n_features_in_" in fitted:
        estimator.n_features_in_ = fitted["n_features_in_"]
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
    estimator.history_ = document["history_"]
    if document.get("diagnostics_") is not None:
        estimator.diagnostics_ = DiagnosticsReport.from_dict(document["diagnostics_"])
    with np.load(os.path.join(path, "arrays.npz"), allow_pickle=False) as arrays:
        data_min, data_max = arrays["data_min_"], arrays["data_max_"]
        if fitted["layout"] == "image":
            data_min, data_max = float(data_min), float(data_max)
        image_shape = fitted.get("image_shape_")
        layout = DataLayout(
            fitted["layout"],
            int(fitted["input_ndim"]),
            data_min,
            data_max,
            None if image_shape is None else tuple(image_shape),
        )
        setattr(estimator, LAYOUT, layout)
        states = {network: _optimizer_arrays(arrays, network) for network in OPTIMIZERS}
        if document.get("feature_map_") is not None:
            estimator.feature_map_ = feature_map_from_json(
                document["feature_map_"], arrays, _FEATURE_MAP_PREFIX
            )
    for name, filename in MODELS.items():
        model_path = os.path.join(path, filename)
        if name != "generator_ema_" or os.path.exists(model_path):
            setattr(estimator, name, keras.saving.load_model(model_path, compile=False))
    estimator._restore_optimizers(states)
    if version < 2:
        warnings.warn(
            f"{path} was saved by an older gan_estimators (format version {version}) that "
            "did not store feature_map_ or diagnostics_: score() fits the feature map on "
            "the data it scores, so its values differ from the saved estimator's. Fit "
            "again and save to store them.",
            UserWarning,
            stacklevel=3,
        )
    return estimator


class PersistenceMixin:
    """Pickling, :meth:`save` and :meth:`load` for :class:`~gan_estimators.WGANEstimator`.

    The estimator provides ``_build_optimizers(key, rates)``, which builds its optimizers
    of kind ``key`` (optimizer name, beta_1, beta_2) with learning ``rates``.
    """

    def _restore_optimizers(self, states):
        """Rebuild the optimizers of a deserialised estimator and load ``states`` into them.

        They are rebuilt as they were when stored (``_optimizer_key_``; the parameters for
        older folders).  Raises a ValueError when ``states`` does not fit them (see
        :meth:`~gan_estimators.gan.optimizers.FusedOptimizer.set_state`).
        """
        key = getattr(self, "_optimizer_key_", None)
        if key is None:
            key = (self.optimizer, float(self.beta_1), float(self.beta_2))
        self._build_optimizers(key, (0.0, 0.0))  # the states hold the learning rates
        for network, name in OPTIMIZERS.items():
            getattr(self, name).set_state(states[network])

    def __getstate__(self):
        return pickled_state(self, dict(super().__getstate__()))

    def __setstate__(self, state):
        state, optimizer_states = unpickled_state(state)
        super().__setstate__(state)
        if optimizer_states is not None:
            self._restore_optimizers(optimizer_states)

    def save(self, path):
        """Save the fitted estimator to the folder ``path`` (created if needed).

        The folder holds ``generator.keras``, ``critic.keras`` and, with ``ema_decay`` set,
        ``generator_ema.keras`` (Keras's native format),
        ``estimator.json`` (parameters, fitted attributes, ``history_``, ``diagnostics_`` and
        the fitted feature map's parameters) and ``arrays.npz`` (data range, optimizer states
        and the feature map's arrays) -- nothing that needs unpickling.  A loaded estimator
        scores exactly as this one does.

        A ``feature_map`` that is a user object -- a function, a Keras model, a scikit-learn
        transformer or a custom :class:`~gan_estimators.quality.features.FeatureMap` -- cannot be
        written that way: ``save`` then stores neither it nor ``feature_map_``, and warns.
        See :meth:`load` for what such an estimator does after loading; pickle or joblib
        keep it whole.

        Parameters
        ----------
        path : str or os.PathLike
            Destination folder.

        Raises
        ------
        TypeError
            If another parameter cannot be written as JSON; pickle or joblib can store such
            estimators.

        Warns
        -----
        UserWarning
            When ``feature_map`` (and so ``feature_map_``) is not stored.
        """
        check_is_fitted(self)
        save(self, path)

    @classmethod
    def load(cls, path, *, feature_map=None):
        """Load an estimator written by :meth:`save` (no unpickling involved).

        ``feature_map_`` and ``diagnostics_`` come back as they were, so ``score`` gives the
        saved estimator's values.  Two cases lack ``feature_map_``:

        - the estimator was saved with a user-object ``feature_map`` (see :meth:`save`).
          Pass that object again as ``feature_map``: it becomes the parameter, and
          ``score`` fits it on the data it scores -- exactly the saved map for a function or
          a Keras model, which learn nothing from data; a transformer or custom
          :class:`~gan_estimators.quality.features.FeatureMap` is fitted on the scored data instead
          of the training data.  Without it the parameter is an
          :class:`~gan_estimators.quality.features.UnsavedFeatureMap` and ``score`` (like a new
          ``fit``) raises a ValueError saying so; ``sample`` works either way;
        - the folder was written by gan_estimators before version 2 of the format, which did
          not store them (a UserWarning says so): ``score`` then fits the ``feature_map``
          parameter on the data it scores, and ``diagnostics_`` is absent.

        Parameters
        ----------
        path : str or os.PathLike
            Folder written by :meth:`save`.
        feature_map : object or None, default=None
            The ``feature_map`` the estimator was saved with, when :meth:`save` could not
            store it (like Keras's ``custom_objects``); None keeps what the folder holds.
            Refused when the folder stores the feature map.

        Returns
        -------
        WGANEstimator
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``path`` holds no saved estimator, a newer format, ``feature_map`` is
            given although the folder stores one, or the optimizer states do not fit the
            optimizers.
        """
        return load(cls, path, feature_map=feature_map)
