"""A saved model's folder on disk: where it may be written, how it is replaced, its manifest.

A save writes every file into a staging folder beside the destination and then renames the
staging folder into place (:func:`staged_folder`), so the destination holds either the
previous model or the new one as a whole, never a mix, and no file of a previous model
survives.  A destination that also holds other files (or that cannot be renamed: a link, a
read-only parent) gets the model's files one by one instead, its manifest removed first and
written last, so until the save completes it does not load.  The last file written,
:data:`MANIFEST`, lists every model file with its size and SHA-256; :func:`verify_manifest`
checks a folder against it before the networks and arrays are read.

This module imports neither TensorFlow nor Keras: the command line checks an output folder
with :func:`check_destination` before it trains.
"""

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import tempfile
import threading

from gan_estimators.gan.errors import ModelFolderError

#: The file listing the others, written last.
MANIFEST = "manifest.json"
#: Every file name a saved model folder can hold; ``save`` replaces or removes only these.
MODEL_FILES = frozenset(
    {
        "estimator.json",
        "arrays.npz",
        "generator.keras",
        "critic.keras",
        "generator_ema.keras",
        MANIFEST,
    }
)
#: Where the model is written in place: among other files of the user's that are kept.
IN_PLACE = "in place"
#: Where the model is staged beside the destination and renamed into place as a whole.
BESIDE = "beside"

_STAGING_PREFIX = ".saving-"
_READ_CHUNK = 1 << 20


def _entries(path):
    """Names in the folder ``path``, leaving out staging folders of interrupted saves."""
    return sorted(name for name in os.listdir(path) if not name.startswith(_STAGING_PREFIX))


def _writable(path):
    """Whether a folder can be created in ``path``: tried, because permission bits do not tell
    for root, read-only mounts or special file systems."""
    if not os.path.isdir(path):
        return False
    try:
        os.rmdir(tempfile.mkdtemp(dir=path, prefix=".gan-estimators-probe-"))
    except OSError:
        return False
    return True


