"""The fitted state of a GAN estimator, listed once, and the saved-folder format's identity.

:data:`MODELS`, :data:`OPTIMIZERS`, :data:`FITTED_VALUES`, :data:`OPTIONAL_FITTED_VALUES`,
:data:`LAYOUT` and :data:`RUNTIME` list what a fit sets; :func:`release`, the pickle state and
the saved folder (:mod:`.persistence`, :mod:`.loading`) all read them.  :data:`FORMAT` and
:data:`VERSION` name the folder format, and the ``LEGACY_*`` values say what older folders and
pickles, which lack later parameters, implied.

Keras models do not pickle reliably (they hold TensorFlow resources and traced functions),
so pickles and folders hold the bytes of each model's native ``.keras`` archive
(:func:`model_to_bytes`), the approach scikeras takes.  Only Keras's public saving API is
used: it wants a file name, so the bytes go through a temporary file.
"""

import os
import re
import tempfile

import keras

# table_output registers the package's Keras layer on import, as loading a network needs.
from gan_estimators.gan import table_output  # noqa: F401
from gan_estimators.gan.labels import CLASS_ATTRIBUTES, PER_CLASS_SCORES
from gan_estimators.gan.layout import LAYOUT_ATTRIBUTE
from gan_estimators.gan.table_path import ENCODER_ATTRIBUTE

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
#: The fitted table encoder of a model fitted on a DataFrame (absent otherwise).
TABLE_ENCODER = ENCODER_ATTRIBUTE
#: Start of the names of the table encoder's arrays in ``arrays.npz``.
TABLE_ARRAY_PREFIX = "table__"
#: The compiled trainer: rebuilt when needed, never stored.
RUNTIME = ("_trainer",)
#: Values set by fit calls with early stopping only (and dropped by calls without it), under
#: their key in ``estimator.json``.
OPTIONAL_FITTED_VALUES = ("best_step_", "best_val_score_", "stopped_early_")

#: The format's name, written when ``WGANEstimator`` was the only estimator class.
FORMAT = "gan_estimators.WGANEstimator"
#: Version of the saved-folder format.  2: estimator.json also holds feature_map_ (state;
#: arrays in arrays.npz) and diagnostics_; a feature_map parameter save() cannot store is a
#: marker.  3: generator_ema.keras holds the averaged generator when ema_decay is set.
#: 4: critic_width (older folders: 1.0).  5: upsampling (older folders: "nearest").
#: 6: manifest.json lists every file with its size and SHA-256, and load verifies it; the
#: folder is written beside its destination and renamed into place.  7: estimator.json
#: names the estimator's class ("estimator"; older folders: "WGANEstimator") and holds
#: best_step_ / best_val_score_ / stopped_early_ of early stopping; the parameters of
#: validation and callbacks (validation_data and callbacks stored as null); history_ may
#: hold val_step / val_score; a conditional model's fitted classes_ (with classes_dtype, so
#: that labels come back with their type) and class_prior_.  8: estimator.json holds
#: "table" (null unless fitted on a DataFrame): the table encoder's columns (name, kind,
#: pandas dtype, categories as JSON values, missing rate, transformer parameters) and
#: "class_prior_" of its conditions (null without discrete columns; classes_ is then
#: arange(len(class_prior_)), not stored in "fitted"); arrays.npz holds each continuous
#: column's quantiles and references (TABLE_ARRAY_PREFIX); the discrete_columns parameter.
#: Folders of every older version load (without a manifest to verify).
VERSION = 8
#: The first format whose folders carry a manifest.
MANIFEST_VERSION = 6
FEATURE_MAP_PREFIX = "feature_map__"
OPTIMIZER_ARRAY = re.compile(r"optimizer_(?P<network>generator|critic)_(?P<index>0|[1-9][0-9]*)")
#: Structural parameters added after the first release, with the value that folders and
#: pickles from before each one's time implied: critics as wide as their generator (before
#: format 4) and nearest-neighbour upsampling (before format 5).
LEGACY_STRUCTURE = {"critic_width": 1.0, "upsampling": "nearest"}
#: The class of folders and pickles written before format 7: the one estimator class, with
#: the defaults of today's GANEstimator.
LEGACY_CLASS = "WGANEstimator"
#: Parameters added by format 7, which pickles of earlier releases lack: they stand for
#: training without validation or callbacks, as those releases trained.
ADDED_IN_7 = (
    "validation_data",
    "validation_fraction",
    "eval_every",
    "early_stopping",
    "n_iter_no_change",
    "tol",
    "callbacks",
)
#: Parameters added by format 8, which pickles of earlier releases lack: they stand for the
#: default, which earlier releases had no choice of.
ADDED_IN_8 = ("discrete_columns",)


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


def with_legacy_structure(structure):
    """A copy of ``structure`` completed with the legacy values of the parameters it lacks.

    ``structure`` is a parameter dict or ``_structure_``; a parameter it predates gets the
    value older folders and pickles implied.
    """
    return {**LEGACY_STRUCTURE, **structure}


def release(estimator):
    """Drop the fitted state of a previous fit (models, optimizers, layout, trainer, classes
    and per-class scores)."""
    dropped = (*MODELS, *OPTIMIZERS.values(), LAYOUT, TABLE_ENCODER, *RUNTIME, "_optimizer_key_")
    for name in (*dropped, *CLASS_ATTRIBUTES, PER_CLASS_SCORES):
        estimator.__dict__.pop(name, None)


def optimizer_states(estimator):
    """The optimizers' states by network, or None before they exist."""
    if not hasattr(estimator, OPTIMIZERS["generator"]):
        return None
    return {network: getattr(estimator, name).get_state() for network, name in OPTIMIZERS.items()}
