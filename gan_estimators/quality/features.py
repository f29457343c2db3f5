"""Feature maps: the space in which generated samples are compared with real ones.

Sample-quality metrics (:mod:`.metrics`) compare *features*, not raw pixels.  The
usual Inception network cannot be downloaded at run time, so a feature map here is fitted on the
estimator's own training data (and only on it: a cross-validation test fold is never seen while
fitting features) and then maps images or table rows to an ``(n, d)`` array.

Interface
---------
A feature map is a scikit-learn style transformer: ``fit(X)`` learns from training data given in
its original scale and shape (``(n, h, w)`` or ``(n, h, w, c)`` images, or ``(n, d)`` rows) and
``transform(X)`` returns a float64 array ``(n, d)``.  Subclass :class:`FeatureMap` for a new one.

Built-in maps (``feature_map=<name>``)
--------------------------------------
``"auto"`` / ``"pca"``
    :class:`PCAResidualFeatures`: whitened principal components of the data plus the
    (log) energy left outside them.  The default for images and rows alike.
``"standardize"``
    :class:`StandardizedFeatures`: the raw values, flattened and standardised per feature.

Adapters
--------
Any callable ``f(X) -> (n, d)`` (:class:`CallableFeatures`), any Keras model or layer output
(:class:`KerasFeatures`; the user's model brings TensorFlow along, this package never imports
it), and any unfitted scikit-learn transformer, fitted on the flattened training data
(:class:`TransformerFeatures`).
:func:`resolve_feature_map` turns an estimator's ``feature_map`` parameter into a fitted map.

Persistence
-----------
Every map pickles.  The built-in maps (:class:`PCAResidualFeatures`,
:class:`StandardizedFeatures`) also have :meth:`FeatureMap.get_state` /
:meth:`FeatureMap.from_state`: their fitted state as JSON-able parameters and attributes plus
NumPy arrays, which is how ``GANEstimator.save`` stores them without pickle.  The adapters
wrap user objects (functions, Keras models, transformers) that have no such form.

Validation of the default
-------------------------
``tests/test_metric_ordering.py`` checks, on MNIST digit 5 and Fashion-MNIST class 7, that FD and
KID in the default space order held-out real < real + N(0, 0.1²) noise < Gaussian blur < 10
distinct images repeated < uniform noise, and that coverage drops for the noisy, repeated and
uniform sets; the user guide's page on metrics discusses the choice.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from gan_estimators._random import draw_seed
from gan_estimators.quality.feature_base import (
    _STORABLE_MAPS,
    FeatureMap,
    _check_positive_int,
    _single_threaded_blas,
    _subsample,
)

__all__ = [
    "FEATURE_MAPS",
    "CallableFeatures",
    "FeatureMap",
    "KerasFeatures",
    "PCAResidualFeatures",
    "StandardizedFeatures",
    "TransformerFeatures",
    "UnsavedFeatureMap",
    "resolve_feature_map",
]


class PCAResidualFeatures(FeatureMap):
    r"""Whitened principal components plus the log energy outside them (the default map).

    Fitted on (a random subset of) the flattened training samples
    :math:`x \in \mathbb{R}^D` with mean :math:`\mu`, the top-:math:`k` principal directions
    :math:`u_i` with variances :math:`\lambda_i` give the features

    .. math::

        z_i = \frac{u_i^\top (x - \mu)}{\sqrt{\lambda_i}}, \quad i = 1..k, \qquad
        z_{k+1} = w \, \frac{\log(r + \epsilon) - m}{s}, \quad
        r = \lVert x - \mu \rVert^2 - \sum_{i=1}^k \bigl(u_i^\top (x - \mu)\bigr)^2

    where :math:`m, s` standardise :math:`\log(r + \epsilon)` over the training subset and
    :math:`\epsilon = 10^{-3} \sum_j \operatorname{Var}(x_j)`.  The whitened scores capture the
    global shape of a sample; the residual term is the squared distance to the data's
    principal subspace (the term that probabilistic PCA attributes to isotropic noise), which
    pixel noise raises and blur lowers, and which a plain PCA would ignore.  It summarises
    ``D - k`` directions in one number, so it is down-weighted (``w = 0.5``) to keep it from
    dominating.  Every feature is invariant to the data's scale and offset, so ``uint8``
    pixels and floats in [0, 1] or [-1, 1] give the same features.

    :math:`k` is ``n_components``, reduced to the number of components explaining
    ``variance`` of the total variance when fewer suffice (at least one; components with a
    variance below :math:`10^{-10}` of the largest are dropped), and to ``D``; the residual term
    is left out when :math:`k = D` or when the training data has no residual.  Training data
    without any variance (identical samples) gives the raw deviations from that sample.

    Parameters
    ----------
    n_components : int, default=64
        Maximum number of principal components.
    variance : float, default=0.99
        Fraction of the total variance after which no further component is kept, in (0, 1].
    residual_weight : float, default=0.5
        Weight :math:`w` of the standardised log-residual feature; 0 drops it.
    max_fit_samples : int or None, default=2000
        Fit on at most this many randomly chosen training samples (fitting runs inside every
        ``fit`` of a search, so it must stay cheap).
    random_state : int, RandomState instance or None, default=0
        Seeds the subsampling and the randomized SVD.

    Attributes
    ----------
    mean_ : ndarray of shape (D,)
    components_ : ndarray of shape (k, D)
        Orthonormal principal directions.
    scales_ : ndarray of shape (k,)
        Standard deviations :math:`\sqrt{\lambda_i}` of the components.
    residual_ : bool
        Whether the residual feature is produced.
    residual_eps_, residual_mean_, residual_std_ : float
        :math:`\epsilon`, :math:`m` and :math:`s` above.

    References
    ----------
    .. [Tipping1999] M. E. Tipping and C. M. Bishop, "Probabilistic principal component
       analysis", Journal of the Royal Statistical Society B 61(3), 1999.
    """

    _state_arrays = ("mean_", "components_", "scales_")
    _state_scalars = ("residual_", "residual_eps_", "residual_mean_", "residual_std_")

    def __init__(
        self,
        n_components=64,
        *,
        variance=0.99,
        residual_weight=0.5,
        max_fit_samples=2000,
        random_state=0,
    ):
        self.n_components = n_components
        self.variance = variance
        self.residual_weight = residual_weight
        self.max_fit_samples = max_fit_samples
        self.random_state = random_state

    def _fit(self, X):
        with _single_threaded_blas():
            self._fit_pca(X)

    def _fit_pca(self, X):
        _check_positive_int(self.n_components, "n_components")
        if not 0.0 < float(self.variance) <= 1.0:
            raise ValueError(f"variance must be in (0, 1], got {self.variance!r}")
        if float(self.residual_weight) < 0:
            raise ValueError(f"residual_weight must be >= 0, got {self.residual_weight!r}")
        if self.max_fit_samples is not None:
            _check_positive_int(self.max_fit_samples, "max_fit_samples")
        rng = check_random_state(self.random_state)
        flat = X.reshape(X.shape[0], -1)
        flat = _subsample(flat, self.max_fit_samples, rng)
        n, D = flat.shape
        self.mean_ = flat.mean(axis=0)
        centered = flat - self.mean_
        total_var = float(np.sum(centered**2) / max(n - 1, 1))
        k_max = int(min(self.n_components, D, max(n - 1, 1)))
        if k_max >= min(n, D) // 2 or D <= 256:
            _, s, vt = np.linalg.svd(centered, full_matrices=False)
        else:
            from sklearn.utils.extmath import randomized_svd

            _, s, vt = randomized_svd(centered, k_max, n_iter=4, random_state=rng)
        s, vt = s[:k_max], vt[:k_max]
        variances = s**2 / max(n - 1, 1)
        keep = variances > 1e-10 * max(float(variances[0]) if variances.size else 0.0, 1e-300)
        k = int(np.sum(keep))
        if total_var > 0 and k > 0:
            cumulative = np.cumsum(variances[:k]) / total_var
            k = int(min(k, np.searchsorted(cumulative, float(self.variance) - 1e-12) + 1))
        self.residual_ = False
        if k == 0:
            # Every training sample is identical: there is no direction to whiten.  Measure
            # the raw deviation from that sample instead, so fitting never fails.
            self.components_ = np.eye(D)
            self.scales_ = np.ones(D)
            return
        self.components_ = vt[:k]
        self.scales_ = np.sqrt(variances[:k])
        if k < D and float(self.residual_weight) > 0:
            residual = self._residual(centered)
            if float(np.max(residual)) > 1e-12 * total_var:
                self.residual_eps_ = 1e-3 * total_var
                log_residual = np.log(residual + self.residual_eps_)
                self.residual_mean_ = float(log_residual.mean())
                # Floor the spread so that a near-constant residual cannot blow up the feature.
                self.residual_std_ = float(max(log_residual.std(), 1e-3))
                self.residual_ = True

    def _residual(self, centered):
        projected = centered @ self.components_.T
        energy = np.einsum("ij,ij->i", centered, centered)
        return np.clip(energy - np.einsum("ij,ij->i", projected, projected), 0.0, None)

    def _transform(self, X):
        centered = X.reshape(X.shape[0], -1) - self.mean_
        projected = centered @ self.components_.T
        scores = projected / self.scales_
        if not self.residual_:
            return scores
        energy = np.einsum("ij,ij->i", centered, centered)
        residual = np.clip(energy - np.einsum("ij,ij->i", projected, projected), 0.0, None)
        log_residual = np.log(residual + self.residual_eps_)
        z = float(self.residual_weight) * (log_residual - self.residual_mean_) / self.residual_std_
        return np.column_stack([scores, z])


class StandardizedFeatures(FeatureMap):
    """The raw values, flattened and standardised per feature with training statistics.

    .. math:: z_j = (x_j - \\mu_j) / \\max(\\sigma_j, 10^{-6} \\max_l \\sigma_l)

    Suitable for low-dimensional tabular data whose columns are meaningful as they are.
    Constant training columns are kept with unit scale instead of being divided by zero.

    Attributes
    ----------
    mean_, scale_ : ndarray of shape (D,)
    """

    _state_arrays = ("mean_", "scale_")

    def _fit(self, X):
        flat = X.reshape(X.shape[0], -1)
        self.mean_ = flat.mean(axis=0)
        std = flat.std(axis=0)
        floor = 1e-6 * float(std.max()) if std.max() > 0 else 1.0
        self.scale_ = np.where(std > floor, std, 1.0)

    def _transform(self, X):
        return (X.reshape(X.shape[0], -1) - self.mean_) / self.scale_


class CallableFeatures(FeatureMap):
    """Adapter for a user function ``func(X) -> array (n, ...)``, flattened to ``(n, d)``.

    ``func`` receives the samples as float64 arrays in their original scale and shape.  It is
    not fitted; give a :class:`FeatureMap` subclass or a scikit-learn transformer for a map that
    learns from the training data.  Pickling the map pickles ``func`` (so a lambda cannot be
    pickled; use a module-level function).

    Parameters
    ----------
    func : callable
        The feature function.
    batch_size : int or None, default=None
        Call ``func`` on batches of at most this many samples (None: all at once).
    """

    def __init__(self, func, *, batch_size=None):
        self.func = func
        self.batch_size = batch_size

    def _fit(self, X):
        if not callable(self.func):
            raise TypeError(f"func must be callable, got {type(self.func).__name__}")
        if self.batch_size is not None:
            _check_positive_int(self.batch_size, "batch_size")

    def _transform(self, X):
        step = X.shape[0] if self.batch_size is None else int(self.batch_size)
        parts = []
        for start in range(0, X.shape[0], max(step, 1)):
            out = np.asarray(self.func(X[start : start + step]), dtype=np.float64)
            if out.ndim == 0 or out.shape[0] != min(step, X.shape[0] - start):
                raise ValueError(
                    "the feature function must return one row per sample; got shape "
                    f"{out.shape} for {min(step, X.shape[0] - start)} samples"
                )
            parts.append(out.reshape(out.shape[0], -1))
        if not parts:
            return np.zeros((0, getattr(self, "n_features_out_", 0)))
        return np.concatenate(parts)


class TransformerFeatures(FeatureMap):
    """Adapter for a scikit-learn transformer, fitted on the flattened training samples.

    Parameters
    ----------
    transformer : estimator with ``fit`` and ``transform``
        Cloned before fitting, so the object passed is left untouched.

    Attributes
    ----------
    transformer_ : estimator
        The fitted clone.
    """

    def __init__(self, transformer):
        self.transformer = transformer

    def _fit(self, X):
        self.transformer_ = clone(self.transformer).fit(X.reshape(X.shape[0], -1))

    def _transform(self, X):
        return self.transformer_.transform(X.reshape(X.shape[0], -1))


class KerasFeatures(FeatureMap):
    """Adapter for a Keras model: its output (or one layer's output) as features.

    This package imports neither TensorFlow nor Keras for it: the model, built by the user's
    Keras, brings them along; a sub-model for ``layer`` is built with that Keras's own
    ``Model`` class.  The model is used as given
    (not trained); images of shape ``(n, h, w)`` get a trailing channel axis when the model
    expects 4-D input.

    Parameters
    ----------
    model : keras.Model
        The network.
    layer : str, int or None, default=None
        Name or index of the layer whose output is used; None uses the model's output.
    preprocess : callable or None, default=None
        Applied to each batch (float32, original scale) before the model, e.g. scaling to
        the range the model was trained on.
    batch_size : int, default=256
        Samples per forward pass.
    """

    def __init__(self, model, *, layer=None, preprocess=None, batch_size=256):
        self.model = model
        self.layer = layer
        self.preprocess = preprocess
        self.batch_size = batch_size

    def _fit(self, X):
        _check_positive_int(self.batch_size, "batch_size")
        if self.preprocess is not None and not callable(self.preprocess):
            raise TypeError("preprocess must be callable or None")

    def _network(self):
        if self.layer is None:
            return self.model
        cached = getattr(self, "_network_cache", None)
        if cached is not None:
            return cached
        if isinstance(self.layer, numbers.Integral):
            output = self.model.get_layer(index=int(self.layer)).output
        else:
            output = self.model.get_layer(self.layer).output
        inputs = self.model.inputs
        # The sub-model is built by the ``Model`` class of the Keras that built the user's
        # model, found on the model's own type: this package never imports Keras itself.
        model_class = next(
            cls
            for cls in type(self.model).__mro__
            if cls.__name__ == "Model" and _is_keras_class(cls)
        )
        # A single input is passed as a tensor, not a one-element list, to match how the
        # sub-model is called (Keras warns about the structure mismatch otherwise).
        self._network_cache = model_class(inputs[0] if len(inputs) == 1 else inputs, output)
        return self._network_cache

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_network_cache", None)
        return state

    def _transform(self, X):
        network = self._network()
        X = X.astype(np.float32)
        input_shape = getattr(network, "input_shape", None)
        if X.ndim == 3 and isinstance(input_shape, tuple) and len(input_shape) == 4:
            X = X[..., np.newaxis]
        step = int(self.batch_size)
        parts = []
        for start in range(0, X.shape[0], step):
            batch = X[start : start + step]
            if self.preprocess is not None:
                batch = self.preprocess(batch)
            out = np.asarray(network(batch, training=False), dtype=np.float64)
            parts.append(out.reshape(out.shape[0], -1))
        return np.concatenate(parts) if parts else np.zeros((0, 0))


class UnsavedFeatureMap(FeatureMap):
    """Stands in for a ``feature_map`` parameter that was not saved.

    ``GANEstimator.save`` stores no function, Keras model, transformer or custom
    :class:`FeatureMap` (they cannot be written without pickle), so
    ``GANEstimator.load`` sets this placeholder as the loaded estimator's ``feature_map``
    unless the object is passed again (``load(path, feature_map=obj)``).  Fitting it raises
    a ValueError saying what is missing, so ``score`` of such an estimator, and any new fit,
    fail with that explanation instead of silently measuring in another feature space.

    Parameters
    ----------
    description : str, default=""
        What the original ``feature_map`` was (e.g. ``"function my_features"``).
    """

    def __init__(self, description=""):
        self.description = description

    def _fit(self, X):
        self.raise_not_saved()

    def raise_not_saved(self):
        """Raise the ValueError that says what is missing and how to restore it."""
        what = f" ({self.description})" if self.description else ""
        raise ValueError(
            f"This estimator's feature_map{what} was not saved: save() cannot store a "
            "function, Keras model, transformer or custom FeatureMap without pickle, so the "
            "loaded estimator has no feature_map_ and cannot score or fit sample quality. "
            "Load it with GANEstimator.load(path, feature_map=<the same object>), or call "
            "set_params(feature_map=...) first; keep estimators with such feature maps "
            "with pickle or joblib to preserve feature_map_ exactly."
        )


#: Names accepted by :func:`resolve_feature_map`.
FEATURE_MAPS = {
    "auto": PCAResidualFeatures,
    "pca": PCAResidualFeatures,
    "standardize": StandardizedFeatures,
}

_STORABLE_MAPS.update({cls.__name__: cls for cls in (PCAResidualFeatures, StandardizedFeatures)})


def _is_keras_class(cls):
    """True for a class defined by Keras or tf.keras, judged by its module's name."""
    module = cls.__module__ or ""
    root = module.split(".")[0]
    return root in {"keras", "tf_keras"} or (root == "tensorflow" and "keras" in module)


def _is_keras_model(obj):
    """True for Keras / tf.keras models and layers, without importing TensorFlow."""
    return any(_is_keras_class(cls) for cls in type(obj).__mro__)


def resolve_feature_map(feature_map, X, *, random_state=None):
    """Turn a ``feature_map`` parameter into a feature map fitted on training data ``X``.

    Parameters
    ----------
    feature_map : str, FeatureMap, keras.Model, transformer, callable or None
        - ``None`` or ``"auto"``: the default, :class:`PCAResidualFeatures`;
        - a name from :data:`FEATURE_MAPS` (``"pca"``, ``"standardize"``);
        - a :class:`FeatureMap`: cloned, then fitted (the object passed is not modified);
        - a Keras model: wrapped in :class:`KerasFeatures`;
        - an object with ``fit`` and ``transform`` (a scikit-learn transformer): wrapped in
          :class:`TransformerFeatures` and fitted on the flattened samples;
        - any other callable ``f(X) -> (n, d)``: wrapped in :class:`CallableFeatures`.
    X : array-like of shape (n, d), (n, h, w) or (n, h, w, c)
        Training data in its original scale.  Only this data is used for fitting.
    random_state : int, RandomState instance or None, default=None
        Seeds the built-in maps chosen by name (a :class:`FeatureMap` instance keeps its own).

    Returns
    -------
    FeatureMap
        A fitted map.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For an object that is none of the above.
    """
    if feature_map is None or isinstance(feature_map, str):
        name = "auto" if feature_map is None else feature_map
        if name not in FEATURE_MAPS:
            raise ValueError(
                f"feature_map={feature_map!r} is not a known feature map; expected one of "
                f"{sorted(FEATURE_MAPS)}, a FeatureMap, a Keras model, a scikit-learn "
                "transformer or a callable"
            )
        seed = draw_seed(random_state)
        mapping = FEATURE_MAPS[name]()
        if "random_state" in mapping.get_params():
            mapping.set_params(random_state=seed)
    elif isinstance(feature_map, FeatureMap):
        # A fresh unfitted copy sharing the parameters: sklearn's clone would deep-copy them,
        # which for a Keras model or a large callable is slow and pointless (never mutated).
        mapping = type(feature_map)(**feature_map.get_params(deep=False))
    elif _is_keras_model(feature_map):
        mapping = KerasFeatures(feature_map)
    elif hasattr(feature_map, "fit") and hasattr(feature_map, "transform"):
        mapping = TransformerFeatures(feature_map)
    elif callable(feature_map):
        mapping = CallableFeatures(feature_map)
    else:
        raise TypeError(
            "feature_map must be None, a name, a FeatureMap, a Keras model, a scikit-learn "
            f"transformer or a callable; got {type(feature_map).__name__}"
        )
    return mapping.fit(X)
