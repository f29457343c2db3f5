"""Datasets: the embedded 8×8 digits, MNIST / Fashion-MNIST from IDX files, one class at a time.

:func:`load_digits_images` needs nothing but scikit-learn and is always offline.
:func:`load_mnist` reads the original IDX files (gzip or uncompressed) from a folder the user
names, the ``GAN_ESTIMATORS_DATA`` environment variable, Keras's cache or Debian's
``dataset-fashion-mnist`` package; it downloads through Keras only when asked to
(``download_if_missing=True``) and none of them has the files. :func:`extract_class` picks the
images of one class, since the reference workflow trains one GAN per class.

Importing this module does not import TensorFlow or Keras: Keras is imported only inside the
download fallback.
"""

import gzip
import hashlib
import math
import os
import zipfile
import zlib

import numpy as np

__all__ = [
    "ENV_VAR",
    "DataNotFoundError",
    "extract_class",
    "load_digits_images",
    "load_mnist",
]

#: Environment variable naming a folder that holds the MNIST / Fashion-MNIST IDX files.
ENV_VAR = "GAN_ESTIMATORS_DATA"

# Where Debian's (and Ubuntu's) ``dataset-fashion-mnist`` package installs the gzip files.
_DEBIAN_FASHION_DIR = "/usr/share/datasets/fashion-mnist"

_KIND_NAMES = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}
_SPLIT_PREFIXES = {"train": "train", "test": "t10k"}
# Sub-folders of ``data_home`` / ``$GAN_ESTIMATORS_DATA`` tried before the folder itself.
# ``fashion-mnist`` is the name Keras and Debian use.
_SUBFOLDERS = {"mnist": ("mnist",), "fashion": ("fashion", "fashion-mnist")}

_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
_GZIP_MAGIC = b"\x1f\x8b"
_IMAGE_SIDE = 28
_N_CLASSES = 10

# sha256 of the decompressed official label files.  The IDX names are the same for MNIST and
# Fashion-MNIST, so a folder holding the files directly cannot say which set it holds; these
# let load_mnist refuse to return Fashion-MNIST when MNIST was asked for (and vice versa).
_OFFICIAL_LABELS_SHA256 = {
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5": ("mnist", "train"),
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2": ("mnist", "test"),
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9": ("fashion", "train"),
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34": ("fashion", "test"),
}

_DIGITS_DESCR = """\
Optical recognition of handwritten digits (UCI optdigits test set, E. Alpaydin), as shipped
inside scikit-learn: 1,797 grey-scale 8x8 images of the digits 0-9, about 180 per class.
The original values 0..16 are divided by 16, so every pixel lies in [0, 1]; the images carry a
trailing channel axis, shape (n, 8, 8, 1).
"""


class DataNotFoundError(FileNotFoundError):
    """No MNIST / Fashion-MNIST files were found and none could be downloaded.

    Raised by :func:`load_mnist`. A subclass of :class:`FileNotFoundError` (and so of
    :class:`OSError`). Its message lists every place searched, in order, the outcome of the
    download attempt, and how to provide the files.

    Attributes
    ----------
    searched : list of str
        One line per place searched, in the order they were tried.
    """

    def __init__(self, message, searched=()):
        super().__init__(message)
        self.searched = list(searched)


# The embedded digits


