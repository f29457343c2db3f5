"""Training throughput of the GAN estimators' compiled step against the classic Keras GAN loop.

Both sides train the same reference DCGAN generator and critic (see
docs/user_guide/reference_configuration.rst; 28×28×1 images, batch 64, 5 critic updates per
generator update, weight clipping at 0.01, RMSprop 5e-5) in one process, their timed repeats
interleaved, so machine load affects them alike:

(a) the classic loop: ``predict`` for the fakes, ``train_on_batch`` on the critic for the
    real and the fake batch, clipping through ``get_weights``/``set_weights`` in Python,
    then ``train_on_batch`` on a combined model built with the critic frozen (the critic's
    ``trainable`` flag is toggled around each call so that each model trains only itself);
(b) ``WGANEstimator.reference(...)``: one ``tf.function`` per generator iteration.

Printed as JSON lines: seconds per generator iteration (median of ``--repeats`` blocks),
their ratio against the floors (≥ 5 at 16 filters, ≥ 2.5 at 64), the estimator's achieved
GFLOP/s at 128 filters next to a plain matmul's on the same machine, and the growth of the
resident memory over 20 consecutive small fits (floor < 100 MB after the first; read after a
``gc.collect()``, with the uncollected saw-tooth reported beside it).  Also the default
estimator's seconds per iteration with the package's fused batch-norm layer against Keras's
``BatchNormalization``, interleaved, and their ratio.

Usage::

    python bench/train_throughput.py [--filters 16 64 128] [--repeats 5] [--iterations 3]
"""

import argparse
import gc
import json
import statistics
import sys
import time
from unittest import mock

import keras
import numpy as np
import psutil
import tensorflow as tf

from gan_estimators import GANEstimator, WGANEstimator
from gan_estimators.gan import networks as _networks

IMAGE_SHAPE = (28, 28, 1)
BATCH = 64
N_CRITIC = 5
CLIP = 0.01
LR = 5e-5
LATENT = 100
FLOORS = {16: 5.0, 64: 2.5}


def emit(record):
    print(json.dumps(record), flush=True)


def training_data(n=2048, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=(n, *IMAGE_SHAPE)).astype(np.float32)


# --------------------------------------------------------------------------- classic loop


def _wasserstein(y_true, y_pred):
    return keras.ops.mean(y_true * y_pred)


def keras_batch_norm(name):
    """Keras's own BatchNormalization, as the networks were built before the fused layer."""
    return keras.layers.BatchNormalization(momentum=_networks.BN_MOMENTUM, name=name)


class ClassicLoop:
    """The pre-compiled-step way of training a WGAN with Keras (the reference code's loop)."""

    def __init__(self, n_filters, data, seed=0):
        self.data = data
        self.rng = np.random.default_rng(seed)
        # Keras's own BatchNormalization: the loop as it was written without this package.
        with mock.patch.object(_networks, "_batch_norm", keras_batch_norm):
            self.generator = _networks.build_conv_generator(
                IMAGE_SHAPE, LATENT, n_filters, init_std=0.02, seed=seed
            )
            self.critic = _networks.build_conv_critic(
                IMAGE_SHAPE, n_filters, norm="batch", dropout=0.25, init_std=0.02, seed=seed + 1
            )
        self.critic.compile(optimizer=keras.optimizers.RMSprop(LR), loss=_wasserstein)
        # Frozen while the combined model is built and trained: it must update G only.
        self.critic.trainable = False
        z = keras.Input((LATENT,))
        self.combined = keras.Model(z, self.critic(self.generator(z)))
        self.combined.compile(optimizer=keras.optimizers.RMSprop(LR), loss=_wasserstein)
        self.clipped_layers = [
            layer
            for layer in self.critic.layers
            if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)
        ]
        self.real_targets = -np.ones((BATCH, 1), np.float32)
        self.fake_targets = np.ones((BATCH, 1), np.float32)

    def iteration(self):
        for _ in range(N_CRITIC):
            real = self.data[self.rng.integers(0, len(self.data), BATCH)]
            noise = self.rng.standard_normal((BATCH, LATENT)).astype(np.float32)
            fake = self.generator.predict(noise, verbose=0)
            self.critic.trainable = True
            self.critic.train_on_batch(real, self.real_targets)
            self.critic.train_on_batch(fake, self.fake_targets)
            for layer in self.clipped_layers:
                layer.set_weights([np.clip(w, -CLIP, CLIP) for w in layer.get_weights()])
            self.critic.trainable = False
        noise = self.rng.standard_normal((BATCH, LATENT)).astype(np.float32)
        self.combined.train_on_batch(noise, self.real_targets)


