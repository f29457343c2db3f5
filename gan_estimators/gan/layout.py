"""The layout of a GAN estimator's training data: image or tabular, and its scaling to [-1, 1].

:class:`DataLayout` is fitted on the first ``fit`` of an estimator.  It checks that later
data (a warm start, ``partial_fit``, ``score``) has the same sample shape, feeds the networks
data min–max scaled to [-1, 1] in the shape they take (images flattened for an MLP), and maps
generated data back to the training data's range and shape.
"""

from dataclasses import dataclass

import numpy as np

#: The two layouts: ``(n_samples, n_features)`` tables and stacks of images.
TABULAR, IMAGE = "tabular", "image"
#: The estimator attribute holding its fitted :class:`DataLayout`.
LAYOUT_ATTRIBUTE = "_data_layout_"
#: Widest data range scaled in float32: its differences and 2 / range stay normal floats.
_FLOAT32_SPAN = 1e38
#: Values scaled per float64 block beyond it (32 MiB of temporaries).
_FLOAT64_BLOCK = 1 << 22
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def layout_kind(X):
    """The layout of a validated array: ``"tabular"`` for 2-D ``X``, else ``"image"``."""
    return TABULAR if X.ndim == 2 else IMAGE


def _image_shape(X):
    """``(height, width, channels)`` of a 3-D or 4-D stack of images (1 channel for 3-D)."""
    return (int(X.shape[1]), int(X.shape[2]), int(X.shape[3]) if X.ndim == 4 else 1)


@dataclass(frozen=True, eq=False)
class DataLayout:
    """Sample shape and value range of the training data.

    Parameters
    ----------
    kind : {"tabular", "image"}
        The layout.
    input_ndim : {2, 3, 4}
        Dimensions of the training array: samples are returned with as many.
    data_min, data_max : float or ndarray of float64
        Range of the training data: one value for images, one per feature for tables.
    image_shape : tuple of int or None, default=None
        ``(height, width, channels)`` of image data; None for tables.
    """

    kind: str
    input_ndim: int
    data_min: float | np.ndarray
    data_max: float | np.ndarray
    image_shape: tuple | None = None

    @classmethod
    def fit(cls, X):
        """The layout of the validated training array ``X`` (2-D, 3-D or 4-D)."""
        if layout_kind(X) == TABULAR:
            return cls(
                TABULAR, 2, X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
            )
        return cls(IMAGE, X.ndim, float(X.min()), float(X.max()), _image_shape(X))

    @property
    def n_features(self):
        """Number of features of tabular data (the length of ``data_min``)."""
        return len(np.atleast_1d(self.data_min))

    def check(self, X, remedy):
        """Raise a ValueError unless the validated ``X`` has the training data's sample shape.

        Used when training continues; ``remedy`` ends the message (how to train anew).
        """
        if layout_kind(X) == TABULAR:
            if self.kind != TABULAR:
                raise ValueError(
                    f"X is 2-D but this estimator was fitted on images of shape "
                    f"{self.image_shape}; {remedy}."
                )
            return
        image_shape = _image_shape(X)
        if self.kind != IMAGE or image_shape != self.image_shape:
            expected = self.image_shape or f"{self.n_features} features"
            raise ValueError(
                f"X has samples of shape {image_shape}, but this estimator was fitted on "
                f"{expected}; {remedy}."
            )

    def check_images(self, X, owner):
        """Raise a ValueError unless the images ``X`` have the training images' shape.

        A single-channel image may come without its channel axis; ``owner`` names the
        estimator in the message.
        """
        shape = tuple(X.shape[1:])
        accepted = {self.image_shape}
        if self.image_shape[2] == 1:
            accepted.add(self.image_shape[:2])
        if shape not in accepted:
            raise ValueError(
                f"X has samples of shape {shape}, but {owner} was fitted on images of shape "
                f"{self.image_shape}."
            )

    def network_shape(self, network):
        """Per-sample shape the networks of kind ``network`` see (an MLP flattens images)."""
        if self.kind == TABULAR:
            return (self.n_features,)
        if network == "mlp":
            return (int(np.prod(self.image_shape)),)
        return self.image_shape

    def _span(self):
        span = np.asarray(self.data_max - self.data_min, dtype=np.float64)
        # A constant feature maps to -1 and back to its value.
        return np.where(span > 0, span, 1.0)

    def scale(self, X, network):
        """``X`` min–max scaled to [-1, 1], as float32 shaped for ``network``."""
        span = self._span()
        if span.max() <= _FLOAT32_SPAN:
            # float32 arithmetic: a float64 temporary of a large image set would double memory.
            low = np.asarray(self.data_min, dtype=np.float32)
            factor = np.asarray(2.0 / span, dtype=np.float32)
            scaled = (np.asarray(X, dtype=np.float32) - low) * factor - np.float32(1.0)
        else:
            # Near the float32 limits (±3.4e38) a float32 difference overflows: float64, a
            # bounded block of rows at a time.
            X = np.asarray(X)
            low, factor = np.asarray(self.data_min, dtype=np.float64), 2.0 / span
            scaled = np.empty(X.shape, dtype=np.float32)
            rows = max(1, _FLOAT64_BLOCK // max(1, int(np.prod(X.shape[1:]))))
            for start in range(0, len(X), rows):
                block = X[start : start + rows].astype(np.float64)
                scaled[start : start + rows] = (block - low) * factor - 1.0
        return scaled.reshape((len(X), *self.network_shape(network)))

    def unscale(self, G):
        """Generated data ``G`` in [-1, 1] mapped back to the training range and shape.

        Values a linear output layer puts beyond the float32 range are clipped to it.
        """
        out = (G.astype(np.float64) + 1.0) / 2.0 * self._span() + self.data_min
        if self.kind == IMAGE:
            out = out.reshape((len(G), *self.image_shape))
            if self.input_ndim == 3:
                out = out[..., 0]
        return np.clip(out, -_FLOAT32_MAX, _FLOAT32_MAX).astype(np.float32)

    def to_attributes(self):
        """The estimator attributes that store this layout in pickles and saved folders."""
        attributes = {
            "_layout_": self.kind,
            "_input_ndim_": self.input_ndim,
            "data_min_": self.data_min,
            "data_max_": self.data_max,
        }
        if self.image_shape is not None:
            attributes["image_shape_"] = self.image_shape
        return attributes

    @classmethod
    def from_attributes(cls, attributes):
        """Inverse of :meth:`to_attributes` (``attributes`` is a mapping)."""
        image_shape = attributes.get("image_shape_")
        return cls(
            attributes["_layout_"],
            int(attributes["_input_ndim_"]),
            attributes["data_min_"],
            attributes["data_max_"],
            None if image_shape is None else tuple(image_shape),
        )


def layout_attribute(name, attribute):
    """A read-only property giving field ``name`` of an estimator's fitted layout as its
    attribute ``attribute`` (an AttributeError before ``fit`` or where the field is None)."""

    def getter(estimator):
        value = getattr(estimator.__dict__.get(LAYOUT_ATTRIBUTE), name, None)
        if value is None:
            raise AttributeError(
                f"{type(estimator).__name__!r} object has no attribute {attribute!r}"
            )
        return value

    return property(getter, doc=f"``{attribute}``: see the estimator's docstring.")
