"""How a GAN estimator trains: one ``fit`` / ``partial_fit`` call from data to fitted state.

:class:`TrainingMixin` checks the data and parameters, builds (or keeps, when training
continues) the networks, optimizers, weight average and compiled trainer, holds out
validation data, runs the budget through :func:`.trainer.train` with a
:class:`.monitoring.TrainingMonitor` when the call scores held-out data or has callbacks, and
fits the sample-quality state at the end.  With class labels ``y`` the networks are
conditional (:mod:`.conditioning`, :mod:`.labels`) and the trainer draws labelled batches.
"""

import warnings

import numpy as np
import tensorflow as tf

from gan_estimators._random import derive_seed, draw_seed
from gan_estimators.gan.callbacks import CallbackList
from gan_estimators.gan.fitted_state import OPTIONAL_FITTED_VALUES, release
from gan_estimators.gan.labels import check_continuation, check_labels, fit_classes, label_indices
from gan_estimators.gan.layout import IMAGE, DataLayout, layout_kind
from gan_estimators.gan.monitoring import (
    BestWeights,
    TrainingMonitor,
    evaluation_cadence,
    holdout_fraction,
    split_holdout,
)
from gan_estimators.gan.networks import build_networks
from gan_estimators.gan.optimizers import build_optimizer
from gan_estimators.gan.settings import check_structure, network_structure, resolve_settings
from gan_estimators.gan.table_path import (
    check_frame,
    check_same_kind,
    encoded,
    fit_table_diagnostics,
    fitted_on_table,
    output_spans,
    rows,
    start_table,
    training_rows,
)
from gan_estimators.gan.trainer import (
    GANTrainer,
    TrainerConfig,
    frozen_copy,
    iteration_budget,
    memory_guard,
    train,
)
from gan_estimators.gan.validation import check_validation_data, validate_training_data
from gan_estimators.quality.evaluation import fit_feature_map
from gan_estimators.quality.features import UnsavedFeatureMap
from gan_estimators.quality.history import HISTORY_KEYS
from gan_estimators.tables.columns import is_frame


