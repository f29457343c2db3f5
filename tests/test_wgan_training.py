"""What the training hyperparameters of GANEstimator do, and that WGANEstimator trains as
GANEstimator with its own defaults (the train step: test_wgan_trainer.py)."""

import math
import random
import re
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_estimators import GANEstimator, WGANEstimator
from gan_estimators.gan import losses as _losses
from gan_estimators.gan import networks as _networks
from gan_estimators.gan._config import WGAN_DEFAULTS
from gan_estimators.gan.settings import resolve_settings
from gan_estimators.quality.history import HISTORY_KEYS, STEP_KEYS


def _blobs(n=64, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


# ------------------------------------------------------------------ clipping


def test_estimator_clip_value_sets_the_bounds():
    X = _blobs()
    for clip in (0.003, 0.08):
        # A wide initialisation, so that the bound binds from the first update.
        gan = GANEstimator(
            loss="wgan", clip_value=clip, init_std=1.0, n_steps=3, batch_size=16, n_filters=2,
            random_state=0,
        ).fit(X)  # fmt: skip
        extreme = max(np.abs(v.numpy()).max() for v in _networks.clip_targets(gan.critic_))
        assert extreme <= clip + 1e-7
        assert extreme == pytest.approx(clip, rel=1e-5)


# ------------------------------------------------------------------ gradient penalty


@pytest.mark.parametrize("shape", [(64, 3), (64, 4, 4, 2)])
def test_gradient_penalty_interpolates_with_one_uniform_epsilon_per_sample(shape):
    rng = tf.random.Generator.from_seed(0)
    real = tf.random.stateless_normal(shape, seed=(1, 1))
    fake = tf.random.stateless_normal(shape, seed=(2, 2))
    x_hat, epsilon = _losses.interpolate(real, fake, rng)
    epsilon = epsilon.numpy()
    assert epsilon.shape == (shape[0],) + (1,) * (len(shape) - 1)
    assert np.all((epsilon >= 0) & (epsilon < 1))
    assert len(np.unique(epsilon)) == shape[0]  # one draw per sample, not per batch
    assert 0.15 < epsilon.std() < 0.45  # U(0, 1) has std 0.29
    np.testing.assert_allclose(
        x_hat.numpy(), epsilon * real.numpy() + (1 - epsilon) * fake.numpy(), rtol=1e-6
    )


def test_gradient_penalty_uses_each_samples_own_gradient_norm():
    """With D(x) = ‖x‖²/2, ∇D(x̂ᵢ) = x̂ᵢ: the penalty must average (‖x̂ᵢ‖ − 1)² over i."""
    critic = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Lambda(lambda x: 0.5 * tf.reduce_sum(x * x, axis=1, keepdims=True)),
        ]
    )
    real = tf.random.stateless_normal((32, 3), seed=(3, 3))
    fake = tf.random.stateless_normal((32, 3), seed=(4, 4)) * 2.0
    strategy = _losses.WassersteinGP(gp_weight=10.0)

    _, epsilon = _losses.interpolate(real, fake, tf.random.Generator.from_seed(7))
    x_hat = epsilon * real + (1 - epsilon) * fake
    _, _, norms = _losses.scores_and_gradient_norms(critic, real, fake, x_hat)
    np.testing.assert_allclose(norms.numpy(), np.linalg.norm(x_hat.numpy(), axis=1), rtol=1e-5)

    _, _, penalty = strategy.critic_losses(critic, real, fake, tf.random.Generator.from_seed(7))
    expected = 10.0 * np.mean((np.linalg.norm(x_hat.numpy(), axis=1) - 1.0) ** 2)
    assert float(penalty) == pytest.approx(expected, rel=1e-5)

    _, _, doubled = _losses.WassersteinGP(20.0).critic_losses(
        critic, real, fake, tf.random.Generator.from_seed(7)
    )
    assert float(doubled) == pytest.approx(2 * expected, rel=1e-5)


