"""The compiled GAN train step.

One call of :class:`GANTrainer` runs one *generator iteration*: ``n_critic`` critic updates
followed by ``n_gen`` generator updates, all inside a single ``tf.function`` with explicit
``GradientTape`` steps.  The training set stays on the device as one tensor and mini-batches
are gathered in-graph from indices drawn by a seeded ``tf.random.Generator``; nothing in the
loop goes through ``train_on_batch`` or ``predict`` (each of which costs a Python round trip
and, for ``predict``, a fresh data pipeline per call).

Why explicit tapes instead of ``critic.trainable = False`` + a combined model: under Keras 3
the ``trainable`` flag is read at call time, so the classic "freeze D, compile the combined
model" recipe silently stops D from learning (see the reference configuration,
``docs/user_guide/reference_configuration.rst``).  Here each update differentiates with
respect to exactly one network's ``trainable_variables``.

Each update also leaves the *other* network's moving statistics untouched: the critic
update runs the generator in training mode (so the critic sees the same batch-normalised
fakes the generator is trained on) and then restores the generator's BatchNorm moving
averages, and vice versa, so a critic update changes critic weights only and a generator
update generator weights only.

Graph optimisation: the iteration runs with a leaner Grappler configuration (see
:func:`lean_call_options`): one optimisation round and none of the passes that leave this
graph unchanged on CPU.  The first call, which a search of many short fits pays once per
candidate, is faster; results are bit-identical either way.
"""

import contextlib
import functools
import math
import re
import time
from dataclasses import dataclass

import keras
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2

try:  # Private API: the per-thread options TensorFlow sends with every function call.
    from tensorflow.python.eager import context as _eager_context
except ImportError:  # pragma: no cover - a TensorFlow without it runs with its defaults
    _eager_context = None

from gan_estimators.gan.conditioning import LabelledCritic
from gan_estimators.gan.errors import NetworkTooLargeError
from gan_estimators.gan.losses import LossStrategy
from gan_estimators.gan.networks import clip_targets
from gan_estimators.quality.history import STEP_KEYS

#: Grappler passes switched off for the train step: on CPU they leave this graph as it is
#: (layout, memory, loop, shape, implementation selection, mixed precision) yet cost
#: graph-optimisation time on the first call.
_SKIPPED_PASSES = (
    "layout_optimizer",
    "shape_optimization",
    "loop_optimization",
    "implementation_selector",
    "auto_mixed_precision",
)


def lean_call_options():
    """Function-call options with a leaner Grappler configuration.

    One optimisation round instead of two and no passes that leave this graph unchanged
    on CPU; the passes that shrink the graph or fuse operations (pruning, common
    subexpressions, constant folding, arithmetic, dependencies, the remapper's
    convolution + bias fusion) still run.  Built from the options the current thread would
    use anyway, so thread-pool sizes and device placement set by the user or by
    :mod:`gan_estimators.search.workers` are kept.  Returns None when this TensorFlow does not
    expose them, in which case the step runs with TensorFlow's defaults.
    """
    try:
        current = _eager_context.context().function_call_options
        config = config_pb2.ConfigProto.FromString(current.config_proto_serialized)
    except Exception:  # any change of the private API: keep the defaults
        return None
    rewrite = config.graph_options.rewrite_options
    for name in _SKIPPED_PASSES:
        setattr(rewrite, name, rewriter_config_pb2.RewriterConfig.OFF)
    rewrite.memory_optimization = rewriter_config_pb2.RewriterConfig.NO_MEM_OPT
    # A second round finds nothing left to do in this graph.
    rewrite.meta_optimizer_iterations = rewriter_config_pb2.RewriterConfig.ONE
    return _eager_context.FunctionCallOptions(config_proto=config)


@contextlib.contextmanager
def _call_options(options):
    """Use ``options`` for the function calls of this thread inside the block."""
    if options is None:
        yield
        return
    local = _eager_context.context()._thread_local_data
    saved = local.function_call_options
    local.function_call_options = options
    try:
        yield
    finally:
        local.function_call_options = saved


