"""Pickling and saving a :class:`~gan_estimators.GANEstimator` (or a subclass), and the
mixin that gives the estimator ``save`` and ``load``.

What is stored is listed once in :mod:`.fitted_state`.  An estimator's ``__getstate__`` swaps
each Keras model for the bytes of its ``.keras`` archive, its optimizers for their states and
its layout for its attributes (:func:`pickled_state`); ``__setstate__`` swaps them back, also
for pickles of every earlier release (:func:`unpickled_state`).

Parameters and feature maps are written as JSON by :mod:`.encoding`; a saved folder is written
through :mod:`.folder` (staged beside the destination, renamed into place, listed in a
manifest) and read back by :mod:`.loading`.
"""

import json
import os
import pickle
import warnings

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

from gan_estimators.gan._config import DEFAULTS, UNSTORED_PARAMS
from gan_estimators.gan.encoding import (
    describe_object,
    feature_map_param_to_json,
    feature_map_to_json,
    params_to_json,
)
from gan_estimators.gan.fitted_state import (
    ADDED_IN_7,
    ADDED_IN_8,
    FEATURE_MAP_PREFIX,
    FITTED_VALUES,
    FORMAT,
    LAYOUT,
    MODELS,
    OPTIMIZERS,
    OPTIONAL_FITTED_VALUES,
    RUNTIME,
    TABLE_ARRAY_PREFIX,
    TABLE_ENCODER,
    VERSION,
    model_from_bytes,
    model_to_bytes,
    optimizer_states,
    with_legacy_structure,
)
from gan_estimators.gan.folder import staged_folder, write_manifest
from gan_estimators.gan.labels import classes_to_json
from gan_estimators.gan.layout import DataLayout
from gan_estimators.gan.loading import load
from gan_estimators.tables.state import encoder_to_json


def _picklable_callbacks(callbacks, owner):
    """The items of ``callbacks`` that pickle, in a list of the same type; a warning for
    each one left out."""
    if not callbacks:
        return callbacks
    kept = []
    for i, callback in enumerate(callbacks):
        try:
            pickle.dumps(callback)
        except Exception as exc:  # pickling fails in many ways (PicklingError, TypeError, ...)
            warnings.warn(
                f"{owner}: callbacks[{i}] ({describe_object(callback)}) cannot be pickled "
                f"({exc}); the pickled estimator leaves it out.",
                UserWarning,
                stacklevel=4,
            )
        else:
            kept.append(callback)
    return type(callbacks)(kept)