def test_penalty_is_reported_only_for_wgan_gp():
    X = _blobs()
    for loss in ("wgan-gp", "wgan", "gan"):
        gan = GANEstimator(loss=loss, n_steps=2, batch_size=16, n_filters=2, random_state=0)
        history = gan.fit(X).history_
        assert (max(history["gradient_penalty"]) > 0) is (loss == "wgan-gp")


def test_batchnorm_critic_is_rejected_with_gradient_penalty():
    with pytest.raises(ValueError, match="critic_norm='batch'"):
        GANEstimator(loss="wgan-gp", critic_norm="batch", n_steps=1).fit(_blobs())
    gan = GANEstimator(
        loss="wgan-gp", network="conv", n_filters=4, n_steps=1, batch_size=16, random_state=0
    )
    gan.fit(np.random.default_rng(0).uniform(size=(16, 8, 8)))
    assert not _networks.has_batch_norm(gan.critic_)


# ------------------------------------------------------------------ vanilla GAN


def test_label_noise_draws_targets_in_the_documented_ranges():
    rng = tf.random.Generator.from_seed(0)
    scores = tf.zeros((2000, 1))
    noisy = _losses.VanillaGAN(0.2)
    real = noisy._targets(scores, 1.0, rng).numpy()
    fake = noisy._targets(scores, 0.0, rng).numpy()
    assert real.min() >= 0.8 and real.max() <= 1.0 and real.std() > 0.03
    assert fake.min() >= 0.0 and fake.max() <= 0.2 and fake.std() > 0.03
    clean = _losses.VanillaGAN(0.0)
    assert np.all(clean._targets(scores, 1.0, rng).numpy() == 1.0)
    assert np.all(clean._targets(scores, 0.0, rng).numpy() == 0.0)


def test_label_noise_true_means_point_two_and_changes_training():
    X = _blobs()
    kwargs = {"loss": "gan", "n_steps": 3, "batch_size": 16, "n_filters": 2, "random_state": 0}
    clean = GANEstimator(label_noise=0.0, **kwargs).fit(X).history_["critic_loss"]
    noisy = GANEstimator(label_noise=True, **kwargs).fit(X).history_["critic_loss"]
    assert clean != noisy
    params = GANEstimator(label_noise=True).get_params()
    assert resolve_settings(params, "tabular").loss.label_noise == 0.2


def test_vanilla_gan_critic_outputs_probabilities():
    gan = GANEstimator(loss="gan", n_steps=1, batch_size=16, n_filters=2, random_state=0)
    gan.fit(_blobs())
    scores = np.asarray(gan.critic_(_blobs(8), training=False))
    assert np.all((scores > 0) & (scores < 1))
    assert gan.critic_.layers[-1].get_config()["activation"] == "sigmoid"


# ------------------------------------------------------------------ training hyperparameters


@pytest.mark.parametrize(("n_critic", "n_gen"), [(1, 1), (3, 2)])
def test_n_critic_and_n_gen_set_updates_per_iteration(n_critic, n_gen):
    gan = GANEstimator(
        n_critic=n_critic, n_gen=n_gen, n_steps=4, batch_size=16, n_filters=2, random_state=0
    ).fit(_blobs())
    assert int(gan.critic_optimizer_.iterations.numpy()) == 4 * n_critic
    assert int(gan.generator_optimizer_.iterations.numpy()) == 4 * n_gen


