"""What the commands print: user errors, progress messages, and TensorFlow kept quiet."""

import contextlib
import os
import sys


class UserError(Exception):
    """A mistake of the user's (bad file, bad value): reported in one line, no traceback."""


def say(args, message=""):
    """Print ``message`` unless the command was given ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(message, flush=True)


def native_logs_wanted():
    """Whether the user asked for TensorFlow's C++ log lines (``TF_CPP_MIN_LOG_LEVEL`` < 3)."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3") != "3"


@contextlib.contextmanager
def native_stderr_silenced(enabled=True):
    """Point file descriptor 2 at the null device; Python's ``sys.stderr`` keeps the terminal.

    TensorFlow's C++ start-up lines (CUDA probing, oneDNN notices) are written to descriptor 2
    before its logging honours ``TF_CPP_MIN_LOG_LEVEL``, by this process when it imports
    TensorFlow and by worker processes (which inherit the descriptor) when they do.  Progress
    bars, warnings and errors go through ``sys.stderr`` and stay visible.
    """
    try:
        original_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. a captured stream: nothing to do
        original_fd = None
    if not enabled or original_fd != 2:
        yield
        return
    sys.stderr.flush()
    python_stderr = sys.stderr
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        sys.stderr = open(  # closed in finally
            os.dup(saved),
            "w",
            buffering=1,
            encoding=python_stderr.encoding,
            errors="backslashreplace",
        )
        yield
    finally:
        if sys.stderr is not python_stderr:
            sys.stderr.flush()
            sys.stderr.close()
            sys.stderr = python_stderr
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_estimators():
    """Import :class:`GANEstimator` and :class:`WGANEstimator` -- and TensorFlow -- without
    TensorFlow's start-up noise.

    Returns
    -------
    tuple of type
        ``(GANEstimator, WGANEstimator)``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with native_stderr_silenced(enabled=not native_logs_wanted()):
        from gan_estimators import GANEstimator, WGANEstimator
    return GANEstimator, WGANEstimator
