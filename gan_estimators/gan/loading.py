"""Loading a saved GAN estimator folder (see ``GANEstimator.load``).

The folder's ``estimator.json`` is read through the checks of :mod:`.document` and, for
format 6 and later, verified against its manifest (:mod:`.folder`); the estimator is built as
the class the folder names (:func:`saved_class`) with the stored parameters, then its
networks, arrays, optimizer states and sample-quality state are restored, and for a model
fitted on a DataFrame its table encoder (:mod:`gan_estimators.tables.state`) and conditions.
A folder that is incomplete, altered or assembled from two models is refused with a
:class:`~gan_estimators.gan.errors.ModelFolderError` naming the file at fault.
"""

import os
import warnings

import keras
import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from gan_estimators.gan._config import DEFAULTS
from gan_estimators.gan.conditioning import CRITIC_EMBEDDING, GENERATOR_EMBEDDING
from gan_estimators.gan.document import check_data_range, check_document, read_arrays
from gan_estimators.gan.encoding import (
    feature_map_from_json,
    feature_map_param_from_json,
    feature_map_was_saved,
    params_from_json,
)
from gan_estimators.gan.errors import ModelFolderError
from gan_estimators.gan.fitted_state import (
    FEATURE_MAP_PREFIX,
    FITTED_VALUES,
    FORMAT,
    LAYOUT,
    LEGACY_CLASS,
    MANIFEST_VERSION,
    MODELS,
    OPTIMIZER_ARRAY,
    OPTIMIZERS,
    OPTIONAL_FITTED_VALUES,
    TABLE_ARRAY_PREFIX,
    TABLE_ENCODER,
    VERSION,
    with_legacy_structure,
)
from gan_estimators.gan.folder import MANIFEST, read_json, verify_manifest
from gan_estimators.gan.labels import classes_from_json, is_prior_json
from gan_estimators.gan.layout import DataLayout

# TableOutput is registered with Keras on import, before any network is loaded.
from gan_estimators.gan.table_output import TableOutput
from gan_estimators.gan.table_path import output_spans
from gan_estimators.quality.diagnostics import DiagnosticsReport
from gan_estimators.tables.encoding import table_conditions
from gan_estimators.tables.state import encoder_from_json


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
    if version >= MANIFEST_VERSION or os.path.exists(os.path.join(folder, MANIFEST)):
        verify_manifest(folder)
    check_document(document, path)
    return document, version


def _family(cls):
    """``cls`` and its subclasses, recursively."""
    yield cls
    for subclass in cls.__subclasses__():
        yield from _family(subclass)


def saved_class(cls, document):
    """The class a folder's ``document`` is loaded as by ``cls.load``: the saved class where
    it is ``cls`` or one of its subclasses, else ``cls`` itself."""
    name = document.get("estimator", LEGACY_CLASS)
    return next((c for c in _family(cls) if c.__name__ == name), cls)


def _params(cls, document, path, feature_map):
    """The checked constructor parameters stored in ``document`` (read from ``path``).

    A parameter the folder predates gets the value of ``DEFAULTS``, the defaults of the
    estimator class those folders came from (whatever the defaults of ``cls``).
    """
    encoded = dict(document["params"])
    encoded_feature_map = encoded.pop("feature_map", DEFAULTS["feature_map"])
    # Folders of format 2 and older come from fits without a weight average.
    encoded.setdefault("ema_decay", None)
    names = cls._get_param_names()
    unknown = sorted(set(encoded) - set(names))
    if unknown:
        raise ModelFolderError(path, f"params holds unknown parameters {unknown}")
    try:
        params = {name: DEFAULTS[name] for name in names if name in DEFAULTS}
        params.update(params_from_json(with_legacy_structure(encoded)))
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
        match = OPTIMIZER_ARRAY.fullmatch(name)
        if match:
            indexed[match["network"]][int(match["index"])] = arrays[name]
        elif name not in ("data_min_", "data_max_") and not name.startswith(
            (FEATURE_MAP_PREFIX, TABLE_ARRAY_PREFIX)
        ):
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


def _shape(shape):
    """A model's input shape as a tuple, or a list of tuples for several inputs."""
    if isinstance(shape, list):
        return [tuple(s) for s in shape]
    return tuple(shape)


def _per_sample(shape):
    """``shape`` (or each shape of a list) without its batch axis."""
    return [s[1:] for s in shape] if isinstance(shape, list) else shape[1:]