def test_learning_rates_and_optimizer_reach_the_optimizers():
    X = _blobs()
    gan = GANEstimator(
        learning_rate=3e-3, critic_learning_rate=7e-4, beta_1=0.0, beta_2=0.8, n_steps=1,
        batch_size=16, n_filters=2, random_state=0,
    ).fit(X)  # fmt: skip
    assert float(gan.generator_optimizer_.learning_rate.numpy()) == pytest.approx(3e-3)
    assert float(gan.critic_optimizer_.learning_rate.numpy()) == pytest.approx(7e-4)
    assert (gan.critic_optimizer_.beta_1, gan.critic_optimizer_.beta_2) == (0.0, 0.8)
    for name, cls in (("rmsprop", "RMSprop"), ("sgd", "SGD"), ("adam", "Adam")):
        gan = GANEstimator(optimizer=name, n_steps=1, batch_size=16, n_filters=2).fit(X)
        assert type(gan.critic_optimizer_).__name__ == cls
        assert type(gan.generator_optimizer_).__name__ == cls


def test_learning_rate_scales_the_first_update():
    """Adam's first step moves each weight by about lr: lr really reaches the update."""
    X = _blobs()
    moves = []
    for lr in (1e-4, 1e-3):
        gan = GANEstimator(
            learning_rate=lr, n_steps=1, n_critic=1, batch_size=16, n_filters=4, random_state=0
        )
        gan.set_params(n_steps=1).fit(X)
        first = np.array(gan.generator_.get_layer("g_out").kernel.numpy())
        gan.set_params(warm_start=True).fit(X)
        moves.append(np.abs(gan.generator_.get_layer("g_out").kernel.numpy() - first).max())
    assert moves[1] / moves[0] == pytest.approx(10, rel=0.3)


def test_batch_size_is_used_and_clamped_with_a_warning():
    gan = GANEstimator(batch_size=8, n_steps=1, n_filters=2, random_state=0).fit(_blobs(20))
    assert gan.batch_size_ == 8
    with pytest.warns(UserWarning, match=r"batch_size=64 is larger than the number of samples"):
        gan = GANEstimator(batch_size=64, n_steps=1, n_filters=2, random_state=0).fit(_blobs(5))
    assert gan.batch_size_ == 5


def test_budget_n_steps_epochs_and_max_time():
    X = _blobs(40)
    kwargs = {"batch_size": 8, "n_critic": 1, "n_filters": 2, "random_state": 0}
    assert GANEstimator(n_steps=3, **kwargs).fit(X).n_steps_ == 3
    # One epoch = ceil(40 / (8 * 1)) = 5 generator iterations.
    assert GANEstimator(n_steps=None, epochs=2, **kwargs).fit(X).n_steps_ == 10
    assert GANEstimator(n_steps=4, epochs=2, **kwargs).fit(X).n_steps_ == 4  # first limit
    tiny = GANEstimator(n_steps=1000, max_time=1e-6, **kwargs).fit(X)
    assert tiny.n_steps_ == 1  # at least one iteration always runs
    # Continue the traced estimator for one second of iterations.
    tiny.set_params(n_steps=None, max_time=1.0, warm_start=True).fit(X)
    elapsed = np.asarray(tiny.history_["elapsed"]) - tiny.history_["elapsed"][0]
    assert tiny.n_steps_ > 2
    assert elapsed[-1] >= 1.0 > elapsed[-2]  # stopped at the first check past the limit


def test_history_has_one_entry_per_iteration_and_consistent_terms():
    gan = GANEstimator(n_steps=5, batch_size=16, n_filters=2, random_state=0).fit(_blobs())
    history = gan.history_
    assert set(history) == set(HISTORY_KEYS)
    assert all(len(values) == 5 for values in history.values())
    assert history["step"] == [1, 2, 3, 4, 5]
    assert all(isinstance(v, float) for key in set(HISTORY_KEYS) - {"step"} for v in history[key])
    total = np.add(history["critic_real"], history["critic_fake"])
    np.testing.assert_allclose(
        history["critic_loss"], total + np.asarray(history["gradient_penalty"]), rtol=1e-4
    )
    assert np.all(np.diff(history["elapsed"]) > 0)
    assert min(history["critic_grad_norm"]) > 0 and min(history["generator_grad_norm"]) > 0
    pd = pytest.importorskip("pandas")
    assert pd.DataFrame(history).shape == (5, len(HISTORY_KEYS))