class TrainingMixin:
    """``_fit`` and the parts it builds, for :class:`~gan_estimators.GANEstimator`."""

    def _build_optimizers(self, key, rates):
        """New optimizers of kind ``key`` = (name, beta_1, beta_2) with learning ``rates``."""
        self.generator_optimizer_, self.critic_optimizer_ = (
            build_optimizer(key, rate, model.trainable_variables)
            for rate, model in zip(rates, (self.generator_, self.critic_), strict=True)
        )
        self._optimizer_key_ = tuple(key)

    def _optimizer_key(self):
        """What the optimizers are built from: (name, beta_1, beta_2)."""
        return (self.optimizer, float(self.beta_1), float(self.beta_2))

    def _ensure_optimizers(self, settings):
        """Create (or keep, on warm starts) the optimizers and set their learning rates."""
        key = self._optimizer_key()
        rates = settings.generator_learning_rate, settings.critic_learning_rate
        if getattr(self, "_optimizer_key_", None) != key or not hasattr(
            self, "generator_optimizer_"
        ):
            self._build_optimizers(key, rates)
        else:
            # Learning rates are variables read by the compiled step: no retrace needed.
            self.generator_optimizer_.learning_rate.assign(rates[0])
            self.critic_optimizer_.learning_rate.assign(rates[1])

    def _ensure_average(self):
        """Create or drop ``generator_ema_`` to match ``ema_decay`` (a new average starts
        from the current weights)."""
        if self.ema_decay is None:
            self.__dict__.pop("generator_ema_", None)
        elif getattr(self, "generator_ema_", None) is None:
            self.generator_ema_ = frozen_copy(self.generator_)

    def _ensure_trainer(self, settings):
        """The optimizers, the weight average and the compiled trainer for ``settings``:
        those of the previous call while nothing they were built for has changed.  The
        trainer's random stream is seeded for this call."""
        self._ensure_optimizers(settings)
        self._ensure_average()
        config = TrainerConfig(
            loss=settings.loss,
            latent_dim=int(self.latent_dim),
            batch_size=self.batch_size_,
            n_critic=int(self.n_critic),
            n_gen=int(self.n_gen),
            ema_decay=None if self.ema_decay is None else float(self.ema_decay),
            conditional=hasattr(self, "classes_"),
        )
        parts = (self.generator_, self.critic_, self.generator_optimizer_, self.critic_optimizer_)
        average = getattr(self, "generator_ema_", None)
        trainer = getattr(self, "_trainer", None)
        if trainer is None or not trainer.trains(config, *parts, average):
            trainer = GANTrainer(config, *parts, average_generator=average)
            self._trainer = trainer
        # A stream per (fit seed, iterations done): resumed training does not replay the
        # batches and noise of earlier calls.
        trainer.reseed(derive_seed(self._seed_, 3, self.n_steps_))
        return trainer

    def _fit(self, X, y=None, *, resume, remedy):
        """Fit (``resume``: continue training) on ``X``, conditioned on the class labels
        ``y`` unless None; ``remedy`` ends the messages of the data and parameters that
        cannot continue the previous fit."""
        if isinstance(self.feature_map, UnsavedFeatureMap):
            # Its fit would fail at the end of training; fail before it instead.
            self.feature_map.raise_not_saved()
        if resume:
            check_same_kind(self, X, remedy)
        if is_frame(X):
            X = check_frame(self, X, reset=not resume, remedy=remedy)
            if y is not None:
                raise ValueError(
                    "y was given with a DataFrame X; to condition on a column, keep it in X "
                    "and sample with sample(n, conditions={column: value})."
                )
        else:
            X = validate_training_data(self, X, reset=not resume)
        labels = None if y is None else check_labels(y, len(X))
        if resume:
            self._data_layout_.check(X, remedy)
            if not fitted_on_table(self):  # a table's classes_ are its own conditions
                check_continuation(getattr(self, "classes_", None), labels, remedy)
        params = self.get_params(deep=False)
        settings = resolve_settings(params, layout_kind(X))
        fraction = holdout_fraction(params)
        callbacks = None if params["callbacks"] is None else CallbackList(params["callbacks"])
        if params["validation_data"] is not None:
            check_validation_data(params["validation_data"], X)
        if resume:
            check_structure(self._structure_, network_structure(params, settings), remedy)
        # The same split at every call of one fit: continued training never trains on
        # samples it held out before.
        seed = self._seed_ if resume else draw_seed(self.random_state)
        held_out = None
        if fraction is not None:
            kept, held = split_holdout(np.arange(len(X)), fraction, seed)
            X, held_out = rows(X, kept), rows(X, held)
            labels = None if labels is None else labels[kept]
        classes = None if resume or labels is None else fit_classes(labels)
        if not resume:
            self._start(X, params, settings, seed, classes)
        if labels is not None:
            labels = label_indices(labels, self.classes_)
        training_data = X
        if fitted_on_table(self):
            # A new draw per call: continued training sees other rows and conditions.
            X, labels = training_rows(self, X, derive_seed(self._seed_, 5, self.n_steps_))

        self.batch_size_ = self._clamped_batch_size(len(X))
        budget = iteration_budget(
            len(X), self.batch_size_, self.n_critic, n_steps=self.n_steps, epochs=self.epochs
        )
        monitor = self._monitor(params, X, held_out, callbacks, budget)
        with memory_guard(params, self.batch_size_):
            diverged = self._train(self._ensure_trainer(settings), X, labels, budget, monitor)
        if diverged:
            # Non-finite samples have no features: leave this fit without sample-quality
            # state (score() then fails loudly) instead of failing the fit itself.
            self.__dict__.pop("feature_map_", None)
            self.__dict__.pop("diagnostics_", None)
        elif fitted_on_table(self):
            fit_table_diagnostics(self, training_data)
        else:
            self._fit_sample_quality(X, None if labels is None else self.classes_[labels])
        if callbacks is not None:
            callbacks.fit_end(self)
        return self

    def _start(self, X, params, settings, seed, classes):
        """Drop a previous fit, fit the layout on ``X`` and build new networks from
        ``seed``: conditional ones when ``classes`` = (classes, prior) is not None."""
        release(self)
        if classes is not None:
            self.classes_, self.class_prior_ = classes
        self._data_layout_ = start_table(self, X) if is_frame(X) else DataLayout.fit(X)
        if self._data_layout_.kind == IMAGE:
            # Tabular attributes of an earlier fit (validate_data is not used for images).
            self.__dict__.pop("n_features_in_", None)
            self.__dict__.pop("feature_names_in_", None)
        self.network_ = settings.network
        self._structure_ = network_structure(params, settings)
        self._seed_ = seed
        with memory_guard(params, None):
            self.generator_, self.critic_ = build_networks(
                params,
                settings,
                self._data_layout_,
                self._seed_,
                n_classes=len(self.classes_) if hasattr(self, "classes_") else None,
                output_spans=output_spans(self),
            )
        self.history_ = {key: [] for key in HISTORY_KEYS}
        self.n_steps_ = 0

    def _monitor(self, params, X, held_out, callbacks, budget):
        """The :class:`TrainingMonitor` of this call, or None when it has neither held-out
        data nor callbacks (the training loop then runs alone)."""
        validation = held_out
        if params["validation_data"] is not None:
            validation = self._scoring_data(params["validation_data"])
        best = None
        if validation is not None:
            if not fitted_on_table(self):
                # The map fit ends with, fitted now: held-out scores equal score() then.
                fit_feature_map(self, X)
            if params["early_stopping"]:
                best = BestWeights(params["n_iter_no_change"], params["tol"])
        if best is None:
            # The fitted attributes of early stopping describe the last call only.
            for name in OPTIONAL_FITTED_VALUES:
                self.__dict__.pop(name, None)
        if validation is None and callbacks is None:
            return None
        max_time = params["max_time"]
        return TrainingMonitor(
            self,
            validation=validation,
            cadence=evaluation_cadence(params["eval_every"], budget, max_time),
            best=best,
            callbacks=callbacks,
        )

    def _clamped_batch_size(self, n_samples):
        if int(self.batch_size) <= n_samples:
            return int(self.batch_size)
        warnings.warn(
            f"batch_size={self.batch_size} is larger than the number of samples "
            f"({n_samples}); using batch_size={n_samples}.",
            UserWarning,
            stacklevel=4,
        )
        return n_samples

    def _train(self, trainer, X, labels, budget, monitor):
        """Run ``budget`` iterations (None: until ``max_time``) on ``X`` (with its class
        indices ``labels`` unless None), watched by ``monitor``; True if training diverged."""
        data = tf.convert_to_tensor(self._data_layout_.scale(encoded(self, X), self.network_))
        if labels is not None:
            data = (data, tf.convert_to_tensor(labels, dtype=tf.int32))
        max_time = None if self.max_time is None else float(self.max_time)
        progress = type(self).__name__ if self.verbose else None
        diverged = False
        try:
            if monitor is None or not monitor.begin():
                diverged = train(
                    trainer,
                    data,
                    self.history_,
                    budget=budget,
                    max_time=max_time,
                    progress=progress,
                    monitor=monitor,
                )
        finally:
            self.n_steps_ = self.history_["step"][-1] if self.history_["step"] else 0
        if monitor is not None:
            monitor.end()
        if diverged:
            warnings.warn(
                f"Training diverged at step {self.n_steps_} (non-finite losses); "
                "stopping, without sample-quality diagnostics. Try a lower learning_rate.",
                RuntimeWarning,
                stacklevel=4,
            )
        return diverged
