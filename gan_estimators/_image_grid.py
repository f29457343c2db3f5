"""Images tiled into one array, the grid :func:`gan_estimators.plotting.plot_samples` draws.

NumPy only: no matplotlib, no TensorFlow.
"""

import math

import numpy as np


def as_images(samples, image_shape):
    """``samples`` as float images ``(n, h, w)`` or ``(n, h, w, 3|4)`` for ``imshow``."""
    if hasattr(samples, "to_numpy"):
        samples = samples.to_numpy()
    X = np.asarray(samples)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"samples must be numeric, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if image_shape is not None:
        image_shape = tuple(int(s) for s in image_shape)
        if X.ndim < 1 or int(np.prod(X.shape[1:])) != int(np.prod(image_shape)):
            raise ValueError(
                f"samples of shape {X.shape[1:]} cannot be reshaped to image_shape={image_shape}"
            )
        X = X.reshape((len(X), *image_shape))
    elif X.ndim == 2:
        side = math.isqrt(X.shape[1])
        if side * side != X.shape[1]:
            raise ValueError(
                f"2-D samples have {X.shape[1]} features, not a square number of pixels: "
                "pass image_shape=(height, width) or (height, width, channels)"
            )
        X = X.reshape((len(X), side, side))
    if X.ndim == 4 and X.shape[-1] == 1:
        X = X[..., 0]
    if X.ndim == 3 or (X.ndim == 4 and X.shape[-1] in (3, 4)):
        return X
    raise ValueError(
        "samples must be images (n, height, width), (n, height, width, 1|3|4) or flattened "
        f"square images (n, side * side); got shape {X.shape}"
    )


def tile(images, n_cols, padding, fill):
    """Tile ``(n, h, w[, c])`` images into one array, ``n_cols`` per row."""
    n, h, w = images.shape[:3]
    n_rows = max(1, math.ceil(n / n_cols))
    tail = images.shape[3:]
    grid = np.full(
        (n_rows * h + (n_rows - 1) * padding, n_cols * w + (n_cols - 1) * padding, *tail),
        fill,
        dtype=np.float64,
    )
    for i, image in enumerate(images):
        r, c = divmod(i, n_cols)
        top, left = r * (h + padding), c * (w + padding)
        grid[top : top + h, left : left + w] = image
    return grid


def class_rows(images, y, n_cols):
    """``images`` grouped by their labels ``y``: one row of at most ``n_cols`` (None: the
    most any class has) per class, sorted, blanks (NaN) after a short row.  Returns
    (images in row order, images per row, the classes)."""
    labels = np.asarray(y)
    if labels.shape != (len(images),):
        raise ValueError(f"y must hold one label per sample ({len(images)}); got {labels.shape}")
    classes = np.unique(labels)
    rows = [images[labels == label] for label in classes]
    width = max(len(row) for row in rows) if n_cols is None else int(n_cols)
    blank = np.full((width, *images.shape[1:]), np.nan)
    grid = [np.concatenate([row[:width], blank[: max(0, width - len(row))]]) for row in rows]
    return np.concatenate(grid), width, classes