def load_digits_images(*, return_X_y=False):
    """Load scikit-learn's embedded 8×8 digits as float images in [0, 1].

    The data are scikit-learn's :func:`~sklearn.datasets.load_digits` (1,797 images, about 180
    per class, no download ever), with the pixel values 0..16 divided by 16 and a channel axis
    appended, ready for an image GAN.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(images, target)`` instead of a Bunch, as scikit-learn's loaders do.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        - ``data``: ndarray of float32, shape (1797, 8, 8, 1), values in [0, 1].
        - ``images``: the same array as ``data`` (the name scikit-learn's ``load_digits`` uses
          for its 8×8 images).
        - ``target``: ndarray of int, shape (1797,), the digit 0..9 of each image.
        - ``target_names``: ndarray ``[0, 1, ..., 9]``.
        - ``DESCR``: description of the dataset.

    (images, target) : tuple of ndarray
        If ``return_X_y`` is True: the float32 images, shape (1797, 8, 8, 1), and their labels.

    See Also
    --------
    load_mnist : MNIST / Fashion-MNIST, 28×28 images.
    extract_class : The images of one class.

    Examples
    --------
    >>> from gan_estimators.datasets import load_digits_images
    >>> X, y = load_digits_images(return_X_y=True)
    >>> X.shape, X.dtype.name, float(X.min()), float(X.max())
    ((1797, 8, 8, 1), 'float32', 0.0, 1.0)
    """
    from sklearn.datasets import load_digits
    from sklearn.utils import Bunch

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    target = np.asarray(digits.target)
    if return_X_y:
        return images, target
    return Bunch(
        data=images,
        images=images,
        target=target,
        target_names=np.arange(_N_CLASSES),
        DESCR=_DIGITS_DESCR,
    )


# IDX parsing


