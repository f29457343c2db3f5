"""Files the commands read and write: training data, folders, JSON, CSV, ``.npy`` and PNG.

Every file is written under a temporary name in its destination folder and renamed into
place (:func:`replaced_atomically`): an interrupted command leaves either the previous file or
the complete new one, never a truncated file.

NumPy, matplotlib and the datasets module are imported inside the functions that need them.
"""

import contextlib
import os

from gan_estimators import _files
from gan_estimators.cli.console import UserError

#: Data sources every command accepts (``fit`` and ``search`` also take a ``.npy`` file).
DATA_SOURCES = ("digits", "mnist", "fashion")

#: Resolution (dots per inch) of the figures the commands write.
FIGURE_DPI = 100

_FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def prepare_folder(path, what):
    """Create the folder ``path`` (``what`` names it in errors) unless it exists; raise a
    :class:`UserError` unless files can be written in it."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"{what} {path!r} exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {what} {path!r}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"cannot write in {what} {path!r}: permission denied")


def check_parent(path, what):
    """Raise a :class:`UserError` unless the file ``path`` can be written: the folder that
    would hold it exists and is writable, and ``path`` is not a folder."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UserError(f"cannot write {what} {path!r}: folder {parent!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {what} {path!r}: folder {parent!r} is not writable")
    if os.path.isdir(path):
        raise UserError(f"cannot write {what} {path!r}: it is a folder")


@contextlib.contextmanager
def replaced_atomically(path, mode="w", **open_options):
    """:func:`gan_estimators._files.replaced_atomically`, whose OSError (a full disk, a folder
    that vanished) becomes a :class:`UserError` naming ``path``."""
    try:
        with _files.replaced_atomically(path, mode, **open_options) as handle:
            yield handle
    except OSError as exc:
        raise UserError(f"cannot write {path!r}: {exc.strerror or exc}") from None


def _read_npy(path, what):
    """The one array in the ``.npy`` file ``path``; errors start with ``what``."""
    import numpy as np

    if not os.path.isfile(path):
        raise UserError(f"{what}: no such file")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{what}: not a readable .npy array ({exc})") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise UserError(f"{what}: holds several arrays (.npz); save one array with numpy.save")
    return array


def _load_npy(path):
    import numpy as np

    X = _read_npy(path, path)
    if X.dtype.kind not in "biuf":
        raise UserError(f"{path}: expected numbers, got an array of dtype {X.dtype}")
    if X.ndim not in (2, 3, 4):
        raise UserError(
            f"{path}: expected shape (n, features), (n, height, width) or "
            f"(n, height, width, channels); got shape {X.shape}"
        )
    if X.shape[0] < 2 or 0 in X.shape:
        raise UserError(f"{path}: expected at least 2 non-empty samples; got shape {X.shape}")
    X = X.astype(np.float32)
    if not np.all(np.isfinite(X)):
        raise UserError(f"{path}: contains NaN or infinite values")
    return X


def _load_dataset(source, *, data_home, download):
    """A dataset's images (values in [0, 1]), labels and name; see :func:`load_data`."""
    from gan_estimators import datasets

    if source == "digits":
        X, y = datasets.load_digits_images(return_X_y=True)
        return X, y, "digits (scikit-learn's embedded 8x8 digits)"
    if data_home is not None and not os.path.isdir(os.path.expanduser(data_home)):
        raise UserError(f"--data-home {data_home!r}: no such folder")
    try:
        X, y = datasets.load_mnist(
            source,
            "train",
            data_home=data_home,
            download_if_missing=bool(download),
            as_float=True,
        )
    except datasets.DataNotFoundError as exc:
        first = str(exc).splitlines()[0].replace(" Looked in, in this order:", "")
        if download:
            fix = "The download failed: check the connection, or pass --data-home DIR"
        else:
            fix = "Pass --data-home DIR"
        offer = " or pass --download to fetch them through Keras" if download is False else ""
        raise UserError(
            f"{first} {fix} (a folder with the IDX files) or set {datasets.ENV_VAR}{offer}."
        ) from None
    except ValueError as exc:  # a corrupt file: the message names it
        raise UserError(str(exc).splitlines()[0]) from None
    return X, y, {"mnist": "MNIST", "fashion": "Fashion-MNIST"}[source] + " (train split)"


def _images_text(X):
    return f"{X.shape[0]} images of " + "x".join(str(s) for s in X.shape[1:])


def load_data(source, *, data_home=None, label=None, download=None):
    """Load training data for a command: a dataset (optionally one class) or a ``.npy`` file.

    Parameters
    ----------
    source : {"digits", "mnist", "fashion"} or str
        A dataset name or the path of a ``.npy`` file.
    data_home : str or None, default=None
        Folder holding the MNIST / Fashion-MNIST files.
    label : int or None, default=None
        Keep only this class (datasets only).
    download : bool or None, default=None
        Whether MNIST / Fashion-MNIST files found nowhere are downloaded through Keras
        (``--download``).  None, for a command without that flag, does not download either,
        and the error does not suggest the flag.

    Returns
    -------
    X : ndarray of float32
        Images with values in [0, 1] for the datasets; the array as stored for ``.npy``.
    description : str
        One line describing the data.

    Raises
    ------
    UserError
        Missing or unreadable files, a wrong shape, or a class given for a ``.npy`` file.
    """
    if source not in DATA_SOURCES:
        if label is not None:
            raise UserError("--class selects a class of digits, mnist or fashion, not of a file")
        X = _load_npy(source)
        return X, f"{source}: {X.shape[0]} samples of shape {X.shape[1:]}"
    from gan_estimators import datasets

    X, y, name = _load_dataset(source, data_home=data_home, download=download)
    if label is not None:
        X = datasets.extract_class(X, y, label)
        label_name = f" '{_FASHION_CLASSES[label]}'" if source == "fashion" else ""
        name += f", class {label}{label_name}"
    return X, f"{name}: {_images_text(X)}"


def _load_labels(path, n_samples):
    """The class labels in the ``.npy`` file ``path``, one per sample of the training data."""
    from gan_estimators.gan.labels import check_labels

    y = _read_npy(path, f"--labels {path}")
    try:
        return check_labels(y, n_samples, name=f"--labels {path}")
    except ValueError as exc:
        raise UserError(str(exc)) from None


def load_labelled_data(source, *, labels=None, data_home=None, download=None):
    """Load training data and its class labels, for a conditional model.

    Parameters
    ----------
    source : {"digits", "mnist", "fashion"} or str
        A dataset (every class, with its labels) or the path of a ``.npy`` file.
    labels : str or None, default=None
        The ``.npy`` file of the labels of a ``.npy`` ``source``: a 1-D array of integers,
        floats, booleans or strings, one per sample (required for a file, refused for a
        dataset).
    data_home, download
        As for :func:`load_data`.

    Returns
    -------
    X : ndarray of float32
        As :func:`load_data` returns it.
    y : ndarray
        The label of each sample (at least 2 classes).
    description : str
        One line describing the data and its classes.

    Raises
    ------
    UserError
        As :func:`load_data`; labels missing, unreadable, of another length, of an
        unsupported type, or of fewer than 2 classes.
    """
    from gan_estimators.gan.labels import fit_classes

    if source in DATA_SOURCES:
        if labels is not None:
            raise UserError(f"--labels is for a .npy --data; {source} has its own labels")
        X, y, name = _load_dataset(source, data_home=data_home, download=download)
        description = f"{name}: {_images_text(X)}"
    else:
        if labels is None:
            raise UserError("--conditional with a .npy --data needs --labels FILE.npy")
        X = _load_npy(source)
        y = _load_labels(labels, len(X))
        description = f"{source}: {X.shape[0]} samples of shape {X.shape[1:]}"
    try:
        classes, _ = fit_classes(y, name="the labels")
    except ValueError as exc:
        raise UserError(str(exc)) from None
    shown = ", ".join(str(c) for c in classes.tolist()[:12])
    more = f", ... ({len(classes)} in all)" if len(classes) > 12 else ""
    return X, y, f"{description}, {len(classes)} classes ({shown}{more})"


def split_holdout(X, fraction, random_state):
    """Split ``X`` into (training, held-out) rows, ``fraction`` held out, both in order."""
    import numpy as np

    n = len(X)
    n_holdout = round(n * fraction)
    if n_holdout < 2 or n - n_holdout < 4:
        raise UserError(f"too few samples ({n}) to hold out {fraction:.0%} for scoring")
    order = np.random.default_rng(random_state).permutation(n)
    return X[np.sort(order[n_holdout:])], X[np.sort(order[:n_holdout])]


def _plain(value):
    """``value`` with NumPy scalars, arrays and non-finite floats made JSON-friendly."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def write_json(path, document):
    """Write ``document`` as indented JSON; non-finite numbers become ``null``."""
    import json

    with replaced_atomically(path, encoding="utf-8") as handle:
        json.dump(_plain(document), handle, indent=2, allow_nan=False)
        handle.write("\n")


def write_cv_results(results, path):
    """Write a search's ``cv_results_`` as CSV, one row per configuration.

    Masked entries (a parameter a configuration does not set) are empty cells; the ``params``
    column holds JSON.  pandas reads the file with ``pandas.read_csv(path)``.

    Parameters
    ----------
    results : dict
        ``cv_results_`` of a fitted search.
    path : str
        Destination file.
    """
    import csv
    import json

    import numpy as np

    keys = list(results)
    n_rows = len(results["params"])
    with replaced_atomically(path, newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(keys)
        for i in range(n_rows):
            row = []
            for key in keys:
                column = results[key]
                if np.ma.isMaskedArray(column) and np.ma.getmaskarray(column)[i]:
                    row.append("")
                    continue
                value = column[i]
                if isinstance(value, dict):
                    row.append(json.dumps(_plain(value), sort_keys=True))
                else:
                    value = _plain(value)
                    row.append("nan" if value is None else value)
            writer.writerow(row)


def png_size(path):
    """(width, height) of a PNG file, read from its header.

    Parameters
    ----------
    path : str
        A PNG file.

    Returns
    -------
    tuple of int
    """
    import struct

    with open(path, "rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    return struct.unpack(">II", head[16:24])


def require_plotting():
    """:mod:`gan_estimators.plotting` on matplotlib's file-only backend.

    Raises
    ------
    UserError
        matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never needs a display
        from gan_estimators import plotting
    except ImportError as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    return plotting


def save_figure(fig, path, size=None):
    """Save ``fig`` at :data:`FIGURE_DPI` (``size``: (width, height) in pixels), then close it."""
    import matplotlib.pyplot as plt

    if size is not None:
        width, height = size
        fig.set_size_inches(width / FIGURE_DPI, height / FIGURE_DPI)
    try:
        image_format = os.path.splitext(path)[1][1:].lower() or "png"
        with replaced_atomically(path, "wb") as handle:
            fig.savefig(handle, dpi=FIGURE_DPI, format=image_format)
    finally:
        plt.close(fig)


def write_npy(path, array):
    """Write ``array`` to the ``.npy`` file ``path`` (``.npy`` appended where missing, as
    :func:`numpy.save` does); returns the path written."""
    import numpy as np

    if not str(path).endswith(".npy"):
        path = f"{path}.npy"
    with replaced_atomically(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
    return path


def write_labels(samples_path, labels):
    """Write the samples' ``labels`` beside the ``.npy`` file ``samples_path``, to
    ``<name>_labels.npy`` (strings as fixed-width text, readable without pickle); returns
    the path written."""
    import numpy as np

    labels = np.asarray(labels)
    if labels.dtype.kind == "O":
        labels = labels.astype(str)
    return write_npy(str(samples_path)[: -len(".npy")] + "_labels.npy", labels)
