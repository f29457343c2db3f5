"""The compiled train step: which weights each update moves, clipping, the weight average."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_estimators.gan import losses as _losses
from gan_estimators.gan import networks as _networks
from gan_estimators.gan.optimizers import make_optimizer
from gan_estimators.gan.trainer import GANTrainer, TrainerConfig
from gan_estimators.quality.history import STEP_KEYS


def _trainer(
    loss,
    *,
    network="conv",
    norm="batch",
    n_critic=2,
    n_gen=1,
    optimizer="adam",
    ema_decay=None,
    learning_rates=(1e-3, 1e-3),
    clip_value=0.01,
):
    shape = (8, 8, 1) if network == "conv" else (3,)
    strategy = _losses.make_loss(loss, clip_value=clip_value, gp_weight=10.0, label_noise=0.1)
    activation = strategy.critic_output_activation
    if network == "conv":
        generator = _networks.build_conv_generator(shape, 4, 8, seed=0)
        critic = _networks.build_conv_critic(
            shape, 8, norm=norm, dropout=0.2, output_activation=activation, seed=1
        )
    else:
        generator = _networks.build_mlp_generator(3, 4, 4, seed=0)
        critic = _networks.build_mlp_critic(3, 4, norm=norm, output_activation=activation, seed=1)
    average = None
    if ema_decay is not None:
        average = keras.models.clone_model(generator)
        average.set_weights(generator.get_weights())
    config = TrainerConfig(strategy, 4, 16, n_critic, n_gen, ema_decay)
    trainer = GANTrainer(
        config,
        generator,
        critic,
        *(make_optimizer(optimizer, rate, beta_1=0.5, beta_2=0.9) for rate in learning_rates),
        average_generator=average,
    )
    data = np.random.default_rng(0).uniform(-1, 1, size=(40, *shape)).astype(np.float32)
    return trainer, tf.convert_to_tensor(data)


def _snapshot(model):
    return {v.path: np.array(v.numpy()) for v in model.weights}


def _changed(before, model):
    return {v.path for v in model.weights if not np.array_equal(before[v.path], v.numpy())}


# ------------------------------------------------------------------ update isolation


@pytest.mark.parametrize(
    ("loss", "network", "norm"),
    [("wgan", "conv", "batch"), ("gan", "mlp", "batch"), ("wgan-gp", "conv", "layer")],
)
@pytest.mark.parametrize("trained", ["generator", "critic"])
def test_each_optimizer_changes_only_its_own_networks_weights(loss, network, norm, trained):
    """The Keras 3 `trainable`-flag pitfall (see the reference configuration) would leave
    one side frozen; a leak would let one side's update move the other's weights."""
    rates = (1e-3, 0.0) if trained == "generator" else (0.0, 1e-3)
    # A bound that never binds: clipping changes critic weights without any update.
    trainer, data = _trainer(
        loss, network=network, norm=norm, learning_rates=rates, clip_value=10.0
    )
    frozen = trainer.critic if trained == "generator" else trainer.generator
    moving = trainer.generator if trained == "generator" else trainer.critic
    frozen_before, moving_before = _snapshot(frozen), _snapshot(moving)
    trainer(data)
    kernels = {v.path for v in moving.trainable_variables if v.name == "kernel"}
    assert kernels <= _changed(moving_before, moving), f"the {trained} did not learn"
    # BatchNorm statistics move with forward passes; trained weights only with updates.
    assert {v.path for v in frozen.trainable_variables}.isdisjoint(
        _changed(frozen_before, frozen)
    ), "an update at learning rate 0 changed weights"


def _bn_layers(model):
    return [la for la in model.layers if isinstance(la, keras.layers.BatchNormalization)]


@pytest.mark.parametrize("n_critic", [1, 3])
def test_each_phase_moves_only_its_own_networks_batchnorm_statistics(n_critic):
    """Counted through momentum: from moving means of 1000, ``k`` training-mode passes of a
    layer leave about ``1000 · 0.8^k`` (the batch means are small)."""
    trainer, data = _trainer("wgan", norm="batch", n_critic=n_critic)
    for layer in (*_bn_layers(trainer.generator), *_bn_layers(trainer.critic)):
        layer.moving_mean.assign(np.full(layer.moving_mean.shape, 1000.0, np.float32))
    trainer(data)
    # The generator's one update is its only training-mode pass that counts: the critic
    # phase runs it n_critic times more and restores its statistics.
    for layer in _bn_layers(trainer.generator):
        np.testing.assert_allclose(layer.moving_mean.numpy(), 800.0, atol=1.0)
    # A BatchNorm critic judges real and fake batches in separate passes, 2 per critic
    # update; the generator update's pass through it is undone.
    expected = 1000.0 * 0.8 ** (2 * n_critic)
    for layer in _bn_layers(trainer.critic):
        np.testing.assert_allclose(layer.moving_mean.numpy(), expected, atol=1.0)


def test_full_iteration_trains_both_networks_and_the_flags_stay_true():
    trainer, data = _trainer("wgan-gp", norm="layer")
    g_before, c_before = _snapshot(trainer.generator), _snapshot(trainer.critic)
    values = trainer(data)
    assert set(values) == set(STEP_KEYS)
    assert {v.path for v in trainer.generator.trainable_variables} <= _changed(
        g_before, trainer.generator
    )
    assert {v.path for v in trainer.critic.trainable_variables if v.name == "kernel"} <= _changed(
        c_before, trainer.critic
    )
    assert trainer.generator.trainable and trainer.critic.trainable


@pytest.mark.parametrize("clip", [0.01, 0.05])
def test_clipping_bounds_kernels_and_biases_and_spares_batchnorm(clip):
    strategy = _losses.Wasserstein(clip)
    generator = _networks.build_conv_generator((8, 8, 1), 4, 8, seed=0)
    critic = _networks.build_conv_critic((8, 8, 1), 8, norm="batch", seed=1)
    # Start far outside the bounds so that clipping (not the small update) is tested.
    for variable in _networks.clip_targets(critic):
        variable.assign(np.full(variable.shape, 0.5, np.float32))
    bn_layers = [la for la in critic.layers if isinstance(la, keras.layers.BatchNormalization)]
    for layer in bn_layers:
        layer.moving_mean.assign(np.full(layer.moving_mean.shape, 3.0, np.float32))
        layer.moving_variance.assign(np.full(layer.moving_variance.shape, 5.0, np.float32))
    trainer = GANTrainer(
        TrainerConfig(strategy, latent_dim=4, batch_size=16, n_critic=3, n_gen=1),
        generator,
        critic,
        make_optimizer("rmsprop", 5e-5),
        make_optimizer("rmsprop", 5e-5),
    )
    data = tf.random.stateless_uniform((32, 8, 8, 1), seed=(1, 2), minval=-1, maxval=1)
    trainer(data)
    extremes = []
    for variable in _networks.clip_targets(critic):
        values = np.abs(variable.numpy())
        assert np.all(values <= clip + 1e-7), variable.path
        extremes.append(values.max())
    assert max(extremes) == pytest.approx(clip, rel=1e-5)  # the bound binds
    for layer in bn_layers:
        # Updated by the 3 critic forward passes (momentum 0.8) but never clipped.
        assert np.all(layer.moving_variance.numpy() > 1.0)
        assert np.all(np.abs(layer.moving_mean.numpy()) > 0.5)
        assert np.all(layer.gamma.numpy() > 0.5)  # a trainable scale, not a kernel


# ------------------------------------------------------------------ weight average


def test_generator_average_follows_the_warm_up_rule_every_iteration():
    trainer, data = _trainer("gan", n_critic=1, ema_decay=0.5)
    average = trainer.average_generator
    expected = [w.copy() for w in trainer.generator.get_weights()]
    for t in (1, 2, 3, 20):
        while int(trainer.generator_optimizer.iterations.numpy()) < t:
            trainer(data)
            updates = int(trainer.generator_optimizer.iterations.numpy())
            decay = min(0.5, (1 + updates) / (10 + updates))
            expected = [
                decay * e + (1 - decay) * w
                for e, w in zip(expected, trainer.generator.get_weights(), strict=True)
            ]
    for e, a in zip(expected, average.get_weights(), strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)
    assert not all(
        np.allclose(a, w)
        for a, w in zip(average.get_weights(), trainer.generator.get_weights(), strict=True)
    )
