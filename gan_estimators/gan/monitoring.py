"""Watching a GAN while it trains: held-out scores, early stopping and callbacks.

A :class:`TrainingMonitor` runs between the compiled iterations of a fit (the training loop
of :mod:`.trainer` calls it after each one) when the fit has held-out data or callbacks;
without them the loop runs alone.  It computes the held-out score -- the estimator's own
``score``, in the feature space that ``fit`` ends with -- at the cadence of ``eval_every``
(:func:`evaluation_cadence`), records it in ``history_`` under
:data:`~gan_estimators.quality.history.VALIDATION_KEYS`, keeps the generator weights of the
best score for early stopping (:class:`BestWeights`) and runs the callbacks
(:mod:`.callbacks`).  Training changes what ``sample`` returns after every iteration, so the
features that a score cached are forgotten after every iteration.

This module imports neither TensorFlow nor Keras.
"""

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from gan_estimators._random import derive_seed, numpy_generator
from gan_estimators.gan._config import EARLY_STOPPING_FRACTION, EVALUATIONS_PER_FIT
from gan_estimators.gan.table_path import fitted_on_table, table_score
from gan_estimators.gan.validation import MIN_SAMPLES
from gan_estimators.quality.evaluation import GenerativeScoreMixin, forget_features
from gan_estimators.quality.history import VALIDATION_KEYS

#: Entropy tag of the hold-out split's seed.
_TAG_HOLDOUT = 0x401D


def holdout_fraction(params):
    """The fraction of ``X`` to hold out for the parameters ``params``, or None.

    ``validation_fraction`` when set; :data:`EARLY_STOPPING_FRACTION` when
    ``early_stopping=True`` has no ``validation_data`` either; otherwise None.

    Raises
    ------
    InvalidParameterError
        When both ``validation_data`` and ``validation_fraction`` are set.
    """
    if params["validation_data"] is not None:
        if params["validation_fraction"] is not None:
            raise InvalidParameterError(
                "validation_data and validation_fraction cannot both be set: give held-out "
                "data, or the fraction of X to hold out, not both."
            )
        return None
    if params["validation_fraction"] is not None:
        return float(params["validation_fraction"])
    return EARLY_STOPPING_FRACTION if params["early_stopping"] else None


def split_holdout(X, fraction, seed):
    """Split the validated ``X`` into (training, held-out) samples, both in their order.

    ``ceil(fraction · len(X))`` samples, drawn with ``seed``, are held out.

    Raises
    ------
    InvalidParameterError
        Naming ``validation_fraction`` when either part would have fewer than
        :data:`~.validation.MIN_SAMPLES` samples.
    """
    n = len(X)
    n_held_out = math.ceil(fraction * n)
    if n_held_out < MIN_SAMPLES or n - n_held_out < MIN_SAMPLES:
        raise InvalidParameterError(
            f"validation_fraction={fraction} splits the {n} samples of X into {n - n_held_out} "
            f"to train on and {n_held_out} to score; each part needs at least {MIN_SAMPLES}: "
            "change validation_fraction or pass validation_data."
        )
    order = numpy_generator(derive_seed(seed, _TAG_HOLDOUT)).permutation(n)
    return X[np.sort(order[n_held_out:])], X[np.sort(order[:n_held_out])]


@dataclass(frozen=True)
class Cadence:
    """When a fit call computes its held-out score: every ``steps`` generator iterations of
    the call, or every ``seconds`` of training; and after its last iteration."""

    steps: int | None = None
    seconds: float | None = None

    def due(self, done, training_seconds, last_time):
        """Whether iteration ``done`` of the call (counted from 1), ending at
        ``training_seconds`` of the call's training, is due; ``last_time`` is when the
        previous evaluation was due (0 at first)."""
        if self.steps is not None:
            return done % self.steps == 0
        return training_seconds - last_time >= self.seconds


def evaluation_cadence(eval_every, budget, max_time):
    """The :class:`Cadence` of ``eval_every`` for a call of ``budget`` iterations (None:
    unbounded) and ``max_time`` seconds (None: unbounded).

    An int counts iterations and a float seconds.  None spreads :data:`EVALUATIONS_PER_FIT`
    evaluations over the call: every ``ceil(budget / EVALUATIONS_PER_FIT)`` iterations when
    the budget is in iterations (``n_steps`` or ``epochs``), else every
    ``max_time / EVALUATIONS_PER_FIT`` seconds.
    """
    if eval_every is None:
        if budget is not None:
            return Cadence(steps=max(1, math.ceil(budget / EVALUATIONS_PER_FIT)))
        return Cadence(seconds=float(max_time) / EVALUATIONS_PER_FIT)
    if isinstance(eval_every, Integral):
        return Cadence(steps=int(eval_every))
    return Cadence(seconds=float(eval_every))