def frozen_copy(model):
    """A non-trainable copy of ``model`` with its current weights (the start of a moving
    average of its weights)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    copy.trainable = False
    return copy


@dataclass(frozen=True)
class TrainerConfig:
    """What a compiled :class:`GANTrainer` is built for, besides its networks and optimizers.

    Two equal configurations give the same compiled step, so an estimator reuses its trainer
    while its configuration (and its networks and optimizers) stay the same.

    Parameters
    ----------
    loss : gan_estimators.gan.losses.LossStrategy
        The loss.
    latent_dim : int
        Size of the latent vectors fed to the generator.
    batch_size : int
        Samples per critic / generator update (at most the training-set size).
    n_critic, n_gen : int
        Critic and generator updates per generator iteration.
    ema_decay : float or None, default=None
        Decay of the moving average of the generator's weights; None keeps no average.
    conditional : bool, default=False
        Whether the networks are conditional (:mod:`.conditioning`): the training data is
        then a pair ``(samples, class indices)``.
    """

    loss: LossStrategy
    latent_dim: int
    batch_size: int
    n_critic: int
    n_gen: int
    ema_decay: float | None = None
    conditional: bool = False


class GANTrainer:
    """Compiled training of a generator / critic pair.

    Parameters
    ----------
    config : TrainerConfig
        The loss, batch size and update counts.
    generator, critic : keras.Model
        The networks; they are updated in place.
    generator_optimizer, critic_optimizer : gan_estimators.gan.optimizers.FusedOptimizer
        One optimizer per network (built here for the network's trainable variables if
        needed, so that no variable is created while tracing).
    average_generator : keras.Model or None, default=None
        A copy of ``generator`` whose weights (BatchNorm statistics included) track an
        exponential moving average of the generator's after every iteration, with decay
        ``config.ema_decay``; None keeps no average.  The decay warms up as
        ``min(ema_decay, (1 + t) / (10 + t))`` with ``t`` the generator optimizer's update
        count, so the first iterations are not anchored to the random initial weights and a
        resumed fit continues the schedule.
    seed : int, default=0
        Seed of the ``tf.random.Generator`` drawing batches, latent vectors, penalty
        interpolation factors and label noise (see :meth:`reseed`).
    """

    def __init__(
        self,
        config,
        generator,
        critic,
        generator_optimizer,
        critic_optimizer,
        *,
        average_generator=None,
        seed=0,
    ):
        if average_generator is not None and config.ema_decay is None:
            raise ValueError("an average_generator needs a config with an ema_decay")
        self.config = config
        self.generator = generator
        self.critic = critic
        self.strategy = config.loss
        self.generator_optimizer = generator_optimizer
        self.critic_optimizer = critic_optimizer
        self.latent_dim = int(config.latent_dim)
        self.batch_size = int(config.batch_size)
        self.n_critic = int(config.n_critic)
        self.n_gen = int(config.n_gen)
        self.conditional = bool(config.conditional)
        self.rng = tf.random.Generator.from_seed(int(seed))
        self.average_generator = average_generator
        self.average_decay = 1.0 if config.ema_decay is None else float(config.ema_decay)
        for optimizer, model in (
            (generator_optimizer, generator),
            (critic_optimizer, critic),
        ):
            if not optimizer.built:
                optimizer.build(model.trainable_variables)
        self._clip_variables = clip_targets(critic)
        # A partial rather than a bound method: TensorFlow keys its "frequent retracing"
        # warning on a function's code object, so every trainer of a long search would
        # count as retracing one function; a partial is keyed on itself.
        # reduce_retracing: continuing on a training set of another size reuses the graph.
        # autograph=False: the step has no Python control flow on tensors (the one loop is
        # an explicit tf.while_loop), so converting its code would only add tracing time.
        # jit_compile=False: XLA stays off even where TensorFlow's auto-clustering is enabled.
        self._iteration_fn = tf.function(
            functools.partial(GANTrainer._iteration, self),
            jit_compile=False,
            reduce_retracing=True,
            autograph=False,
        )
        # Built at the first call, from the calling thread's options at that time.
        self._call_options = None

    def trains(self, config, generator, critic, generator_optimizer, critic_optimizer, average):
        """Whether this trainer was built for exactly these settings, networks and optimizers."""
        return (
            self.config == config
            and self.generator is generator
            and self.critic is critic
            and self.generator_optimizer is generator_optimizer
            and self.critic_optimizer is critic_optimizer
            and self.average_generator is average
        )

    def reseed(self, seed):
        """Restart the random stream (used when training resumes)."""
        self.rng.reset_from_seed(int(seed))

    # -- building blocks (traced inside the tf.functions) ---------------------------------

    def _latent(self):
        return self.rng.normal([self.batch_size, self.latent_dim], dtype=tf.float32)

    def _batch_index(self, samples):
        n = tf.shape(samples, out_type=tf.int64)[0]
        # Sampling with replacement keeps the step shape-static for any training-set size.
        return self.rng.uniform([self.batch_size], minval=0, maxval=n, dtype=tf.int64)

    def _real_batch(self, data):
        """A batch of training samples; with their labels when conditional."""
        if self.conditional:
            samples, labels = data
            index = self._batch_index(samples)
            return tf.gather(samples, index), tf.gather(labels, index)
        return tf.gather(data, self._batch_index(data))

    def _generator_labels(self, data):
        """Labels of the generator's samples: those of random training samples, so that
        classes come with their training frequencies."""
        samples, labels = data
        return tf.gather(labels, self._batch_index(samples))

    @staticmethod
    def _snapshot(variables):
        return [tf.identity(v) for v in variables]

    @staticmethod
    def _restore(variables, values):
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)

    def _critic_update(self, data):
        if self.conditional:
            # The fakes take the real batch's labels: every batch the critic compares (and
            # the penalty's interpolates) has the same labels.
            real, labels = self._real_batch(data)
            fake = self.generator([self._latent(), labels], training=True)
            scored = LabelledCritic(self.critic, labels)
        else:
            real = self._real_batch(data)
            fake = self.generator(self._latent(), training=True)
            scored = self.critic
        critic = self.critic
        with tf.GradientTape() as tape:
            real_term, fake_term, penalty = self.strategy.critic_losses(
                scored, real, fake, self.rng
            )
            loss = real_term + fake_term + penalty
        grads = tape.gradient(loss, critic.trainable_variables)
        self.critic_optimizer.apply(grads)
        self.strategy.after_critic_update(self._clip_variables)
        return loss, real_term, fake_term, penalty, tf.linalg.global_norm(grads)

    def _generator_update(self, data):
        generator = self.generator
        with tf.GradientTape() as tape:
            if self.conditional:
                labels = self._generator_labels(data)
                fake = generator([self._latent(), labels], training=True)
                scores = self.critic([fake, labels], training=True)
            else:
                fake = generator(self._latent(), training=True)
                scores = self.critic(fake, training=True)
            loss = self.strategy.generator_loss(scores)
        grads = tape.gradient(loss, generator.trainable_variables)
        self.generator_optimizer.apply(grads)
        return loss, tf.linalg.global_norm(grads)

    @staticmethod
    def _repeat(update, times, n_values):
        """Means of the ``n_values`` scalars returned by ``times`` calls of ``update``.

        A graph loop, not a Python one: unrolling ``n_critic`` copies of a convolutional
        update multiplies tracing and graph-optimisation time for little speed.  A single
        update needs no loop at all.
        """
        if times == 1:
            return [tf.cast(v, tf.float32) for v in update()]

        def body(i, *sums):
            values = update()
            return (i + 1, *(s + tf.cast(v, tf.float32) for s, v in zip(sums, values, strict=True)))

        _, *sums = tf.while_loop(
            lambda i, *_: i < times,
            body,
            (tf.constant(0), *[tf.constant(0.0)] * n_values),
            maximum_iterations=times,
        )
        return [s / times for s in sums]

    def _critic_phase(self, data):
        frozen = self.generator.non_trainable_weights
        saved = self._snapshot(frozen)
        values = self._repeat(lambda: self._critic_update(data), self.n_critic, 5)
        self._restore(frozen, saved)
        return values

    def _generator_phase(self, data):
        frozen = self.critic.non_trainable_weights
        saved = self._snapshot(frozen)
        values = self._repeat(lambda: self._generator_update(data), self.n_gen, 2)
        self._restore(frozen, saved)
        return values

    def _update_average(self):
        updates = tf.cast(self.generator_optimizer.iterations, tf.float32)
        decay = tf.minimum(self.average_decay, (1.0 + updates) / (10.0 + updates))
        for average, weight in zip(
            self.average_generator.weights, self.generator.weights, strict=True
        ):
            # Not a weight: the state of a layer's random stream (a table's output layer).
            if "float" not in str(average.dtype):
                continue
            average.assign(decay * average + (1.0 - decay) * weight)

    def _iteration(self, data):
        critic_loss, real, fake, penalty, critic_norm = self._critic_phase(data)
        generator_loss, generator_norm = self._generator_phase(data)
        if self.average_generator is not None:
            self._update_average()
        values = {
            "critic_loss": critic_loss,
            "critic_real": real,
            "critic_fake": fake,
            "generator_loss": generator_loss,
            "gradient_penalty": penalty,
            "critic_grad_norm": critic_norm,
            "generator_grad_norm": generator_norm,
        }
        # One vector: the training loop fetches an iteration's numbers in one transfer.
        return tf.stack([values[key] for key in STEP_KEYS])

    # -- public entry points ---------------------------------------------------------------

    def __call__(self, data):
        """Run one generator iteration on ``data`` (a float32 tensor scaled to [-1, 1]; for
        a conditional trainer, the pair of it and an int32 tensor of class indices).

        Returns
        -------
        dict of str to scalar tensor
            The iteration's losses and gradient norms (critic values averaged over its
            ``n_critic`` updates, generator values over its ``n_gen`` updates), keyed as
            :data:`STEP_KEYS`.
        """
        return dict(zip(STEP_KEYS, tf.unstack(self._call(self._iteration_fn, data)), strict=True))

    def iteration_values(self, data):
        """Like calling the trainer, but return the values as Python floats, in
        :data:`STEP_KEYS` order, fetched from the device in one transfer."""
        return self._call(self._iteration_fn, data).numpy().tolist()

    def _call(self, function, *args):
        if self._call_options is None:
            self._call_options = lean_call_options() or False
        with _call_options(self._call_options or None):
            return function(*args)


@contextlib.contextmanager
def memory_guard(params, batch_size):
    """Raise a :class:`NetworkTooLargeError` saying what was asked where TensorFlow runs out
    of memory while building (``batch_size`` None) or training networks of ``params``."""
    try:
        yield
    except tf.errors.ResourceExhaustedError as exc:
        tensor = re.search(r"shape ?\[[0-9, ]*\]", exc.message or "")
        asked = ", ".join(
            f"{name}={params[name]!r}"
            for name in ("network", "n_filters", "critic_width", "latent_dim")
        )
        batch = "" if batch_size is None else f" trained with batch_size={batch_size}"
        raise NetworkTooLargeError(
            f"Not enough memory for the networks of {asked}{batch}"
            + (f" (a tensor of {tensor.group(0)} did not fit)" if tensor else "")
            + ". Use a smaller n_filters, critic_width or batch_size."
        ) from None


def iteration_budget(n_samples, batch_size, n_critic, *, n_steps, epochs):
    """Generator iterations allowed by ``n_steps`` and ``epochs`` (None: neither is set).

    One epoch is ``ceil(n_samples / (batch_size · n_critic))`` iterations, and a set
    ``epochs`` allows at least one.
    """
    limits = []
    if n_steps is not None:
        limits.append(int(n_steps))
    if epochs is not None:
        per_epoch = math.ceil(n_samples / (batch_size * int(n_critic)))
        limits.append(max(1, math.ceil(float(epochs) * per_epoch)))
    return min(limits) if limits else None


def train(trainer, data, history, *, budget, max_time=None, progress=None, monitor=None):
    """Run generator iterations of ``trainer`` on ``data``, appending to ``history``.

    Stops after ``budget`` iterations (None: no limit), once ``max_time`` seconds of training
    have passed (checked after each iteration, so at least one runs), at the first iteration
    with a non-finite value, or when ``monitor`` asks to.

    Parameters
    ----------
    trainer : GANTrainer
        The compiled step.
    data : tensor or tuple of tensors
        The training data, scaled to [-1, 1] (for a conditional trainer, paired with its
        class indices).
    history : dict of str to list
        The estimator's ``history_`` (keys ``step``, :data:`STEP_KEYS` and ``elapsed``);
        steps and elapsed seconds continue from its last entry.
    budget : int or None
        Iterations to run.
    max_time : float or None, default=None
        Seconds to run.
    progress : str or None, default=None
        Show a tqdm progress bar with this description, updated after each iteration.
    monitor : gan_estimators.gan.monitoring.TrainingMonitor or None, default=None
        Called after each iteration with a finite result (held-out scores, callbacks); the
        time it takes counts neither in ``elapsed`` nor towards ``max_time``.

    Returns
    -------
    bool
        Whether training stopped on a non-finite value.
    """
    if progress is None:
        return _train(trainer, data, history, budget, max_time, None, monitor)
    from tqdm.auto import tqdm

    with tqdm(total=budget, desc=progress, unit="step", leave=True) as bar:
        return _train(trainer, data, history, budget, max_time, bar, monitor)


def _train(trainer, data, history, budget, max_time, progress, monitor):
    offset = history["elapsed"][-1] if history["elapsed"] else 0.0
    step = history["step"][-1] if history["step"] else 0
    start = time.perf_counter()
    done = 0
    while budget is None or done < budget:
        values = dict(zip(STEP_KEYS, trainer.iteration_values(data), strict=True))
        done += 1
        step += 1
        elapsed = time.perf_counter() - start
        history["step"].append(step)
        for key in STEP_KEYS:
            history[key].append(values[key])
        history["elapsed"].append(offset + elapsed)
        if progress is not None:
            progress.set_postfix(
                step=step,
                critic=f"{values['critic_loss']:.4g}",
                generator=f"{values['generator_loss']:.4g}",
                refresh=False,
            )
            progress.update(1)
        if not all(math.isfinite(v) for v in values.values()):
            return True
        out_of_time = max_time is not None and elapsed >= max_time
        if monitor is not None:
            stop = monitor.iteration_end(
                step,
                values,
                offset + elapsed,
                done=done,
                training_seconds=elapsed,
                last=out_of_time or done == budget,
            )
            # Watching is not training: the clock resumes where the iteration ended.
            start = time.perf_counter() - elapsed
            if stop:
                break
        if out_of_time:
            break
    return False
