"""Files written whole or not at all: a temporary name beside the destination, then a rename.

An interrupted write leaves either the previous file or none, never a truncated one, so a
reader (an image viewer refreshing a sample grid, a plot of a CSV log) never sees half a file.
"""

import contextlib
import os
import secrets


@contextlib.contextmanager
def replaced_atomically(path, mode="w", **open_options):
    """Yield a file opened on a temporary name beside ``path``; rename it to ``path`` when
    the block ends, or remove it if the block raises.

    Parameters
    ----------
    path : str or os.PathLike
        The destination; its folder must exist.
    mode : {"w", "wb"}, default="w"
        Text or binary.
    **open_options
        Passed to :func:`open` (``encoding``, ``newline``).
    """
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    temporary = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        # "x" creates the file with the usual permissions (the umask's), unlike mkstemp.
        with open(temporary, mode.replace("w", "x"), **open_options) as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
