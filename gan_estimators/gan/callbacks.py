"""Callbacks: Python code run between the compiled training iterations of a GAN estimator.

``callbacks=[...]`` takes plain callables ``f(estimator, logs)``, run after every generator
iteration, and objects with any of the methods of :data:`~._config.CALLBACK_HOOKS`:

- ``on_fit_begin(estimator)``: before the first iteration of a ``fit`` / ``partial_fit``
  call, the networks built;
- ``on_iteration_end(estimator, logs)``: after every generator iteration; ``logs`` holds the
  iteration's ``step``, its losses and gradient norms (the keys of
  :data:`~gan_estimators.quality.history.STEP_KEYS`), ``elapsed`` (seconds of training, as
  in ``history_``) and, at iterations where the held-out score was computed, ``val_score``;
- ``on_fit_end(estimator)``: once training is over, the best weights restored by early
  stopping and the sample-quality state (``feature_map_``, ``diagnostics_``) fitted.

Returning ``True`` from ``on_fit_begin`` or ``on_iteration_end``, or raising
:class:`StopTraining` in them, stops training after the current iteration (before the first
one, for ``on_fit_begin``); the fit then ends normally.  The compiled step never sees a
callback: they run in the Python loop around it, so they cannot cause a retrace.

Ready-made: :class:`SampleGrid` (PNG grids of samples), :class:`Checkpoint` (saved folders)
and :class:`CSVLogger` (a CSV file of the logs); each writes its files under a temporary name
and renames them into place.  This module imports neither TensorFlow nor Keras.
"""

import csv
import io
import math
import os

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from gan_estimators._files import replaced_atomically
from gan_estimators.gan._config import CALLBACK_HOOKS
from gan_estimators.quality.history import STEP_KEYS

__all__ = ["CSVLogger", "Callback", "Checkpoint", "SampleGrid", "StopTraining"]


class StopTraining(Exception):
    """Raised by a callback to stop training after the current iteration."""


class Callback:
    """Base class of callbacks: every hook does nothing.

    Subclasses override the hooks they need; see :mod:`gan_estimators.gan.callbacks`.
    """

    def on_fit_begin(self, estimator):
        """Called before the first iteration of a fit call; True stops training."""

    def on_iteration_end(self, estimator, logs):
        """Called after every generator iteration with its ``logs``; True stops training."""

    def on_fit_end(self, estimator):
        """Called once training is over and the estimator is complete."""


class CallbackList:
    """The callbacks of one fit, their hooks looked up once.

    Parameters
    ----------
    callbacks : list or tuple
        Callables ``f(estimator, logs)`` or objects with any of the hooks.

    Raises
    ------
    TypeError
        Naming ``callbacks[i]``, for an item that is neither callable nor has a hook.
    """

    def __init__(self, callbacks):
        self.hooks = {name: [] for name in CALLBACK_HOOKS}
        for i, callback in enumerate(callbacks):
            found = {name: getattr(callback, name, None) for name in CALLBACK_HOOKS}
            found = {name: hook for name, hook in found.items() if callable(hook)}
            if not found:
                if not callable(callback):
                    raise TypeError(
                        f"callbacks[{i}] must be a callable f(estimator, logs) or an object "
                        f"with any of the methods {', '.join(CALLBACK_HOOKS)}; got "
                        f"{callback!r}."
                    )
                found = {"on_iteration_end": callback}
            for name, hook in found.items():
                self.hooks[name].append(hook)

    @staticmethod
    def _stops(hooks, *args):
        """Call every hook with ``args``; whether one asked to stop."""
        stop = False
        for hook in hooks:
            try:
                result = hook(*args)
            except StopTraining:
                result = True
            stop = stop or (isinstance(result, bool | np.bool_) and bool(result))
        return stop

    def fit_begin(self, estimator):
        """Run the ``on_fit_begin`` hooks; whether one stopped training."""
        return self._stops(self.hooks["on_fit_begin"], estimator)

    def iteration_end(self, estimator, logs):
        """Run the ``on_iteration_end`` hooks; whether one stopped training."""
        return self._stops(self.hooks["on_iteration_end"], estimator, logs)

    def fit_end(self, estimator):
        """Run the ``on_fit_end`` hooks (training is over: a stop request changes nothing)."""
        self._stops(self.hooks["on_fit_end"], estimator)


def _positive_int(callback, name):
    """``callback``'s attribute ``name`` as an int.

    Raises
    ------
    InvalidParameterError
        Naming the callback's class and ``name``, unless the value is an integer >= 1.
    """
    value = getattr(callback, name)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(callback).__name__} must be an int in the "
            f"range [1, inf); got {value!r}."
        )
    return int(value)


