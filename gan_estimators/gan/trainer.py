"""The compiled GAN train step.

One call of :class:`GANTrainer` runs one *generator iteration*: ``n_critic`` critic updates
followed by ``n_gen`` generator updates, all inside a single ``tf.function`` with explicit
``GradientTape`` steps.  The training set stays on the device as one tensor and mini-batches
are gathered in-graph from indices drawn by a seeded ``tf.random.Generator``; nothing in the
loop goes through ``train_on_batch`` or ``predict`` (each of which costs a Python round trip
and, for ``predict``, a fresh data pipeline per call).

Why explicit tapes instead of ``critic.trainable = False`` + a combined model: under Keras 3
the ``trainable`` flag is read at call time, so the classic "freeze D, compile the combined
model" recipe silently stops D from learning (SPEC §2).  Here each update differentiates
with respect to exactly one network's ``trainable_variables``.

Each update also leaves the *other* network's moving statistics untouched: the critic
update runs the generator in training mode (so the critic sees the same batch-normalised
fakes the generator is trained on) and then restores the generator's BatchNorm moving
averages, and vice versa, so a critic update changes critic weights only and a generator
update generator weights only.

Graph optimisation: the iteration runs with a leaner Grappler configuration (see
:func:`lean_call_options`): one optimisation round and none of the passes that leave this
graph unchanged on CPU.  Measured on the 28×28 reference networks with 16 filters (2 CPU
cores, TF 2.21, CPU time, median of 4), the first call went from 2.04 s to 1.30 s and an
iteration from 0.311 s to 0.303 s; on the default digits fit from 1.70 s to 1.11 s, the
iteration time changing within the run-to-run noise (±5 %).  A search of many short fits
pays that first call once per candidate.  Results are bit-identical either way.
"""

import contextlib
import functools

import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2

try:  # Private API: the per-thread options TensorFlow sends with every function call.
    from tensorflow.python.eager import context as _eager_context
except ImportError:  # pragma: no cover - a TensorFlow without it runs with its defaults
    _eager_context = None

from gan_estimators.gan.networks import clip_targets, has_batch_norm

#: Keys of the dict returned by one generator iteration, in ``history_`` order.
STEP_KEYS = (
    "critic_loss",
    "critic_real",
    "critic_fake",
    "generator_loss",
    "gradient_penalty",
    "critic_grad_norm",
    "generator_grad_norm",
)


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
    # The second round found nothing left to do (measured), at a quarter of the cost.
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