def held_out_score(estimator, X):
    """``estimator.score(X)`` for data ``X`` already checked as ``score`` checks it, with the
    networks' current weights."""
    if fitted_on_table(estimator):
        return table_score(estimator, X)
    forget_features(estimator)
    return float(GenerativeScoreMixin.score(estimator, X))


class BestWeights:
    """The generator weights (and the weight average's) of the best held-out score so far.

    Parameters
    ----------
    n_iter_no_change : int
        Evaluations without an improvement after which training stops.
    tol : float
        An evaluation improves when its score exceeds the best one by more than ``tol``.
    """

    def __init__(self, n_iter_no_change, tol):
        self.n_iter_no_change = int(n_iter_no_change)
        self.tol = float(tol)
        self.score = -math.inf
        self.step = None
        self.weights = None
        self.waited = 0
        self.stopped_early = False

    def update(self, estimator, step, score):
        """Record the evaluation ``score`` at ``step``; whether training should stop."""
        if score > self.score + self.tol:
            self.score, self.step, self.waited = score, step, 0
            self.weights = {
                name: getattr(estimator, name).get_weights()
                for name in ("generator_", "generator_ema_")
                if getattr(estimator, name, None) is not None
            }
            return False
        self.waited += 1
        return self.waited >= self.n_iter_no_change

    def restore(self, estimator):
        """Put the best weights back and set ``best_step_`` / ``best_val_score_`` (None, None
        where no evaluation was made) and ``stopped_early_``."""
        for name, weights in (self.weights or {}).items():
            getattr(estimator, name).set_weights(weights)
        estimator.best_step_ = self.step
        estimator.best_val_score_ = None if self.step is None else self.score
        estimator.stopped_early_ = self.stopped_early


class TrainingMonitor:
    """Held-out scores, early stopping and callbacks of one fit call.

    Parameters
    ----------
    estimator : GANEstimator
        The estimator being trained.
    validation : array or None
        Held-out data, checked as ``score`` checks it; None computes no score.
    cadence : Cadence
        When to compute the score.
    best : BestWeights or None
        Early stopping's state; None trains the whole budget and restores nothing.
    callbacks : CallbackList or None
        The callbacks.
    """

    def __init__(self, estimator, *, validation, cadence, best, callbacks):
        self.estimator = estimator
        self.validation = validation
        self.cadence = cadence
        self.best = best
        self.callbacks = callbacks
        self._last_time = 0.0

    def begin(self):
        """Start the call: the history's validation lists, then ``on_fit_begin``; whether a
        callback stopped training before it starts."""
        if self.validation is not None:
            for key in VALIDATION_KEYS:
                self.estimator.history_.setdefault(key, [])
        return self.callbacks is not None and self.callbacks.fit_begin(self.estimator)

    def iteration_end(self, step, values, elapsed, *, done, training_seconds, last):
        """After iteration ``done`` of the call (``step`` overall; ``last``: the budget is
        spent): score, early stopping, callbacks.  Returns whether to stop.

        ``values`` are the iteration's numbers by :data:`STEP_KEYS`, ``elapsed`` the
        history's clock and ``training_seconds`` the call's training time so far.
        """
        estimator = self.estimator
        estimator.n_steps_ = step
        # The iteration changed the generator: features a score cached before are stale.
        forget_features(estimator)
        logs = {"step": step, **values, "elapsed": elapsed}
        stop = False
        if self.validation is not None and (
            last or self.cadence.due(done, training_seconds, self._last_time)
        ):
            self._last_time = training_seconds
            score = held_out_score(estimator, self.validation)
            estimator.history_["val_step"].append(step)
            estimator.history_["val_score"].append(score)
            logs["val_score"] = score
            if self.best is not None:
                stop = self.best.update(estimator, step, score)
                # Stopping at the budget's last iteration is no early stop.
                self.best.stopped_early = stop and not last
        if self.callbacks is not None:
            stop = self.callbacks.iteration_end(estimator, logs) or stop
        return stop

    def end(self):
        """Training is over: early stopping puts the best weights back."""
        if self.best is not None:
            self.best.restore(self.estimator)
            forget_features(self.estimator)
