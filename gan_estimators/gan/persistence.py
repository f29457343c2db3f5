"""Pickling, saving and loading a :class:`~gan_estimators.WGANEstimator`.

The fitted state is listed once, below (:data:`MODELS`, :data:`OPTIMIZERS`,
:data:`FITTED_VALUES`, :data:`LAYOUT`, :data:`RUNTIME`); :func:`release`, the pickle state
(:func:`pickled_state` / :func:`unpickled_state`) and the saved folder (:func:`save` /
:func:`load`) all read it.

Keras models do not pickle reliably (they hold TensorFlow resources and traced functions),
so an estimator's ``__getstate__`` swaps each model for the bytes of its native ``.keras``
archive and ``__setstate__`` swaps them back, the approach scikeras takes.  Only Keras's
public saving API is used: it wants a file name, so the bytes go through a temporary file.

Parameters and feature maps are written as JSON by :mod:`.encoding`; a saved folder is written
through :mod:`.folder` (staged beside the destination, renamed into place, listed in a
manifest) and read back through the checks of :mod:`.document`, so that ``load`` refuses,
with a :class:`~gan_estimators.gan.errors.ModelFolderError` naming the file, a folder that is
incomplete, altered or assembled from two models.
"""

import json
import os
import re
import tempfile
import warnings

import keras
import numpy as np
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from gan_estimators.gan._config import DEFAULTS
from gan_estimators.gan.document import check_document, read_arrays
from gan_estimators.gan.encoding import (
    describe_object,
    feature_map_from_json,
    feature_map_param_from_json,
    feature_map_param_to_json,
    feature_map_to_json,
    feature_map_was_saved,
    params_from_json,
    params_to_json,
)
from gan_estimators.gan.errors import ModelFolderError
from gan_estimators.gan.folder import (
    MANIFEST,
    read_json,
    staged_folder,
    verify_manifest,
    write_manifest,
)
from gan_estimators.gan.layout import LAYOUT_ATTRIBUTE, DataLayout
from gan_estimators.quality.diagnostics import DiagnosticsReport

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
#: 6: manifest.json lists every file with its size and SHA-256, and load verifies it; the
#: folder is written beside its destination and renamed into place.
#: Folders of every older version load (without a manifest to verify).
VERSION = 6
#: The first format whose folders carry a manifest.
_MANIFEST_VERSION = 6
_FEATURE_MAP_PREFIX = "feature_map__"
_OPTIMIZER_ARRAY = re.compile(r"optimizer_(?P<network>generator|critic)_(?P<index>0|[1-9][0-9]*)")
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


def _saved_contents(estimator):
    """The ``estimator.json`` document and the ``arrays.npz`` arrays of ``estimator``.

    Raises a TypeError, before anything is written, for a parameter JSON cannot hold.
    """
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
            stacklevel=4,
        )
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
    layout = getattr(estimator, LAYOUT)
    arrays = {"data_min_": np.asarray(layout.data_min), "data_max_": np.asarray(layout.data_max)}
    for network, values in (optimizer_states(estimator) or {}).items():
        for i, value in enumerate(values):
            arrays[f"optimizer_{network}_{i}"] = value
    if feature_map_state is not None:
        arrays.update(feature_map_state[1])
    return document, arrays