class SampleGrid(Callback):
    """Write a PNG grid of samples every ``every`` generator iterations, and at the end.

    The files are ``samples_<step>.png`` (the step zero-padded to 6 digits) in the folder
    ``path``, created when training begins.  Every grid shows the samples of the same latent
    vectors (drawn with ``random_state``), between the training data's minimum and maximum, so
    that the grids of one run show how the same samples evolve.  Needs matplotlib (the
    ``plot`` extra) and image data, or tabular data whose features form square grey images.

    Parameters
    ----------
    path : str or os.PathLike
        Folder of the PNG files.
    every : int, default=100
        Generator iterations between two grids: a grid is written after each step that is a
        multiple of ``every``, and after the last step of each fit call.
    n_samples : int, default=64
        Samples per grid.
    random_state : int, default=0
        Seed of the latent vectors.
    """

    def __init__(self, path, every=100, *, n_samples=64, random_state=0):
        self.path = path
        self.every = every
        self.n_samples = n_samples
        self.random_state = random_state
        self._check()

    def _check(self):
        self._every = _positive_int(self, "every")
        _positive_int(self, "n_samples")

    def on_fit_begin(self, estimator):
        self._check()  # again: the attributes may have been changed since
        if not hasattr(estimator, "image_shape_"):
            side = math.isqrt(int(estimator.n_features_in_))
            if side * side != estimator.n_features_in_:
                raise ValueError(
                    "SampleGrid draws images: fit it on images, or on tables whose features "
                    f"form square images; got {estimator.n_features_in_} features."
                )
        from gan_estimators import plotting  # noqa: F401 - fail now, not after training

        os.makedirs(self.path, exist_ok=True)
        self._written = None

    def on_iteration_end(self, estimator, logs):
        if logs["step"] % self._every == 0:
            self.write(estimator, logs["step"])

    def on_fit_end(self, estimator):
        if self._written != estimator.n_steps_:
            self.write(estimator, estimator.n_steps_)

    def write(self, estimator, step):
        """Write the grid of ``estimator``'s samples as the one of ``step``; returns its path."""
        from matplotlib.figure import Figure

        from gan_estimators.plotting import plot_samples

        value_range = (float(np.min(estimator.data_min_)), float(np.max(estimator.data_max_)))
        figure = Figure(figsize=(4, 4))
        plot_samples(
            estimator.sample(int(self.n_samples), random_state=self.random_state),
            n=int(self.n_samples),
            value_range=value_range,
            title=f"step {step}",
            ax=figure.add_subplot(),
        )
        path = os.path.join(os.fspath(self.path), f"samples_{step:06d}.png")
        with replaced_atomically(path, "wb") as handle:
            figure.savefig(handle, format="png", dpi=100)
        self._written = step
        return path


class Checkpoint(Callback):
    """Save the estimator every ``every`` generator iterations, and at the end of each fit.

    Each save goes through ``estimator.save(path)``: written beside the destination and
    renamed into place, so ``path`` always holds a complete model.  ``path`` may contain
    ``{step}`` (``"checkpoints/step_{step}"``) to keep one folder per save; otherwise each
    save replaces the previous one.  The checkpoints written during training hold the
    sample-quality state of the previous fit, or none (``score`` of a loaded checkpoint then
    fits the feature map on the data it scores) unless held-out scoring fitted it; the last
    one, written after training, is the complete estimator.

    Parameters
    ----------
    path : str or os.PathLike
        Destination folder (or pattern with ``{step}``).
    every : int, default=100
        Generator iterations between two saves: after each step that is a multiple of
        ``every``.
    """

    def __init__(self, path, every=100):
        self.path = path
        self.every = every
        self._every = _positive_int(self, "every")

    def on_fit_begin(self, estimator):
        self._every = _positive_int(self, "every")

    def on_iteration_end(self, estimator, logs):
        if logs["step"] % self._every == 0:
            self.save(estimator, logs["step"])

    def on_fit_end(self, estimator):
        self.save(estimator, estimator.n_steps_)

    def save(self, estimator, step):
        """Save ``estimator`` as the checkpoint of ``step``; returns the folder."""
        path = os.fspath(self.path)
        path = path.format(step=step) if "{step" in path else path
        estimator.save(path)
        return path


class CSVLogger(Callback):
    """Write the logs of every generator iteration to a CSV file.

    Columns: ``step``, the losses and gradient norms of ``history_``, ``elapsed`` and
    ``val_score`` (empty where it was not computed).  Rows are collected in memory and the
    whole file is rewritten -- under a temporary name, then renamed -- every ``every``
    iterations and at the end of each fit call, so the file is always complete.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file; its folder must exist.
    every : int, default=10
        Generator iterations between two writes.
    append : bool, default=False
        Whether a fit call continues the rows already in ``path`` (as written by a
        CSVLogger) instead of starting a new file.
    """

    #: The columns, in order.
    COLUMNS = ("step", *STEP_KEYS, "elapsed", "val_score")

    def __init__(self, path, every=10, *, append=False):
        self.path = path
        self.every = every
        self.append = append
        self._every = _positive_int(self, "every")

    def on_fit_begin(self, estimator):
        self._every = _positive_int(self, "every")
        self._previous = ""
        if self.append and os.path.exists(self.path):
            with open(self.path, encoding="utf-8", newline="") as handle:
                lines = handle.read().splitlines(keepends=True)
            self._previous = "".join(lines[1:])
        self._rows = []
        self._pending = 0

    def on_iteration_end(self, estimator, logs):
        self._rows.append([logs.get(name, "") for name in self.COLUMNS])
        self._pending += 1
        if self._pending >= self._every:
            self.write()

    def on_fit_end(self, estimator):
        self.write()

    def write(self):
        """Rewrite the file with every row so far."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(self.COLUMNS)
        writer.writerows(self._rows)
        header, _, rows = text.getvalue().partition("\n")
        with replaced_atomically(self.path, "w", encoding="utf-8", newline="") as handle:
            handle.write(header + "\n" + self._previous + rows)
        self._pending = 0