class GANTrainer:
    """Compiled training of a generator / critic pair.

    Parameters
    ----------
    generator, critic : keras.Model
        The networks; they are updated in place.
    strategy : gan_estimators.gan.losses.LossStrategy
        The loss.
    generator_optimizer, critic_optimizer : gan_estimators.gan.optimizers.FusedOptimizer
        One optimizer per network (built here for the network's trainable variables if
        needed, so that no variable is created while tracing).
    latent_dim : int
        Size of the latent vectors fed to the generator.
    batch_size : int
        Samples per critic / generator update (at most the training-set size).
    n_critic, n_gen : int
        Critic and generator updates per generator iteration.
    seed : int
        Seed of the ``tf.random.Generator`` drawing batches, latent vectors, penalty
        interpolation factors and label noise.
    average_generator : keras.Model or None, default=None
        A copy of ``generator`` whose weights (BatchNorm statistics included) track an
        exponential moving average of the generator's after every iteration; None keeps no
        average.
    average_decay : float, default=0.99
        Decay of that average.  It warms up as ``min(average_decay, (1 + t) / (10 + t))``
        with ``t`` the generator optimizer's update count, so the first iterations are not
        anchored to the random initial weights and a resumed fit continues the schedule.
    jit_compile : bool, default=False
        Compile the iteration with XLA.
    """

    def __init__(
        self,
        generator,
        critic,
        strategy,
        generator_optimizer,
        critic_optimizer,
        *,
        latent_dim,
        batch_size,
        n_critic,
        n_gen,
        seed,
        average_generator=None,
        average_decay=0.99,
        jit_compile=False,
    ):
        self.generator = generator
        self.critic = critic
        self.strategy = strategy
        self.generator_optimizer = generator_optimizer
        self.critic_optimizer = critic_optimizer
        self.latent_dim = int(latent_dim)
        self.batch_size = int(batch_size)
        self.n_critic = int(n_critic)
        self.n_gen = int(n_gen)
        self.rng = tf.random.Generator.from_seed(int(seed))
        self.average_generator = average_generator
        self.average_decay = float(average_decay)
        for optimizer, model in (
            (generator_optimizer, generator),
            (critic_optimizer, critic),
        ):
            if not optimizer.built:
                optimizer.build(model.trainable_variables)
        self._clip_variables = clip_targets(critic)
        # Real and fake batches share one critic call unless BatchNorm must see them apart.
        self._joint = not has_batch_norm(critic)
        # Partials rather than bound methods: TensorFlow keys its "frequent retracing"
        # warning on a function's code object, so every trainer of a long search would
        # count as retracing one function; a partial is keyed on itself.
        # reduce_retracing: continuing on a training set of another size reuses the graph.
        # autograph=False: the step has no Python control flow on tensors (the one loop is
        # an explicit tf.while_loop), so converting its code would only add tracing time.
        options = {"jit_compile": jit_compile, "reduce_retracing": True, "autograph": False}
        self._iteration_fn = tf.function(functools.partial(GANTrainer._iteration, self), **options)
        self._critic_fn = tf.function(functools.partial(GANTrainer._critic_phase, self), **options)
        self._generator_fn = tf.function(
            functools.partial(GANTrainer._generator_phase, self), **options
        )
        # Built at the first call, from the calling thread's options at that time.
        self._call_options = None

    def reseed(self, seed):
        """Restart the random stream (used when training resumes)."""
        self.rng.reset_from_seed(int(seed))

    # -- building blocks (traced inside the tf.functions) ---------------------------------

    def _latent(self):
        return self.rng.normal([self.batch_size, self.latent_dim], dtype=tf.float32)

    def _real_batch(self, data):
        n = tf.shape(data, out_type=tf.int64)[0]
        # Sampling with replacement keeps the step shape-static for any training-set size.
        index = self.rng.uniform([self.batch_size], minval=0, maxval=n, dtype=tf.int64)
        return tf.gather(data, index)

    @staticmethod
    def _snapshot(variables):
        return [tf.identity(v) for v in variables]

    @staticmethod
    def _restore(variables, values):
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)

    def _critic_update(self, data):
        real = self._real_batch(data)
        fake = self.generator(self._latent(), training=True)
        critic = self.critic
        with tf.GradientTape() as tape:
            real_term, fake_term, penalty = self.strategy.critic_losses(
                critic, real, fake, self.rng, joint=self._joint
            )
            loss = real_term + fake_term + penalty
        grads = tape.gradient(loss, critic.trainable_variables)
        self.critic_optimizer.apply(grads)
        self.strategy.after_critic_update(self._clip_variables)
        return loss, real_term, fake_term, penalty, tf.linalg.global_norm(grads)

    def _generator_update(self):
        generator = self.generator
        with tf.GradientTape() as tape:
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
        update doubles tracing and graph-optimisation time (seconds per fit) for a few
        percent of speed.  A single update needs no loop at all.
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

    def _generator_phase(self):
        frozen = self.critic.non_trainable_weights
        saved = self._snapshot(frozen)
        values = self._repeat(self._generator_update, self.n_gen, 2)
        self._restore(frozen, saved)
        return values

    def _update_average(self):
        updates = tf.cast(self.generator_optimizer.iterations, tf.float32)
        decay = tf.minimum(self.average_decay, (1.0 + updates) / (10.0 + updates))
        for average, weight in zip(
            self.average_generator.weights, self.generator.weights, strict=True
        ):
            average.assign(decay * average + (1.0 - decay) * weight)

    def _iteration(self, data):
        critic_loss, real, fake, penalty, critic_norm = self._critic_phase(data)
        generator_loss, generator_norm = self._generator_phase()
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
        """Run one generator iteration on ``data`` (a float32 tensor scaled to [-1, 1]).

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

    def critic_step(self, data):
        """Run only the ``n_critic`` critic updates of an iteration (for tests/diagnosis)."""
        return self._call(self._critic_fn, data)

    def generator_step(self):
        """Run only the ``n_gen`` generator updates of an iteration (for tests/diagnosis)."""
        return self._call(self._generator_fn)

    def _call(self, function, *args):
        if self._call_options is None:
            self._call_options = lean_call_options() or False
        with _call_options(self._call_options or None):
            return function(*args)