def test_normalized_losses_are_the_reference_min_max_signal():
    gan = GANEstimator(n_steps=6, batch_size=16, n_filters=2, random_state=0).fit(_blobs())
    normalized = gan.normalized_losses()
    assert set(normalized) == {"critic_real", "critic_fake", "generator_loss", "mean"}
    for key in ("critic_real", "critic_fake", "generator_loss"):
        values = normalized[key]
        assert values.shape == (6,)
        assert values.min() == pytest.approx(0.0) and values.max() == pytest.approx(1.0)
        raw = np.asarray(gan.history_[key])
        np.testing.assert_allclose(values, (raw - raw.min()) / (raw.max() - raw.min()))
    np.testing.assert_allclose(
        normalized["mean"],
        (normalized["critic_real"] + normalized["critic_fake"] + normalized["generator_loss"]) / 3,
    )
    gan.history_["critic_fake"] = [2.0] * 6  # a constant series normalises to 0, not NaN
    assert np.all(gan.normalized_losses()["critic_fake"] == 0)


def test_diverging_training_stops_with_a_warning():
    gan = GANEstimator(
        loss="wgan", optimizer="sgd", learning_rate=1e30, clip_value=1e30, n_steps=50,
        batch_size=16, n_filters=2, random_state=0,
    )  # fmt: skip
    with pytest.warns(RuntimeWarning, match="diverged"):
        gan.fit(_blobs())
    assert gan.n_steps_ < 50
    assert not all(math.isfinite(gan.history_[key][-1]) for key in STEP_KEYS)


# ------------------------------------------------------------------ warm start


def test_warm_start_and_partial_fit_continue_the_same_networks():
    X = _blobs()
    gan = GANEstimator(n_steps=2, batch_size=16, n_filters=2, random_state=0).fit(X)
    generator, critic = gan.generator_, gan.critic_
    weights = [w.copy() for w in generator.get_weights()]

    gan.set_params(warm_start=True).fit(X)
    assert gan.generator_ is generator and gan.critic_ is critic
    assert gan.n_steps_ == 4 and gan.history_["step"] == [1, 2, 3, 4]
    assert int(gan.critic_optimizer_.iterations.numpy()) == 4 * gan.n_critic
    assert any(
        not np.array_equal(a, b) for a, b in zip(weights, generator.get_weights(), strict=True)
    )
    assert gan.history_["elapsed"][2] > gan.history_["elapsed"][1]

    gan.partial_fit(X)
    assert gan.generator_ is generator and gan.n_steps_ == 6

    gan.set_params(learning_rate=1e-5).partial_fit(X)  # optimizer change, no rebuild
    assert float(gan.generator_optimizer_.learning_rate.numpy()) == pytest.approx(1e-5)
    assert gan.generator_ is generator and gan.n_steps_ == 8

    gan.set_params(warm_start=False).fit(X)
    assert gan.generator_ is not generator and gan.n_steps_ == 2


def test_partial_fit_starts_like_fit_and_checks_the_data_shape():
    X = _blobs()
    gan = GANEstimator(n_steps=2, batch_size=16, n_filters=2, random_state=0)
    gan.partial_fit(X)
    assert gan.n_steps_ == 2 and gan.n_features_in_ == 3
    with pytest.raises(ValueError, match="features"):
        gan.partial_fit(_blobs(d=4))
    with pytest.raises(ValueError, match="fitted on"):
        gan.partial_fit(np.zeros((10, 8, 8)))