def classic_block(loop, iterations):
    """Seconds per generator iteration of ``iterations`` classic iterations."""
    start = time.perf_counter()
    for _ in range(iterations):
        loop.iteration()
    return (time.perf_counter() - start) / iterations


# --------------------------------------------------------------------------- estimator


def make_estimator(n_filters, data):
    """The reference configuration with the benchmark's settings, fitted for one iteration
    (which builds the networks and traces the step)."""
    gan = WGANEstimator.reference(
        n_filters=n_filters,
        latent_dim=LATENT,
        batch_size=BATCH,
        n_critic=N_CRITIC,
        clip_value=CLIP,
        learning_rate=LR,
        n_steps=1,
        random_state=0,
        warm_start=True,
    )
    return gan.fit(data)


def estimator_block(gan, data, iterations):
    """Seconds per generator iteration of ``iterations`` more iterations of ``gan``."""
    gan.set_params(n_steps=iterations)
    before = gan.history_["elapsed"][-1]
    gan.fit(data)
    # The training loop's own clock: excludes input validation and the sample-quality
    # diagnostics that fit computes after training.
    return (gan.history_["elapsed"][-1] - before) / iterations


def time_both(n_filters, data, repeats, iterations):
    """Per-iteration times of both sides, their repeats interleaved so that a change of
    machine load during the run affects both alike."""
    loop = ClassicLoop(n_filters, data)
    loop.iteration()  # builds and traces the Keras train / predict functions
    gan = make_estimator(n_filters, data)
    classic, estimator = [], []
    for _ in range(repeats):
        classic.append(classic_block(loop, iterations))
        estimator.append(estimator_block(gan, data, iterations))
    return classic, estimator, gan


def time_batch_norms(data, repeats, iterations):
    """Seconds per iteration of the default estimator with the fused batch-norm layer and
    with Keras's, their repeats interleaved.  Both fit the same data from the same seed."""

    def default_estimator():
        gan = GANEstimator(n_steps=1, random_state=0, warm_start=True)
        return gan.fit(data)

    fused = default_estimator()
    with mock.patch.object(_networks, "_batch_norm", keras_batch_norm):
        plain = default_estimator()
    assert not any(
        isinstance(layer, _networks.FusedBatchNormalization) for layer in plain.generator_.layers
    )
    times = {"fused": [], "keras": []}
    for _ in range(repeats):
        times["keras"].append(estimator_block(plain, data, iterations))
        times["fused"].append(estimator_block(fused, data, iterations))
    return times


def _conv_macs(model, batch):
    """Multiply-adds of one forward pass of ``model``'s Conv2D / Dense layers."""
    macs = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            macs += h * w * c_out * kh * kw * c_in
        elif isinstance(layer, keras.layers.Dense):
            macs += int(np.prod(layer.kernel.shape))
    return macs * batch


def flops_per_iteration(generator, critic):
    """Analytic FLOPs of one generator iteration (backward pass counted as 2× forward).

    Critic phase, per update: generator forward on a batch, critic forward + backward on
    the real and the fake batch.  Generator phase: generator forward + backward, critic
    forward + input-gradient backward.
    """
    g = 2 * _conv_macs(generator, BATCH)
    c = 2 * _conv_macs(critic, BATCH)
    critic_phase = N_CRITIC * (g + 2 * 3 * c)
    generator_phase = 3 * g + 2 * c
    return critic_phase + generator_phase