def _nearest_existing(path):
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def check_destination(path, *, overwrite=False):
    """Check that a model can be saved to the folder ``path``; return how it will be written.

    Parameters
    ----------
    path : str or os.PathLike
        The destination folder (missing folders are created by the save).
    overwrite : bool, default=False
        Whether a non-empty folder that holds no saved model may receive one (its other
        files are kept).

    Returns
    -------
    {"beside", "in place"}
        :data:`BESIDE` when the folder is missing, empty or holds only a saved model's files
        (it is replaced as a whole); :data:`IN_PLACE` when it also holds other files, which
        stay, or is a link or in a folder that cannot be written.

    Raises
    ------
    ModelFolderError
        ``path`` is a file, cannot be created or written, or is a non-empty folder that
        holds no saved model and ``overwrite`` is False.
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ModelFolderError(path, "exists and is not a folder")
    if not os.path.isdir(path):
        existing = _nearest_existing(parent)
        if not _writable(existing):
            what = "not a folder" if not os.path.isdir(existing) else "not writable"
            raise ModelFolderError(path, f"cannot be created: {existing} is {what}")
        return BESIDE
    entries = _entries(path)
    foreign = [name for name in entries if name not in MODEL_FILES]
    if entries and "estimator.json" not in entries and not overwrite:
        raise ModelFolderError(
            path,
            f"is not empty and holds no saved model ({', '.join(entries[:3])}"
            f"{', ...' if len(entries) > 3 else ''}); pass overwrite=True to add the model's "
            "files to it (the other files are kept) or choose another folder",
        )
    if foreign or os.path.islink(path) or not _writable(parent):
        if not _writable(path):
            raise ModelFolderError(path, "is not writable")
        return IN_PLACE
    return BESIDE


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold back Ctrl-C (SIGINT) until the block is done; raise it then.

    Only the main thread receives signals; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt


def _new_folder(parent, prefix):
    """A new, empty folder in ``parent`` named ``prefix`` + random characters (umask mode)."""
    while True:
        candidate = os.path.join(parent, prefix + secrets.token_hex(6))
        try:
            os.mkdir(candidate)
        except FileExistsError:
            continue
        return candidate


def _replace_beside(staging, path):
    if not os.path.isdir(path):
        os.rename(staging, path)
        return
    previous = _new_folder(os.path.dirname(path), f".{os.path.basename(path)}.replaced-")
    os.rmdir(previous)
    with _interrupts_deferred():
        os.rename(path, previous)
        try:
            os.rename(staging, path)
        except BaseException:
            os.rename(previous, path)
            raise
    shutil.rmtree(previous, ignore_errors=True)


def _replace_in_place(staging, path):
    written = set(os.listdir(staging))
    # Without the manifest, and with the new estimator.json first, the folder is refused by
    # load until the new manifest completes it.
    order = ["estimator.json", *sorted(written - {"estimator.json", MANIFEST}), MANIFEST]
    with _interrupts_deferred():
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(path, MANIFEST))
        for name in order[:-1]:
            os.replace(os.path.join(staging, name), os.path.join(path, name))
        for name in MODEL_FILES - written:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(path, name))
        os.replace(os.path.join(staging, MANIFEST), os.path.join(path, MANIFEST))
    os.rmdir(staging)


@contextlib.contextmanager
def staged_folder(path, *, overwrite=False):
    """Yield an empty staging folder; on success, it becomes the model folder ``path``.

    See :func:`check_destination` for where the staging folder goes.  If the block raises
    (or is interrupted), the staging folder is removed and ``path`` is left as it was; once
    the block is done, the files are moved with Ctrl-C held back.
    Missing parent folders of ``path`` are created.
    """
    path = os.path.abspath(os.fspath(path))
    mode = check_destination(path, overwrite=overwrite)
    try:
        if mode == BESIDE:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            prefix = f".{os.path.basename(path)}{_STAGING_PREFIX}"
            staging = _new_folder(os.path.dirname(path), prefix)
        else:
            staging = _new_folder(path, _STAGING_PREFIX)
    except OSError as error:
        raise ModelFolderError(path, f"cannot be written: {error.strerror or error}") from error
    try:
        yield staging
        (_replace_beside if mode == BESIDE else _replace_in_place)(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# ------------------------------------------------------------------------------ manifest


def _digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder, format_name, version):
    """Write :data:`MANIFEST` listing every other model file of ``folder``."""
    files = {
        name: {
            "size": os.path.getsize(os.path.join(folder, name)),
            "sha256": _digest(os.path.join(folder, name)),
        }
        for name in sorted(MODEL_FILES - {MANIFEST})
        if os.path.isfile(os.path.join(folder, name))
    }
    document = {"format": format_name, "version": version, "files": files}
    with open(os.path.join(folder, MANIFEST), "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)


def read_json(path):
    """The JSON document in the file ``path``; ModelFolderError naming it when unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise ModelFolderError(path, "missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFolderError(path, f"not valid JSON ({exc})") from None


def _manifest_entries(folder, document):
    path = os.path.join(folder, MANIFEST)
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, dict) or not all(
        name in MODEL_FILES
        and isinstance(entry, dict)
        and type(entry.get("size")) is int
        and isinstance(entry.get("sha256"), str)
        for name, entry in files.items()
    ):
        raise ModelFolderError(
            path, "not a model manifest (expected files: {name: {size, sha256}})"
        )
    return files


def verify_manifest(folder):
    """Check the files of ``folder`` against its :data:`MANIFEST`.

    Raises
    ------
    ModelFolderError
        Naming the first file that is missing, not listed (a model file left from another
        model), of another size or with another checksum than the manifest records.
    """
    files = _manifest_entries(folder, read_json(os.path.join(folder, MANIFEST)))
    present = set(_entries(folder)) & MODEL_FILES - {MANIFEST}
    for name in sorted(present - set(files)):
        raise ModelFolderError(
            os.path.join(folder, name),
            f"not part of the saved model ({MANIFEST} does not list it); remove it",
        )
    for name, entry in sorted(files.items()):
        file_path = os.path.join(folder, name)
        if name not in present:
            raise ModelFolderError(file_path, f"missing ({MANIFEST} lists it)")
        size = os.path.getsize(file_path)
        if size != entry["size"]:
            raise ModelFolderError(
                file_path,
                f"{size} bytes where {MANIFEST} records {entry['size']} (truncated or altered)",
            )
        if _digest(file_path) != entry["sha256"]:
            raise ModelFolderError(
                file_path, f"its SHA-256 differs from the one {MANIFEST} records (altered)"
            )