def _read_bytes(path):
    """Return the decompressed contents of ``path`` (gzip detected by content, not by name)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != _GZIP_MAGIC:
        # Some browsers decompress a downloaded .gz but keep its name: judge by content.
        return data, False
    try:
        return gzip.decompress(data), True
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError(
            f"{path}: corrupt or truncated gzip data ({type(exc).__name__}: {exc}); "
            "replace the file with a fresh copy"
        ) from exc


def _read_idx(path, magic):
    """Read one unsigned-byte IDX file (gzip or uncompressed) into a writable uint8 array.

    Parameters
    ----------
    path : str or path-like
        The file.
    magic : int
        The expected magic number, ``0x00000800 + ndim`` (unsigned bytes, ``ndim`` dimensions).

    Returns
    -------
    ndarray of uint8
        Shape as the header says.

    Raises
    ------
    ValueError
        The file is not gzip-readable, its magic number is not ``magic``, its header is short,
        or its payload is shorter or longer than the header's dimensions say.
    """
    path = os.fspath(path)
    data, compressed = _read_bytes(path)
    ndim = magic & 0xFF
    what = "images" if ndim == 3 else "labels" if ndim == 1 else f"{ndim}-D data"
    if len(data) < 4:
        raise ValueError(
            f"{path}: not an IDX file: only {len(data)} bytes, too short for a magic number"
        )
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        hint = "" if compressed else " (and it is not gzip-compressed)"
        raise ValueError(
            f"{path}: not an IDX {what} file: magic number 0x{found:08x}, expected "
            f"0x{magic:08x} (unsigned bytes, {ndim} dimension{'s' if ndim != 1 else ''}){hint}"
        )
    header_size = 4 * (1 + ndim)
    if len(data) < header_size:
        raise ValueError(
            f"{path}: truncated IDX header: {len(data)} bytes, the header of a {ndim}-D "
            f"file takes {header_size}"
        )
    shape = tuple(int.from_bytes(data[4 * i : 4 * i + 4], "big") for i in range(1, ndim + 1))
    expected = math.prod(shape)
    payload = len(data) - header_size
    dims = "x".join(str(d) for d in shape)
    if payload < expected:
        raise ValueError(
            f"{path}: truncated IDX file: the header announces {dims} = {expected} bytes of "
            f"data but only {payload} follow"
        )
    if payload > expected:
        raise ValueError(
            f"{path}: corrupt IDX file: {payload - expected} unexpected trailing bytes after "
            f"the {dims} = {expected} bytes of data the header announces"
        )
    # np.frombuffer over bytes is read-only; callers get their own writable copy.
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape).copy()


# Where load_mnist looks


def _writable_or_creatable(path):
    if os.path.isdir(path):
        return os.access(path, os.W_OK)
    parent = os.path.dirname(os.path.abspath(path))
    return os.path.isdir(parent) and os.access(parent, os.W_OK)


def _keras_cache_dirs():
    """The ``datasets`` folders Keras 3 would cache into, mirroring its own choice.

    Keras uses ``$KERAS_HOME`` if set, else ``~/.keras`` (``/tmp/.keras`` when the home folder
    is not writable), and falls back to ``/tmp/.keras`` when that folder is not writable.
    """
    keras_home = os.environ.get("KERAS_HOME")
    if not keras_home:
        user_home = os.path.expanduser("~")
        base = user_home if os.access(user_home, os.W_OK) else "/tmp"
        keras_home = os.path.join(base, ".keras")
    keras_home = os.path.expanduser(keras_home)
    dirs = [os.path.join(keras_home, "datasets")]
    fallback = os.path.join("/tmp", ".keras", "datasets")
    if not _writable_or_creatable(keras_home) and fallback not in dirs:
        dirs.append(fallback)
    return dirs


def _idx_names(split):
    """The accepted file names, most usual first, for the images and for the labels."""
    prefix = _SPLIT_PREFIXES[split]
    names = []
    for part in ("images-idx3", "labels-idx1"):
        stem = f"{prefix}-{part}-ubyte"
        # 'train-images.idx3-ubyte' is the name stored inside the original MNIST gzip headers,
        # which is what `gunzip -N` and several archive tools restore.
        dotted = f"{prefix}-{part.replace('-', '.')}-ubyte"
        names.append((stem + ".gz", stem, dotted + ".gz", dotted))
    return tuple(names)


def _candidate_places(kind, data_home):
    """Yield ``(description, folder_or_file, layout)`` in search order.

    ``layout`` is ``"idx"`` (a folder of IDX files), ``"npz"`` (Keras's ``mnist.npz``), or
    ``None`` for a place that was not configured (``description`` says why).
    """
    configured = (
        ("data_home", data_home, "not given"),
        (f"${ENV_VAR}", os.environ.get(ENV_VAR), "not set"),
    )
    for label, root, absent in configured:
        if root is None or os.fspath(root) == "":
            yield f"{label}: {absent}", None, None
            continue
        root = os.path.expanduser(os.fspath(root))
        for sub in _SUBFOLDERS[kind]:
            yield label, os.path.join(root, sub), "idx"
        yield label, root, "idx"
    for cache in _keras_cache_dirs():
        if kind == "mnist":
            yield "Keras cache", os.path.join(cache, "mnist.npz"), "npz"
        else:
            yield "Keras cache", os.path.join(cache, "fashion-mnist"), "idx"
    if kind == "fashion":
        yield "Debian dataset-fashion-mnist", _DEBIAN_FASHION_DIR, "idx"


def _find_in_folder(folder, names):
    """Return the first existing file of ``names`` in ``folder``, or None."""
    paths = (os.path.join(folder, name) for name in names)
    return next((path for path in paths if os.path.isfile(path)), None)


def _check_labels_kind(labels_path, raw_labels, kind):
    """Refuse the official labels of the other dataset (same IDX names, different data)."""
    digest = hashlib.sha256(raw_labels).hexdigest()
    official = _OFFICIAL_LABELS_SHA256.get(digest)
    if official is not None and official[0] != kind:
        other_kind, other_split = official
        raise ValueError(
            f"{labels_path}: this is the official {_KIND_NAMES[other_kind]} {other_split} "
            f"labels file, but kind={kind!r} asks for {_KIND_NAMES[kind]}. MNIST and "
            "Fashion-MNIST files have the same names: keep them in separate 'mnist/' and "
            "'fashion/' sub-folders."
        )


def _check_pair(images, labels, images_source, labels_source):
    """Validate decoded arrays: 28×28 uint8 images, labels 0..9, equal counts."""
    if images.ndim != 3 or images.shape[1:] != (_IMAGE_SIDE, _IMAGE_SIDE):
        raise ValueError(
            f"{images_source}: images of shape {images.shape[1:]}, expected "
            f"({_IMAGE_SIDE}, {_IMAGE_SIDE}) for MNIST / Fashion-MNIST"
        )
    if labels.ndim != 1:
        raise ValueError(f"{labels_source}: labels of shape {labels.shape}, expected 1-D")
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise ValueError(
            f"{images_source}: expected uint8 images and labels, got {images.dtype} and "
            f"{labels.dtype}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"image/label count mismatch: {images_source} holds {len(images)} images but "
            f"{labels_source} holds {len(labels)} labels"
        )
    if labels.size and labels.max() >= _N_CLASSES:
        bad = int(np.argmax(labels >= _N_CLASSES))
        raise ValueError(
            f"{labels_source}: corrupt labels: value {int(labels[bad])} at index {bad}, "
            f"labels must lie in 0..{_N_CLASSES - 1}"
        )


def _load_idx_pair(images_path, labels_path, kind):
    images = _read_idx(images_path, _IMAGES_MAGIC)
    labels = _read_idx(labels_path, _LABELS_MAGIC)
    header = _LABELS_MAGIC.to_bytes(4, "big") + len(labels).to_bytes(4, "big")
    _check_labels_kind(labels_path, header + labels.tobytes(), kind)
    _check_pair(images, labels, images_path, labels_path)
    return images, labels


def _load_keras_npz(path, split):
    """Read one split of Keras's ``mnist.npz`` (keys ``x_train``, ``y_train``, ...)."""
    keys = (f"x_{split}", f"y_{split}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            arrays = [archive[key] for key in keys if key in names]
    except (OSError, EOFError, TypeError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(
            f"{path}: corrupt or truncated .npz ({type(exc).__name__}: {exc}); delete it so "
            "that Keras downloads it again, or provide the IDX files"
        ) from exc
    if len(arrays) != len(keys):
        raise ValueError(
            f"{path}: not Keras's mnist.npz: it lacks {[k for k in keys if k not in names]} "
            f"(it holds {sorted(names)})"
        )
    images, labels = arrays
    _check_pair(images, labels, f"{path} [{keys[0]}]", f"{path} [{keys[1]}]")
    return images, labels


def _download_with_keras(kind):
    """Download through Keras; return ``((x_train, y_train), (x_test, y_test))``.

    Keras is imported here and only here, so that nothing else in this module needs
    TensorFlow. Tests replace this function: they must never reach the network.
    """
    if kind == "mnist":
        from keras.datasets import mnist as keras_dataset
    else:
        from keras.datasets import fashion_mnist as keras_dataset
    return keras_dataset.load_data()


def _not_found_message(kind, split, searched, download_note):
    name = _KIND_NAMES[kind]
    images_names, labels_names = _idx_names(split)
    subfolders = " or ".join(f"'{sub}/'" for sub in _SUBFOLDERS[kind])
    lines = [
        f"{name} {split!r} split not found: no {images_names[1]}[.gz] together with "
        f"{labels_names[1]}[.gz]"
        + (" (nor Keras's mnist.npz)" if kind == "mnist" else "")
        + ". Looked in, in this order:"
    ]
    lines += [f"  {i}. {place}" for i, place in enumerate(searched, 1)]
    lines.append(f"Download through Keras: {download_note}.")
    lines.append(
        f"To provide the files, put {images_names[0]} and {labels_names[0]} (gzip or "
        f"uncompressed) in a folder, or in its {subfolders} sub-folder, and pass "
        f"load_mnist(kind={kind!r}, split={split!r}, data_home=FOLDER) or set the "
        f"environment variable {ENV_VAR}=FOLDER."
    )
    if kind == "fashion":
        lines.append(
            "The files are published at https://github.com/zalandoresearch/fashion-mnist "
            "(data/fashion/); on Debian or Ubuntu, `apt install dataset-fashion-mnist` "
            f"installs them in {_DEBIAN_FASHION_DIR}."
        )
    else:
        lines.append(
            "Alternatively copy Keras's mnist.npz (https://storage.googleapis.com/tensorflow/"
            "tf-keras-datasets/mnist.npz) into the Keras cache folder listed above."
        )
    return "\n".join(lines)


def load_mnist(
    kind="mnist", split="train", *, data_home=None, download_if_missing=False, as_float=False
):
    """Load MNIST or Fashion-MNIST from the original IDX files.

    The files have their standard names, e.g. ``train-images-idx3-ubyte.gz`` and
    ``t10k-labels-idx1-ubyte`` (gzip or uncompressed, told apart by content; the dotted names
    ``train-images.idx3-ubyte[.gz]`` of the original gzip headers are accepted too). They are
    looked for in this order, and the first place holding both the images and the labels of
    the split wins:

    1. ``data_home``: its ``mnist/`` sub-folder (``fashion/`` then ``fashion-mnist/`` for
       Fashion-MNIST), then the folder itself.
    2. The folder named by the environment variable ``GAN_ESTIMATORS_DATA``, with the same
       layout rules.
    3. Keras's cache, where ``keras.datasets`` keeps its downloads: ``$KERAS_HOME/datasets``,
       or ``~/.keras/datasets`` (``/tmp/.keras/datasets`` where Keras would fall back to it).
       MNIST is read from Keras's ``mnist.npz`` there, Fashion-MNIST from its
       ``fashion-mnist/`` folder of gzip files.
    4. Fashion-MNIST only: ``/usr/share/datasets/fashion-mnist``, where Debian's
       ``dataset-fashion-mnist`` package installs the files.

    Only when none of these has the files, and ``download_if_missing`` is True, does it download
    them through Keras (into Keras's cache, so the next call finds them there).  Nothing is
    downloaded by default.

    Parameters
    ----------
    kind : {"mnist", "fashion"}, default="mnist"
        Handwritten digits (LeCun et al.) or Zalando's Fashion-MNIST.
    split : {"train", "test"}, default="train"
        The 60,000 training or the 10,000 test images.
    data_home : str or path-like, default=None
        Folder searched first (``~`` is expanded).
    download_if_missing : bool, default=False
        If True, download the files through Keras when no place searched has them; if False,
        raise :class:`DataNotFoundError` instead.
    as_float : bool, default=False
        If True, return the images as float32 scaled to [0, 1] (divided by 255) instead of the
        raw uint8 values 0..255. Labels stay uint8.

    Returns
    -------
    images : ndarray of uint8 (float32 if ``as_float``), shape (n, 28, 28)
        n is 60,000 for ``"train"`` and 10,000 for ``"test"`` with the official files.
    labels : ndarray of uint8, shape (n,)
        The class 0..9 of each image.

    Raises
    ------
    ValueError
        ``kind`` or ``split`` is not one of the values above; or a file found is corrupt:
        bad gzip data, a wrong IDX magic number, a truncated header or payload, trailing bytes,
        images that are not 28×28, labels outside 0..9, images and labels of different counts,
        or the other dataset's official labels (MNIST and Fashion-MNIST share file names).
        The message names the file. A corrupt file is never skipped in favour of a later place.
    DataNotFoundError
        No place searched has the files and they could not be downloaded (or
        ``download_if_missing`` is False). A :class:`FileNotFoundError`; its message lists
        every place searched and how to provide the files.

    See Also
    --------
    load_digits_images : The embedded 8×8 digits, always offline.
    extract_class : The images of one class.

    Notes
    -----
    The return value follows ``keras.datasets.mnist.load_data``: raw uint8 images without a
    channel axis, one split per call.

    Examples
    --------
    >>> from gan_estimators.datasets import extract_class, load_mnist
    >>> X, y = load_mnist("fashion", "test", data_home="data")  # doctest: +SKIP
    >>> X.shape, X.dtype, y.shape  # doctest: +SKIP
    ((10000, 28, 28), dtype('uint8'), (10000,))
    >>> sneakers = extract_class(X, y, 7)  # doctest: +SKIP
    """
    if kind not in _KIND_NAMES:
        raise ValueError(f"kind must be one of {sorted(_KIND_NAMES)}, got {kind!r}")
    if split not in _SPLIT_PREFIXES:
        raise ValueError(f"split must be one of {sorted(_SPLIT_PREFIXES)}, got {split!r}")

    images_names, labels_names = _idx_names(split)
    searched = []
    found = None
    for description, place, layout in _candidate_places(kind, data_home):
        if layout is None:
            searched.append(description)
        elif layout == "npz":
            if os.path.isfile(place):
                found = _load_keras_npz(place, split)
                break
            searched.append(f"{description}: {place} (no such file)")
        elif not os.path.isdir(place):
            searched.append(f"{description}: {place}{os.sep} (no such folder)")
        else:
            images_path = _find_in_folder(place, images_names)
            labels_path = _find_in_folder(place, labels_names)
            if images_path and labels_path:
                found = _load_idx_pair(images_path, labels_path, kind)
                break
            if images_path or labels_path:
                missing = labels_names[1] if images_path else images_names[1]
                present = os.path.basename(images_path or labels_path)
                outcome = f"has {present} but no {missing}[.gz]"
            else:
                outcome = f"no {images_names[1]}[.gz] or {labels_names[1]}[.gz]"
            searched.append(f"{description}: {place}{os.sep} ({outcome})")

    if found is None:
        if not download_if_missing:
            note = "off (pass download_if_missing=True to download)"
            raise DataNotFoundError(_not_found_message(kind, split, searched, note), searched)
        try:
            splits = _download_with_keras(kind)
        except Exception as exc:  # Keras raises a bare Exception when a URL fails
            note = f"failed ({type(exc).__name__}: {exc})"
            raise DataNotFoundError(
                _not_found_message(kind, split, searched, note), searched
            ) from exc
        images, labels = (np.asarray(a) for a in splits[0 if split == "train" else 1])
        source = f"Keras download of {_KIND_NAMES[kind]} {split}"
        _check_pair(images, labels, source, source)
        found = images, labels

    images, labels = found
    if as_float:
        images = images.astype(np.float32) / np.float32(255.0)
    return images, labels


# One class at a time


def extract_class(X, y, label):
    """Return the samples of ``X`` whose label in ``y`` equals ``label``.

    The reference workflow trains one GAN per class; this selects that class's training data.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Images (any trailing shape) or feature rows.
    y : array-like of shape (n_samples,)
        The label of each sample.
    label : scalar
        The class to keep.

    Returns
    -------
    ndarray of shape (n_label, ...)
        A new array with the matching samples of ``X``, in their original order and dtype.

    Raises
    ------
    ValueError
        ``y`` is not 1-D, ``X`` and ``y`` have different lengths, ``label`` is not a scalar, or
        ``label`` does not occur in ``y`` (the message lists the labels that do).

    Examples
    --------
    >>> from gan_estimators.datasets import extract_class, load_digits_images
    >>> X, y = load_digits_images(return_X_y=True)
    >>> extract_class(X, y, 3).shape
    (183, 8, 8, 1)
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per sample), got shape {y.shape}")
    if X.ndim == 0 or len(X) != len(y):
        n_x = len(X) if X.ndim else "a scalar"
        raise ValueError(f"X and y must have the same length, got {n_x} samples and {len(y)}")
    if np.ndim(label) != 0:
        raise ValueError(f"label must be a single class label, got {label!r}")
    mask = y == label
    if not np.any(mask):
        present = np.unique(y)
        shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in present[:20])
        more = f", ... ({len(present)} in all)" if len(present) > 20 else ""
        raise ValueError(f"label {label!r} does not occur in y; labels present: [{shown}{more}]")
    return X[mask]