def matmul_gflops(n=2048, repeats=5, inner=10):
    """GFLOP/s of float32 ``n × n`` matmuls chained in one ``tf.function``.

    Each product feeds the next, so TensorFlow cannot merge repeated identical products
    (common-subexpression elimination would otherwise inflate the rate ``inner``-fold).
    """
    a = tf.random.stateless_normal((n, n), seed=(1, 2))
    b = tf.random.stateless_normal((n, n), seed=(3, 4)) / np.sqrt(n)  # keeps norms stable

    @tf.function
    def run(a, b):
        for _ in range(inner):
            a = tf.matmul(a, b)
        return a

    run(a, b).numpy()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(a, b).numpy()
        rates.append(2 * n**3 * inner / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


# --------------------------------------------------------------------------- memory


def rss_growth(n_fits=20, collect=True):
    """Resident memory (MB) after each of ``n_fits`` small fits, each on a new estimator
    that replaces the previous one, as a search does.

    With ``collect`` a ``gc.collect()`` precedes each reading, so the figures show memory
    still reachable (a leak), not garbage waiting for CPython's next cyclic collection
    (Keras models hold reference cycles).
    """
    from sklearn.datasets import load_digits

    X = load_digits().images[:200]
    process = psutil.Process()
    rss = []
    gan = None
    for i in range(n_fits):
        gan = GANEstimator(n_filters=8, latent_dim=16, n_steps=3, batch_size=32, random_state=i)
        gan.fit(X)
        if collect:
            gc.collect()
        rss.append(process.memory_info().rss / 2**20)
    del gan
    return rss


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, nargs="+", default=[16, 64, 128])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=3, help="iterations per repeat")
    parser.add_argument("--fits", type=int, default=20, help="fits for the memory check")
    parser.add_argument(
        "--bn-iterations", type=int, default=30, help="iterations per repeat, batch-norm timing"
    )
    args = parser.parse_args(argv)

    data = training_data()
    emit(
        {
            "benchmark": "train_throughput",
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "cpu_count": psutil.cpu_count(),
            "image_shape": list(IMAGE_SHAPE),
            "batch_size": BATCH,
            "n_critic": N_CRITIC,
            "repeats": args.repeats,
            "iterations_per_repeat": args.iterations,
        }
    )
    ok = True
    for n_filters in args.filters:
        classic, estimator, gan = time_both(n_filters, data, args.repeats, args.iterations)
        classic_s, estimator_s = statistics.median(classic), statistics.median(estimator)
        record = {
            "n_filters": n_filters,
            "classic_s_per_iter": round(classic_s, 4),
            "estimator_s_per_iter": round(estimator_s, 4),
            "ratio": round(classic_s / estimator_s, 2),
        }
        if n_filters in FLOORS:
            record["floor"] = FLOORS[n_filters]
            record["pass"] = record["ratio"] >= FLOORS[n_filters]
            ok &= record["pass"]
        if n_filters == 128:
            flops = flops_per_iteration(gan.generator_, gan.critic_)
            record["estimator_gflops"] = round(flops / estimator_s / 1e9, 2)
            record["matmul_gflops"] = round(matmul_gflops(), 2)
            record["gflop_per_iter"] = round(flops / 1e9, 2)
        emit(record)
        del gan
        gc.collect()

    # The default estimator (GAN loss, BatchNorm in both networks) with TensorFlow's fused
    # batch-norm kernel against Keras's composite BatchNormalization.
    times = time_batch_norms(data, args.repeats, args.bn_iterations)
    keras_s, fused_s = statistics.median(times["keras"]), statistics.median(times["fused"])
    emit(
        {
            "metric": "default_estimator_batch_norm",
            "keras_batch_norm_s_per_iter": round(keras_s, 4),
            "fused_batch_norm_s_per_iter": round(fused_s, 4),
            "speedup": round(keras_s / fused_s, 3),
            "iterations_per_repeat": args.bn_iterations,
        }
    )

    uncollected = rss_growth(args.fits, collect=False)
    rss = rss_growth(args.fits, collect=True)
    growth = rss[-1] - rss[0]
    emit(
        {
            "metric": "rss_growth_mb",
            "fits": len(rss),
            "rss_first_mb": round(rss[0], 1),
            "rss_last_mb": round(rss[-1], 1),
            "growth_after_first_mb": round(growth, 1),
            "floor_mb": 100,
            "pass": growth < 100,
            "without_gc_collect": {
                "rss_first_mb": round(uncollected[0], 1),
                "rss_max_mb": round(max(uncollected), 1),
                "rss_last_mb": round(uncollected[-1], 1),
            },
        }
    )
    ok &= growth < 100
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