def test_warm_start_refuses_an_architecture_change():
    X = _blobs()
    gan = GANEstimator(n_steps=1, batch_size=16, n_filters=2, warm_start=True, random_state=0)
    gan.fit(X)
    with pytest.raises(ValueError, match="n_filters"):
        gan.set_params(n_filters=4).fit(X)
    with pytest.raises(ValueError, match="critic_width"):
        gan.set_params(n_filters=2, critic_width=3.0).fit(X)

    images = np.random.default_rng(0).uniform(size=(16, 8, 8)).astype(np.float32)
    gan = GANEstimator(n_steps=1, batch_size=8, n_filters=2, warm_start=True, random_state=0)
    gan.set_params(upsampling="nearest").fit(images)
    with pytest.raises(ValueError, match="upsampling"):
        gan.set_params(upsampling="transposed").fit(images)


def test_data_range_of_the_first_fit_is_kept_when_continuing():
    X = _blobs()
    gan = GANEstimator(n_steps=1, batch_size=16, n_filters=2, random_state=0).fit(X)
    low = gan.data_min_.copy()
    gan.partial_fit(X * 10)
    np.testing.assert_array_equal(gan.data_min_, low)


# ------------------------------------------------------------------ weight average


def _unscaled_generator_output(gan, generator, n, seed):
    z = np.random.RandomState(seed).standard_normal((n, gan.latent_dim)).astype(np.float32)
    return gan._data_layout_.unscale(np.asarray(generator(z, training=False)))


def test_sample_uses_the_averaged_generator_and_none_turns_it_off():
    X = _blobs()
    averaged = GANEstimator(n_steps=5, batch_size=16, n_filters=2, random_state=0).fit(X)
    assert averaged.ema_decay == 0.99 and averaged.generator_ema_ is not averaged.generator_
    np.testing.assert_allclose(
        averaged.sample(7, random_state=2),
        _unscaled_generator_output(averaged, averaged.generator_ema_, 7, 2),
        rtol=1e-6,
    )
    assert not np.allclose(
        averaged.sample(7, random_state=2),
        _unscaled_generator_output(averaged, averaged.generator_, 7, 2),
    )

    last = GANEstimator(n_steps=5, batch_size=16, n_filters=2, ema_decay=None, random_state=0)
    last.fit(X)
    assert not hasattr(last, "generator_ema_")
    np.testing.assert_allclose(
        last.sample(7, random_state=2),
        _unscaled_generator_output(last, last.generator_, 7, 2),
        rtol=1e-6,
    )
    # The average changes only what is sampled, not how the networks train.
    assert last.history_["generator_loss"] == averaged.history_["generator_loss"]


def test_continuing_a_fit_starts_or_drops_the_average():
    X = _blobs()
    gan = GANEstimator(n_steps=3, batch_size=16, n_filters=2, ema_decay=None, random_state=0)
    gan.fit(X)
    gan.set_params(ema_decay=0.9).partial_fit(X)
    assert gan.n_steps_ == 6 and hasattr(gan, "generator_ema_")
    gan.set_params(ema_decay=None).partial_fit(X)
    assert not hasattr(gan, "generator_ema_")
    np.testing.assert_allclose(
        gan.sample(4, random_state=0),
        _unscaled_generator_output(gan, gan.generator_, 4, 0),
        rtol=1e-6,
    )


# ------------------------------------------------------------------ randomness


def test_same_random_state_gives_identical_fits_and_samples():
    X = _blobs()
    kwargs = {"loss": "wgan", "critic_norm": "batch", "dropout": 0.3, "n_steps": 4,
              "batch_size": 16, "n_filters": 3}  # fmt: skip
    a = GANEstimator(random_state=7, **kwargs).fit(X)
    b = GANEstimator(random_state=7, **kwargs).fit(X)
    c = GANEstimator(random_state=8, **kwargs).fit(X)
    np.testing.assert_array_equal(a.sample(50, random_state=1), b.sample(50, random_state=1))
    assert a.history_["critic_loss"] == b.history_["critic_loss"]
    assert not np.array_equal(a.sample(50, random_state=1), c.sample(50, random_state=1))
    # sample's own random_state: same seed, same draw; different seed, different draw.
    np.testing.assert_array_equal(a.sample(5, random_state=3), a.sample(5, random_state=3))
    assert not np.array_equal(a.sample(5, random_state=3), a.sample(5, random_state=4))
    rs = np.random.RandomState(0)
    assert not np.array_equal(a.sample(5, random_state=rs), a.sample(5, random_state=rs))