def _check_networks(estimator, folder):
    """Check that the loaded networks fit the parameters and the data layout."""
    sample_shape = tuple(getattr(estimator, LAYOUT).network_shape(estimator.network_))
    latent = (None, int(estimator.latent_dim))
    sample = (None, *sample_shape)
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        # Conditional networks take the class index as a second input.
        latent, sample = [latent, (None,)], [sample, (None,)]
    expected = {
        "generator_": (latent, (None, *sample_shape), GENERATOR_EMBEDDING),
        "generator_ema_": (latent, (None, *sample_shape), GENERATOR_EMBEDDING),
        "critic_": (sample, (None, 1), CRITIC_EMBEDDING),
    }
    for name, (inputs, outputs, embedding) in expected.items():
        model = getattr(estimator, name, None)
        if model is None:
            continue
        path = os.path.join(folder, MODELS[name])
        actual = (_shape(model.input_shape), tuple(model.output_shape))
        if actual != (inputs, outputs):
            raise ModelFolderError(
                path,
                f"maps inputs of shape {_per_sample(actual[0])} to {actual[1][1:]}, but the "
                f"saved parameters, data and classes need {_per_sample(inputs)} to "
                f"{outputs[1:]}",
            )
        if classes is not None and model.get_layer(embedding).input_dim != len(classes):
            raise ModelFolderError(path, f"does not embed the {len(classes)} saved classes")
    spans = output_spans(estimator)
    for name in ("generator_", "generator_ema_"):
        model = getattr(estimator, name, None)
        if spans is None or model is None:
            continue
        ends = [layer.spans for layer in model.layers if isinstance(layer, TableOutput)]
        if ends != [[tuple(span) for span in spans]]:
            raise ModelFolderError(
                os.path.join(folder, MODELS[name]),
                "does not end with the output layer of the saved table's columns",
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
    for name in OPTIONAL_FITTED_VALUES:
        if name in fitted:
            setattr(estimator, name, fitted[name])
    if fitted.get("optimizer_key") is not None:
        estimator._optimizer_key_ = tuple(fitted["optimizer_key"])
    if "n_features_in_" in fitted:
        estimator.n_features_in_ = fitted["n_features_in_"]
    if fitted.get("feature_names_in_") is not None:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
    estimator.history_ = document["history_"]
    classes = classes_from_json(fitted)
    if classes is not None:
        estimator.classes_, estimator.class_prior_ = classes
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
                document["feature_map_"], arrays, FEATURE_MAP_PREFIX
            )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ModelFolderError(path, f"sample-quality state cannot be restored ({exc!r})") from exc


def _table_encoder(table, arrays, path):
    """The table encoder stored in ``table`` (the ``table`` entry of ``estimator.json`` at
    ``path``) and ``arrays``."""
    try:
        encoder = encoder_from_json(table, arrays, TABLE_ARRAY_PREFIX)
    except ValueError as exc:
        raise ModelFolderError(path, f"table: {exc}") from None
    data_min = arrays.get("data_min_")
    if data_min is not None and data_min.shape != (encoder.width,):
        raise ModelFolderError(
            path,
            f"table: its columns encode {encoder.width} features, but the data range in "
            f"arrays.npz has shape {data_min.shape}",
        )
    return encoder


def _restore_table(estimator, encoder, table, path):
    """Set the table ``encoder`` of ``estimator`` and its conditions (``classes_``,
    ``class_prior_``, stored in ``table``), checked against the training columns."""
    names = list(getattr(estimator, "feature_names_in_", []))
    if names != encoder.names or estimator.n_features_in_ != len(names):
        raise ModelFolderError(
            path,
            f"table: the columns {encoder.names!r} are not the fitted feature_names_in_ {names!r}",
        )
    n_conditions = len(table_conditions(encoder))
    prior = table.get("class_prior_")
    # A prior is stored exactly when the table has discrete columns to condition on.
    if (prior is None) != (n_conditions == 0):
        raise ModelFolderError(
            path,
            f"table: class_prior_ must hold one frequency per condition of the "
            f"discrete columns ({n_conditions}), or be null without discrete columns",
        )
    if prior is not None:
        if not is_prior_json(prior, n_conditions):
            raise ModelFolderError(
                path,
                f"table: class_prior_ must be {n_conditions} frequencies summing to 1, one "
                "per condition of the discrete columns",
            )
        estimator.classes_ = np.arange(n_conditions)
        estimator.class_prior_ = np.asarray(prior, dtype=np.float64)
    setattr(estimator, TABLE_ENCODER, encoder)


def load(cls, path, *, feature_map=None):
    """Read an estimator from the folder ``path`` with ``cls.load``; see
    ``GANEstimator.load``."""
    folder = os.fspath(path)
    document, version = _read_document(cls, folder)
    json_path = os.path.join(folder, "estimator.json")
    cls = saved_class(cls, document)
    estimator = cls(**_params(cls, document, json_path, feature_map))
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise ModelFolderError(json_path, f"params: {exc}") from None
    arrays_path = os.path.join(folder, "arrays.npz")
    arrays = read_arrays(arrays_path)
    table = document.get("table")
    encoder = None if table is None else _table_encoder(table, arrays, json_path)
    check_data_range(
        arrays, arrays_path, document["fitted"], None if encoder is None else encoder.width
    )
    _restore_state(estimator, document, arrays, folder)
    if encoder is not None:
        _restore_table(estimator, encoder, table, json_path)
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