def pickled_state(estimator, state):
    """The pickle state of ``estimator`` from ``state``, a copy of its ``__dict__``.

    Models become bytes, optimizers their states, the layout its attributes; the trainer and
    callbacks that do not pickle are left out.
    """
    if state.get("callbacks"):
        state["callbacks"] = _picklable_callbacks(state["callbacks"], type(estimator).__name__)
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
        What :meth:`PersistenceMixin._restore_optimizers` restores.
    """
    state = with_legacy_structure(state)  # a copy: the caller's dict is left alone
    for name in (*ADDED_IN_7, *ADDED_IN_8):
        state.setdefault(name, DEFAULTS[name])
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
    for name in OPTIONAL_FITTED_VALUES:
        if hasattr(estimator, name):
            fitted[name] = getattr(estimator, name)
    fitted.update(
        n_steps_=int(fitted["n_steps_"]),
        batch_size_=int(fitted["batch_size_"]),
        seed=int(fitted["seed"]),
        optimizer_key=list(fitted["optimizer_key"]),
        layout=layout.kind,
        input_ndim=int(layout.input_ndim),
    )
    # A table's classes_ are its conditions: "table" stores them (see _table_contents).
    if hasattr(estimator, "classes_") and getattr(estimator, TABLE_ENCODER, None) is None:
        fitted.update(classes_to_json(estimator.classes_, estimator.class_prior_))
    if layout.image_shape is not None:
        fitted["image_shape_"] = list(layout.image_shape)
    else:
        fitted["n_features_in_"] = int(estimator.n_features_in_)
        if hasattr(estimator, "feature_names_in_"):
            fitted["feature_names_in_"] = [str(c) for c in estimator.feature_names_in_]
    return fitted


def _table_contents(estimator):
    """The ``table`` entry of ``estimator.json`` and its arrays (None and no arrays for a
    model not fitted on a DataFrame); raises a TypeError for a column JSON cannot hold."""
    encoder = getattr(estimator, TABLE_ENCODER, None)
    if encoder is None:
        return None, {}
    document, arrays = encoder_to_json(encoder, TABLE_ARRAY_PREFIX)
    prior = getattr(estimator, "class_prior_", None)
    document["class_prior_"] = None if prior is None else [float(p) for p in prior]
    return document, arrays


def _saved_contents(estimator):
    """The ``estimator.json`` document and the ``arrays.npz`` arrays of ``estimator``.

    Raises a TypeError, before anything is written, for a parameter or table column JSON
    cannot hold.
    """
    table, table_arrays = _table_contents(estimator)
    raw_params = estimator.get_params(deep=False)
    # Data and Python objects given for one fit, not settings of the model.
    raw_params.update(dict.fromkeys(UNSTORED_PARAMS))
    feature_map_param, not_saved = feature_map_param_to_json(raw_params.pop("feature_map"))
    params = params_to_json(raw_params)
    params["feature_map"] = feature_map_param
    feature_map_state = None
    if not_saved is None and getattr(estimator, "feature_map_", None) is not None:
        feature_map_state = feature_map_to_json(estimator.feature_map_, FEATURE_MAP_PREFIX)
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
        "estimator": type(estimator).__name__,
        "params": params,
        "fitted": _fitted_document(estimator),
        "history_": estimator.history_,
        # None where a diverged fit left no sample-quality state (or it was not saved).
        "feature_map_": None if feature_map_state is None else feature_map_state[0],
        "diagnostics_": None if diagnostics is None else diagnostics.to_dict(),
        "table": table,
    }
    layout = getattr(estimator, LAYOUT)
    arrays = {"data_min_": np.asarray(layout.data_min), "data_max_": np.asarray(layout.data_max)}
    for network, values in (optimizer_states(estimator) or {}).items():
        for i, value in enumerate(values):
            arrays[f"optimizer_{network}_{i}"] = value
    if feature_map_state is not None:
        arrays.update(feature_map_state[1])
    arrays.update(table_arrays)
    return document, arrays


def save(estimator, path, *, overwrite=False):
    """Write the fitted ``estimator`` to the folder ``path``; see ``GANEstimator.save``."""
    document, arrays = _saved_contents(estimator)
    with staged_folder(path, overwrite=overwrite) as staging:
        with open(os.path.join(staging, "estimator.json"), "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
        for name, filename in MODELS.items():
            if getattr(estimator, name, None) is not None:
                keras.saving.save_model(getattr(estimator, name), os.path.join(staging, filename))
        np.savez(os.path.join(staging, "arrays.npz"), **arrays)
        write_manifest(staging, FORMAT, VERSION)


class PersistenceMixin:
    """Pickling, :meth:`save` and :meth:`load` for :class:`~gan_estimators.GANEstimator`.

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
        (parameters, fitted attributes, ``history_``, ``diagnostics_``, the fitted feature
        map's parameters and, for a model fitted on a DataFrame, its columns: names, kinds,
        dtypes, categories, missing rates), ``arrays.npz`` (data range, optimizer states, the
        feature map's arrays and the quantiles of continuous columns) and ``manifest.json``
        (the size and SHA-256 of every other file) -- nothing that needs unpickling.  A
        loaded estimator samples and scores exactly as this one does (see :meth:`load`).
        ``estimator.json`` also names the estimator's class (see :meth:`load`).  The
        parameters ``validation_data`` and ``callbacks`` -- data and Python objects given
        for a fit, not settings of the model -- are stored as None.

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
            If another parameter, or a training column's dtype or values (a datetime
            category, an object that is not a string, number or boolean), cannot be written
            as JSON and read back equal (nothing is written); pickle or joblib can store
            such estimators.
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

        The estimator comes back as the class it was saved as when that class is this
        one or a subclass of it: ``GANEstimator.load`` returns a ``GANEstimator`` or a
        ``WGANEstimator`` as saved.  Otherwise it comes back as this class, with the saved
        parameters: ``WGANEstimator.load`` of a folder saved by a ``GANEstimator`` gives a
        ``WGANEstimator`` with ``loss="gan"`` and every other saved value, which samples,
        scores and trains on as the saved estimator did.  Folders written before the
        format named the class (format 6 and older) were written by ``WGANEstimator``
        and load as one, with the parameters they were saved with (those they predate
        take the defaults of ``GANEstimator``, which ``WGANEstimator`` had then).

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

        A model fitted on a DataFrame comes back with its columns (names, kinds, dtypes,
        categories, missing rates) and conditions: ``sample`` gives the saved estimator's
        DataFrames for the same ``random_state``, ``conditions`` included.

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
        GANEstimator
            The fitted estimator, of the class described above.

        Raises
        ------
        ModelFolderError
            A ``ValueError`` naming the file at fault: ``path`` holds no saved estimator or
            one of a newer format; a file is missing, not listed in the manifest, truncated
            or altered; a JSON value, an array or a network does not fit the others (an
            invalid parameter, a non-finite data range, a network of another shape, optimizer
            states that do not fit the optimizers, table columns that are missing or do not
            describe the networks' encoding).  Folders written before format 6 have no
            manifest, so only the checks of their contents apply.
        ValueError
            ``feature_map`` is given although the folder stores one.
        """
        return load(cls, path, feature_map=feature_map)