@pytest.mark.slow
def test_same_random_state_gives_identical_conv_fits():
    X = np.random.default_rng(0).uniform(0, 16, size=(32, 8, 8))
    kwargs = {"n_filters": 4, "dropout": 0.2, "n_steps": 2, "batch_size": 16, "random_state": 3}
    a = GANEstimator(**kwargs).fit(X).sample(10, random_state=0)
    b = GANEstimator(**kwargs).fit(X).sample(10, random_state=0)
    np.testing.assert_array_equal(a, b)


def test_fitting_and_sampling_never_touch_global_generators():
    np_state = np.random.get_state()  # noqa: NPY002 (the legacy global state is the point)
    py_state = random.getstate()
    tf_global = tf.random.get_global_generator()
    tf_state = tf_global.state.numpy().copy()
    gan = GANEstimator(n_steps=2, batch_size=16, n_filters=2, random_state=None).fit(_blobs())
    gan.sample(5)
    GANEstimator(n_steps=1, batch_size=16, n_filters=2, random_state=1).fit(_blobs())
    assert random.getstate() == py_state
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]
    np.testing.assert_array_equal(tf_global.state.numpy(), tf_state)


# ------------------------------------------------------------------ the Wasserstein class


def test_wgan_estimator_trains_as_gan_estimator_with_the_wasserstein_defaults():
    X = _blobs()
    small = {"n_steps": 2, "batch_size": 16, "n_filters": 2, "random_state": 0}
    wgan = WGANEstimator(**small).fit(X)
    same = GANEstimator(**{**WGAN_DEFAULTS, **small}).fit(X)
    assert wgan.history_["critic_loss"] == same.history_["critic_loss"]
    assert wgan.history_["generator_loss"] == same.history_["generator_loss"]
    np.testing.assert_array_equal(wgan.sample(5, random_state=1), same.sample(5, random_state=1))
    # A Wasserstein critic: a linear score, not the vanilla GAN's probability.
    assert wgan.critic_.layers[-1].get_config()["activation"] == "linear"


# ------------------------------------------------------------------ output and verbosity


def test_sample_is_shaped_and_scaled_like_the_training_data():
    X = _blobs() * np.array([1.0, 100.0, 0.01], dtype=np.float32) + 50
    gan = GANEstimator(n_steps=2, batch_size=16, n_filters=2, random_state=0).fit(X)
    samples = gan.sample(2000, random_state=0)
    assert samples.shape == (2000, 3) and samples.dtype == np.float32
    assert gan.sample(0).shape == (0, 3)
    # Untrained samples sit near the middle of each feature's training range.
    centre = (X.min(axis=0) + X.max(axis=0)) / 2
    spread = X.max(axis=0) - X.min(axis=0)
    assert np.all(np.abs(samples.mean(axis=0) - centre) < spread / 2)
    with pytest.raises(ValueError, match="n must be"):
        gan.sample(-1)
    with pytest.raises(ValueError, match="n must be"):
        gan.sample(2.5)


def test_verbose_zero_prints_nothing_and_verbose_shows_a_progress_bar(capsys):
    X = _blobs()
    GANEstimator(n_steps=3, batch_size=16, n_filters=2, verbose=0, random_state=0).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    for cls in (GANEstimator, WGANEstimator):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tqdm may warn about the captured terminal
            cls(n_steps=3, batch_size=16, n_filters=2, verbose=1, random_state=0).fit(X)
        captured = capsys.readouterr()
        text = captured.out + captured.err
        # The bar names the class that trains.
        assert re.search(rf"(?<!\w){cls.__name__}", text) and "3/3" in text, text
        assert "critic=" in text and "generator=" in text and "step=3" in text
