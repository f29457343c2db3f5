"""The feature-map interface, and the checks of the arrays on both sides of a map.

:class:`FeatureMap` is the base class of every map of :mod:`.features`: it checks the samples
going in (rows ``(n, d)`` or images ``(n, h, w[, c])``) and returns a float64 ``(n, d)``
feature array.  The metrics of :mod:`.metrics` and :mod:`.neighbours` check the feature arrays
they receive with :func:`_check_pair`.
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

__all__ = ["FeatureMap"]

# Maps whose fitted state is plain numbers and arrays (get_state / from_state), by class name;
# :mod:`.features` registers the built-in ones.  Restoring looks classes up here by name, never
# by importing what a file names.
_STORABLE_MAPS = {}


def _as_samples(X, name="X"):
    """Return ``X`` as a float64 array of samples: rows ``(n, d)`` or images ``(n, h, w[, c])``."""
    if hasattr(X, "to_numpy"):  # DataFrame
        X = X.to_numpy()
    X = np.asarray(X)
    if X.dtype == object or not (
        np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {X.dtype}")
    if X.ndim not in (2, 3, 4):
        raise ValueError(
            f"{name} must have shape (n, d), (n, h, w) or (n, h, w, c), got shape {X.shape}"
        )
    X = X.astype(np.float64, copy=False)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def _sample_shape(X):
    """Shape of one sample, with ``(h, w)`` and ``(h, w, 1)`` treated alike."""
    shape = tuple(int(s) for s in X.shape[1:])
    if len(shape) == 3 and shape[2] == 1:
        shape = shape[:2]
    return shape


def _as_features(X, name, *, min_samples=1):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D feature array (n, d), got shape {X.shape}")
    if X.shape[0] < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples, got {X.shape[0]}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def _check_pair(real, fake, *, min_samples=1):
    real = _as_features(real, "real", min_samples=min_samples)
    fake = _as_features(fake, "fake", min_samples=min_samples)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real and fake must have the same number of features, got {real.shape[1]} "
            f"and {fake.shape[1]}"
        )
    return real, fake


class FeatureMap(TransformerMixin, BaseEstimator):
    """Base class of feature maps: ``fit`` on training data, ``transform`` to ``(n, d)``.

    Subclasses implement ``_fit(X)`` and ``_transform(X)`` on inputs already converted to
    float64 arrays (``X`` keeps its shape: ``(n, d)``, ``(n, h, w)`` or ``(n, h, w, c)``).  The
    base class checks inputs, records the sample shape seen by ``fit`` and refuses data of
    another shape in ``transform``.

    Attributes
    ----------
    sample_shape_ : tuple of int
        Shape of one training sample (``(d,)``, ``(h, w)`` or ``(h, w, c)``; a single channel
        is dropped so ``(h, w, 1)`` and ``(h, w)`` inputs are interchangeable).
    n_features_out_ : int
        Number of output features ``d``.
    """

    def fit(self, X, y=None):
        """Fit the map on training data.

        Parameters
        ----------
        X : array-like of shape (n, d), (n, h, w) or (n, h, w, c)
            Training data in its original scale.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        X = _as_samples(X)
        if X.shape[0] < 2:
            raise ValueError(f"fitting a feature map needs at least 2 samples, got {X.shape[0]}")
        self.sample_shape_ = _sample_shape(X)
        self._fit(X)
        self.n_features_out_ = int(self._transform(X[:2]).shape[1])
        return self

    def transform(self, X):
        """Map samples to features.

        Parameters
        ----------
        X : array-like of shape (n, ...)
            Samples shaped and scaled like the training data.

        Returns
        -------
        ndarray of shape (n, ``n_features_out_``)
        """
        check_is_fitted(self, "sample_shape_")
        X = _as_samples(X)
        if _sample_shape(X) != self.sample_shape_:
            raise ValueError(
                f"X has samples of shape {X.shape[1:]}, but this feature map was fitted on "
                f"samples of shape {self.sample_shape_}"
            )
        features = np.asarray(self._transform(X), dtype=np.float64)
        return features.reshape(features.shape[0], -1)

    #: Fitted attributes holding arrays / JSON scalars, stored by :meth:`get_state` (a map
    #: that sets neither is not storable; attributes a fit did not set are left out).
    _state_arrays = None
    _state_scalars = ()

    def get_state(self):
        """The fitted map as plain data, for storing it without pickle.

        Only maps whose whole fitted state is numbers and arrays support this (the built-in
        :class:`PCAResidualFeatures` and :class:`StandardizedFeatures`); adapters of user
        objects raise TypeError.  :meth:`from_state` inverts it exactly.

        Returns
        -------
        dict
            ``{"class": name, "version": 1, "params": ..., "attributes": ..., "arrays":
            ...}``: ``params`` are the constructor parameters as given (JSON-able, except a
            ``random_state`` given as a NumPy generator instance), ``attributes`` the fitted
            scalars and ``sample_shape_`` as JSON types, ``arrays`` a dict of float64
            ndarrays.

        Raises
        ------
        TypeError
            If this kind of map cannot be stored this way.
        sklearn.exceptions.NotFittedError
            If the map is not fitted.
        """
        cls = type(self)
        if self._state_arrays is None or _STORABLE_MAPS.get(cls.__name__) is not cls:
            raise TypeError(
                f"{cls.__name__} cannot be stored as plain data (it wraps a user object or "
                "holds state this package does not know); pickle or joblib can store it"
            )
        check_is_fitted(self, "sample_shape_")
        attributes = {
            "sample_shape_": [int(s) for s in self.sample_shape_],
            "n_features_out_": int(self.n_features_out_),
        }
        for name in self._state_scalars:
            if name in self.__dict__:
                value = self.__dict__[name]
                attributes[name] = value.item() if isinstance(value, np.generic) else value
        arrays = {
            name: np.asarray(self.__dict__[name], dtype=np.float64)
            for name in self._state_arrays
            if name in self.__dict__
        }
        return {
            "class": cls.__name__,
            "version": 1,
            "params": self.get_params(deep=False),
            "attributes": attributes,
            "arrays": arrays,
        }

    @classmethod
    def from_state(cls, state):
        """Rebuild a fitted map from :meth:`get_state` output.

        Parameters
        ----------
        state : dict
            As returned by :meth:`get_state` (possibly after a JSON / ``.npz`` round trip:
            lists and arrays are converted back).  Called on :class:`FeatureMap` itself, the
            class is taken from ``state["class"]`` among the storable built-in maps.

        Returns
        -------
        FeatureMap
            A fitted map whose ``transform`` equals the original's.

        Raises
        ------
        ValueError
            If ``state`` names a class that cannot be restored this way or is not ``cls``.
        """
        name = state.get("class") if isinstance(state, dict) else None
        target = _STORABLE_MAPS.get(name)
        if target is None or not issubclass(target, cls):
            raise ValueError(
                f"state describes feature map {name!r}, which {cls.__name__}.from_state "
                f"cannot restore; storable maps: {sorted(_STORABLE_MAPS)}"
            )
        if int(state.get("version", 1)) != 1:
            raise ValueError(
                f"feature map state version {state['version']!r} is newer than this "
                "gan_estimators understands; upgrade gan_estimators"
            )
        mapping = target(**state["params"])
        for key, value in state["attributes"].items():
            setattr(mapping, key, value)
        mapping.sample_shape_ = tuple(int(s) for s in state["attributes"]["sample_shape_"])
        for key, value in state["arrays"].items():
            setattr(mapping, key, np.asarray(value, dtype=np.float64))
        return mapping

    def _fit(self, X):  # pragma: no cover - trivial default
        pass

    def _transform(self, X):  # pragma: no cover - abstract
        raise NotImplementedError


_blas_controller = None


@contextlib.contextmanager
def _single_threaded_blas():
    """Run BLAS single-threaded inside the block.

    The matrices of feature fitting and of the metrics are small (thousands x hundreds), so a
    second thread gains little, while a multi-threaded BLAS whose threads spin-wait for busy
    cores (a search's workers, other processes) loses much.
    """
    global _blas_controller
    try:
        if _blas_controller is None:
            from threadpoolctl import ThreadpoolController

            _blas_controller = ThreadpoolController()
        limiter = _blas_controller.limit(limits=1, user_api="blas")
    except Exception:  # pragma: no cover - threadpoolctl unavailable or unable to inspect
        limiter = contextlib.nullcontext()
    with limiter:
        yield


def _subsample(X, max_samples, random_state):
    if max_samples is None or X.shape[0] <= max_samples:
        return X
    rng = check_random_state(random_state)
    return X[np.sort(rng.choice(X.shape[0], max_samples, replace=False))]


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