def save(estimator, path, *, overwrite=False):
    """Write the fitted ``estimator`` to the folder ``path``; see ``WGANEstimator.save``."""
    document, arrays = _saved_contents(estimator)
    with staged_folder(path, overwrite=overwrite) as staging:
        with open(os.path.join(staging, "estimator.json"), "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
        for name, filename in MODELS.items():
            if getattr(estimator, name, None) is not None:
                keras.saving.save_model(getattr(estimator, name), os.path.join(staging, filename))
        np.savez(os.path.join(staging, "arrays.npz"), **arrays)
        write_manifest(staging, FORMAT, VERSION)


def _read_document(cls, folder):
    """The checked ``estimator.json`` of ``folder`` and its format version.

    A folder of the current format must match its manifest; older folders have none.
    """
    if not os.path.isdir(folder):
        problem = "not a folder" if os.path.exists(folder) else "no such folder"
        raise ModelFolderError(folder, problem)
    path = os.path.join(folder, "estimator.json")
    document = read_json(path)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFolderError(folder, f"does not hold a saved {cls.__name__}")
    version = document.get("version", 1)
    if type(version) is not int or version < 1:
        raise ModelFolderError(path, f"version must be a positive integer; got {version!r}")
    if version > VERSION:
        raise ModelFolderError(
            folder,
            f"was saved in format version {version}, newer than this gan_estimators "
            f"understands ({VERSION}); upgrade gan_estimators",
        )
    if version >= _MANIFEST_VERSION or os.path.exists(os.path.join(folder, MANIFEST)):
        verify_manifest(folder)
    check_document(document, path)
    return document, version


def _params(cls, document, path, feature_map):
    """The checked constructor parameters stored in ``document`` (read from ``path``)."""
    encoded = dict(document["params"])
    encoded_feature_map = encoded.pop("feature_map", DEFAULTS["feature_map"])
    # Folders of format 2 and older come from fits without a weight average.
    encoded.setdefault("ema_decay", None)
    unknown = sorted(set(encoded) - set(cls._get_param_names()))
    if unknown:
        raise ModelFolderError(path, f"params holds unknown parameters {unknown}")
    try:
        params = params_from_json(with_legacy_structure(encoded))
        stored_feature_map = feature_map_param_from_json(encoded_feature_map)
    except (TypeError, ValueError) as exc:
        raise ModelFolderError(path, f"params: {exc}") from None
    if feature_map is None:
        params["feature_map"] = stored_feature_map
    elif feature_map_was_saved(encoded_feature_map):
        raise ValueError(
            f"feature_map was given, but {path} stores the estimator's feature map "
            f"({encoded_feature_map!r}); load without it and use set_params to change it."
        )
    else:
        params["feature_map"] = feature_map
    return params


def _optimizer_arrays(arrays, path):
    """The optimizer states by network from the arrays of ``arrays.npz`` (at ``path``)."""
    indexed = {network: {} for network in OPTIMIZERS}
    for name in arrays:
        match = _OPTIMIZER_ARRAY.fullmatch(name)
        if match:
            indexed[match["network"]][int(match["index"])] = arrays[name]
        elif name not in ("data_min_", "data_max_") and not name.startswith(_FEATURE_MAP_PREFIX):
            raise ModelFolderError(path, f"holds an array {name!r} that save() never writes")
    for network, values in indexed.items():
        if sorted(values) != list(range(len(values))):
            raise ModelFolderError(path, f"the {network} optimizer's arrays are not numbered 0..n")
    return {network: [values[i] for i in range(len(values))] for network, values in indexed.items()}


def _load_network(path):
    if not os.path.isfile(path):
        raise ModelFolderError(path, "missing")
    try:
        # safe_mode (Keras's default) refuses archives that would deserialise code.
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many kinds for a damaged or foreign archive
        raise ModelFolderError(path, f"not a readable Keras model ({exc})") from exc


def _check_networks(estimator, folder):
    """Check that the loaded networks fit the parameters and the data layout."""
    sample_shape = tuple(getattr(estimator, LAYOUT).network_shape(estimator.network_))
    latent = (None, int(estimator.latent_dim))
    expected = {
        "generator_": (latent, (None, *sample_shape)),
        "generator_ema_": (latent, (None, *sample_shape)),
        "critic_": ((None, *sample_shape), (None, 1)),
    }
    for name, (inputs, outputs) in expected.items():
        model = getattr(estimator, name, None)
        if model is None:
            continue
        actual = (tuple(model.input_shape), tuple(model.output_shape))
        if actual != (inputs, outputs):
            raise ModelFolderError(
                os.path.join(folder, MODELS[name]),
                f"maps inputs of shape {actual[0][1:]} to {actual[1][1:]}, but the saved "
                f"parameters and data need {inputs[1:]} to {outputs[1:]}",
            )
    average = getattr(estimator, "generator_ema_", None)
    if average is not None and [w.shape for w in average.weights] != [
        w.shape for w in estimator.generator_.weights
    ]:
        raise ModelFolderError(
            os.path.join(folder, MODELS["generator_ema_"]),
            f"does not have the weights of {MODELS['generator_']}",
        )


def _restore_state(estimator, document, arrays, folder):
    """Set the fitted attributes the JSON ``document`` and ``arrays`` hold."""
    path = os.path.join(folder, "estimator.json")
    fitted = document["fitted"]
    for key, name in FITTED_VALUES.items():
        # Folders without an optimizer key restore the optimizers the parameters name.
        if key in fitted:
            setattr(estimator, name, fitted[key])
    estimator._structure_ = with_legacy_structure(fitted["structure"])
    if fitted.get("optimizer_key") is not None:
        estimator._optimizer_key_ = tuple(fitted["optimizer_key"])
    if "n_features_in_" in fitted:
        estimator.n_features_in_ = fitted["n_features_in_"]
    if fitted.get("feature_names_in_") is not None:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
    estimator.history_ = document["history_"]
    image_shape = fitted.get("image_shape_")
    data_min, data_max = arrays["data_min_"], arrays["data_max_"]
    if fitted["layout"] == "image":
        data_min, data_max = float(data_min), float(data_max)
    layout = DataLayout(
        fitted["layout"],
        fitted["input_ndim"],
        data_min.astype(np.float64) if isinstance(data_min, np.ndarray) else data_min,
        data_max.astype(np.float64) if isinstance(data_max, np.ndarray) else data_max,
        None if image_shape is None else tuple(image_shape),
    )
    setattr(estimator, LAYOUT, layout)
    try:
        if document.get("diagnostics_") is not None:
            estimator.diagnostics_ = DiagnosticsReport.from_dict(document["diagnostics_"])
        if document.get("feature_map_") is not None:
            estimator.feature_map_ = feature_map_from_json(
                document["feature_map_"], arrays, _FEATURE_MAP_PREFIX
            )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ModelFolderError(path, f"sample-quality state cannot be restored ({exc!r})") from exc


def load(cls, path, *, feature_map=None):
    """Read an estimator of class ``cls`` from the folder ``path``; see ``WGANEstimator.load``."""
    folder = os.fspath(path)
    document, version = _read_document(cls, folder)
    json_path = os.path.join(folder, "estimator.json")
    estimator = cls(**_params(cls, document, json_path, feature_map))
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise ModelFolderError(json_path, f"params: {exc}") from None
    arrays_path = os.path.join(folder, "arrays.npz")
    arrays = read_arrays(arrays_path, document["fitted"])
    _restore_state(estimator, document, arrays, folder)
    for name, filename in MODELS.items():
        model_path = os.path.join(folder, filename)
        if name != "generator_ema_" or os.path.exists(model_path):
            setattr(estimator, name, _load_network(model_path))
    _check_networks(estimator, folder)
    try:
        estimator._restore_optimizers(_optimizer_arrays(arrays, arrays_path))
    except ValueError as exc:
        if isinstance(exc, ModelFolderError):
            raise
        raise ModelFolderError(arrays_path, str(exc)) from None
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
            key = self._optimizer_key()
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

    def save(self, path, *, overwrite=False):
        """Save the fitted estimator to the folder ``path`` (created if needed).

        The folder holds ``generator.keras``, ``critic.keras`` and, when the estimator has
        a weight average, ``generator_ema.keras`` (Keras's native format), ``estimator.json``
        (parameters, fitted attributes, ``history_``, ``diagnostics_`` and the fitted feature
        map's parameters), ``arrays.npz`` (data range, optimizer states and the feature map's
        arrays) and ``manifest.json`` (the size and SHA-256 of every other file) -- nothing
        that needs unpickling.  A loaded estimator scores exactly as this one does.

        The files are written to a new folder beside ``path``, which is then renamed to
        ``path``: an interrupted save leaves ``path`` as it was, and a saved model already
        at ``path`` is replaced as a whole (no file of it survives).  Where ``path`` also
        holds other files, or its parent folder is not writable, the model's files are
        written into ``path`` instead and the other files are kept; ``load`` refuses the
        folder until the manifest, written last, completes it.

        A ``feature_map`` that is a user object -- a function, a Keras model, a scikit-learn
        transformer or a custom :class:`~gan_estimators.quality.features.FeatureMap` -- cannot be
        written that way: ``save`` then stores neither it nor ``feature_map_``, and warns.
        See :meth:`load` for what such an estimator does after loading; pickle or joblib
        keep it whole.

        Parameters
        ----------
        path : str or os.PathLike
            Destination folder: missing, empty, or holding a saved model.
        overwrite : bool, default=False
            Whether a non-empty folder that holds no saved model may receive the model's
            files (its other files are kept).

        Raises
        ------
        TypeError
            If another parameter cannot be written as JSON (nothing is written); pickle or
            joblib can store such estimators.
        ModelFolderError
            A ``ValueError`` naming ``path``: it is a file, cannot be created or written, or
            is a non-empty folder without a saved model and ``overwrite`` is False.

        Warns
        -----
        UserWarning
            When ``feature_map`` (and so ``feature_map_``) is not stored.
        """
        check_is_fitted(self)
        save(self, path, overwrite=overwrite)

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
        ModelFolderError
            A ``ValueError`` naming the file at fault: ``path`` holds no saved estimator or
            one of a newer format; a file is missing, not listed in the manifest, truncated
            or altered; a JSON value, an array or a network does not fit the others (an
            invalid parameter, a non-finite data range, a network of another shape, optimizer
            states that do not fit the optimizers).  Folders written before format 6 have no
            manifest, so only the checks of their contents apply.
        ValueError
            ``feature_map`` is given although the folder stores one.
        """
        return load(cls, path, feature_map=feature_map)
