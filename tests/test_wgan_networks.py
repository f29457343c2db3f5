"""The networks GANEstimator builds: the reference layers, any image size, and every
architecture hyperparameter changing the model it claims to change."""

from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_estimators import GANEstimator, WGANEstimator
from gan_estimators.gan import networks as _networks
from gan_estimators.gan.estimator import REFERENCE_PARAMS


def _class_name(layer):
    # The fused layer computes Keras's BatchNormalization (tested below), only faster.
    if isinstance(layer, keras.layers.BatchNormalization):
        return "BatchNormalization"
    return type(layer).__name__


def _layer_kinds(model):
    return [_class_name(layer) for layer in model.layers]


def _layer_summary(model):
    """(class name, the config entries that define the reference layer) per layer."""
    keys = (
        "units",
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "target_shape",
        "momentum",
        "negative_slope",
        "rate",
        "activation",
        "size",
        "cropping",
    )
    summary = []
    for layer in model.layers:
        config = layer.get_config()
        picked = {k: config[k] for k in keys if k in config}
        if "padding" in picked and isinstance(layer, keras.layers.ZeroPadding2D):
            picked["padding"] = tuple(tuple(p) for p in picked["padding"])
        for k in ("kernel_size", "strides", "target_shape", "size"):
            if k in picked:
                picked[k] = tuple(picked[k])
        summary.append((_class_name(layer), picked))
    return summary


def test_reference_configuration_builds_exactly_the_spec_layers():
    F, alpha = 64, 0.2
    X = np.random.default_rng(0).uniform(0, 255, size=(16, 28, 28)).astype(np.float32)
    gan = WGANEstimator.reference(n_steps=1, batch_size=16, random_state=0).fit(X)

    params = gan.get_params()
    assert params["loss"] == "wgan"
    assert params["optimizer"] == "rmsprop" and params["learning_rate"] == 5e-5
    assert params["clip_value"] == 0.01 and params["n_critic"] == 5
    assert params["latent_dim"] == 100 and params["init_std"] == 0.02
    assert type(gan.critic_optimizer_).__name__ == "RMSprop"
    assert type(gan.generator_optimizer_).__name__ == "RMSprop"
    assert float(gan.critic_optimizer_.learning_rate.numpy()) == pytest.approx(5e-5)

    generator = [
        ("Dense", {"units": F * 7 * 7, "activation": "linear"}),
        ("Reshape", {"target_shape": (7, 7, F)}),
        ("UpSampling2D", {"size": (2, 2)}),
        ("Conv2D", {"filters": F, "kernel_size": (3, 3), "strides": (1, 1), "padding": "same",
                    "activation": "linear"}),
        ("BatchNormalization", {"momentum": 0.8}),
        ("LeakyReLU", {"negative_slope": alpha}),
        ("UpSampling2D", {"size": (2, 2)}),
        ("Conv2D", {"filters": F // 2, "kernel_size": (3, 3), "strides": (1, 1),
                    "padding": "same", "activation": "linear"}),
        ("BatchNormalization", {"momentum": 0.8}),
        ("LeakyReLU", {"negative_slope": alpha}),
        ("Conv2D", {"filters": 1, "kernel_size": (3, 3), "strides": (1, 1), "padding": "same",
                    "activation": "linear"}),
        ("Activation", {"activation": "tanh"}),
    ]  # fmt: skip
    assert _layer_summary(gan.generator_) == generator

    def conv(filters, stride):
        return (
            "Conv2D",
            {"filters": filters, "kernel_size": (3, 3), "strides": (stride, stride),
             "padding": "same", "activation": "linear"},
        )  # fmt: skip

    bn = ("BatchNormalization", {"momentum": 0.8})
    act = ("LeakyReLU", {"negative_slope": alpha})
    drop = ("Dropout", {"rate": 0.25})
    critic = [
        conv(F // 4, 2), act, drop,
        conv(F // 2, 2), ("ZeroPadding2D", {"padding": ((0, 1), (0, 1))}), bn, act, drop,
        conv(F, 2), bn, act, drop,
        conv(2 * F, 1), bn, act, drop,
        ("Flatten", {}),
        ("Dense", {"units": 1, "activation": "linear"}),
    ]  # fmt: skip
    assert _layer_summary(gan.critic_) == critic

    for model in (gan.generator_, gan.critic_):
        for layer in model.layers:
            if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense):
                init = layer.kernel_initializer
                assert isinstance(init, keras.initializers.RandomNormal)
                assert (init.mean, init.stddev) == (0.0, 0.02)
    assert gan.generator_.output_shape == (None, 28, 28, 1)
    assert gan.sample(3, random_state=0).shape == (3, 28, 28)


def test_reference_classmethod_accepts_overrides():
    gan = WGANEstimator.reference(n_filters=16, alpha=0.1, random_state=3)
    assert gan.n_filters == 16 and gan.alpha == 0.1 and gan.random_state == 3
    assert {k: v for k, v in gan.get_params().items() if k in REFERENCE_PARAMS and k not in
            ("n_filters", "alpha")} == {k: v for k, v in REFERENCE_PARAMS.items() if k not in
                                        ("n_filters", "alpha")}  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "padded"),
    [((28, 28, 1), False), ((8, 8, 3), False), ((7, 9, 1), True), ((5, 13, 3), True)],
)
def test_conv_networks_handle_any_side_and_channel_count(shape, padded):
    generator = _networks.build_conv_generator(shape, 4, 8, seed=0)
    critic = _networks.build_conv_critic(shape, 8, norm="layer", seed=1)
    assert generator.output_shape == (None, *shape)
    assert critic.input_shape == (None, *shape)
    assert critic.output_shape == (None, 1)
    names = [layer.name for layer in generator.layers] + [layer.name for layer in critic.layers]
    assert ("g_crop" in names) is padded
    assert ("c_pad_input" in names) is padded
    z = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    images = np.asarray(generator(z, training=False))
    assert images.shape == (2, *shape) and np.all(np.abs(images) <= 1)
    assert np.asarray(critic(images, training=False)).shape == (2, 1)


def test_padded_side_is_next_multiple_of_four():
    assert [_networks.padded_side(s) for s in (1, 4, 5, 7, 8, 28, 30)] == [4, 4, 8, 8, 8, 28, 32]


@pytest.mark.parametrize("n_filters", [4, 16, 24])
def test_n_filters_sets_layer_widths(n_filters):
    generator = _networks.build_conv_generator((8, 8, 1), 4, n_filters, seed=0)
    critic = _networks.build_conv_critic((8, 8, 1), n_filters, seed=0)
    conv = keras.layers.Conv2D
    g_convs = [layer.filters for layer in generator.layers if isinstance(layer, conv)]
    c_convs = [layer.filters for layer in critic.layers if isinstance(layer, conv)]
    assert g_convs == [n_filters, n_filters // 2, 1]
    assert c_convs == [n_filters // 4, n_filters // 2, n_filters, 2 * n_filters]
    assert generator.get_layer("g_dense").units == n_filters * 2 * 2

    mlp_g = _networks.build_mlp_generator(3, 4, n_filters, seed=0)
    mlp_c = _networks.build_mlp_critic(3, n_filters, seed=0)
    assert [layer.units for layer in mlp_g.layers if isinstance(layer, keras.layers.Dense)] == [
        4 * n_filters,
        4 * n_filters,
        3,
    ]
    assert [layer.units for layer in mlp_c.layers if isinstance(layer, keras.layers.Dense)] == [
        4 * n_filters,
        4 * n_filters,
        1,
    ]


@pytest.mark.parametrize("alpha", [0.05, 0.3, 0.5])
def test_alpha_sets_every_leaky_relu_slope_of_both_networks(alpha):
    """The reference decoded α to 0 and its critic ignored it (see the reference
    configuration): not here."""
    for network, shape in (("conv", (8, 8, 1)), ("mlp", (5,))):
        if network == "conv":
            models = (
                _networks.build_conv_generator(shape, 4, 8, alpha=alpha, seed=0),
                _networks.build_conv_critic(shape, 8, alpha=alpha, seed=0),
            )
        else:
            models = (
                _networks.build_mlp_generator(5, 4, 8, alpha=alpha, seed=0),
                _networks.build_mlp_critic(5, 8, alpha=alpha, seed=0),
            )
        for model in models:
            slopes = [
                layer.negative_slope
                for layer in model.layers
                if isinstance(layer, keras.layers.LeakyReLU)
            ]
            assert len(slopes) >= 2
            assert slopes == pytest.approx([alpha] * len(slopes))
        # ...and the slope is used: a negative input comes out scaled by α.
        critic = models[1]
        act = next(layer for layer in critic.layers if isinstance(layer, keras.layers.LeakyReLU))
        assert float(np.asarray(act(np.array([[-1.0]], np.float32)))[0, 0]) == pytest.approx(-alpha)


def test_generator_activation_relu_replaces_leaky_relu():
    generator = _networks.build_conv_generator((8, 8, 1), 4, 8, activation="relu", seed=0)
    kinds = {type(layer).__name__ for layer in generator.layers}
    assert "ReLU" in kinds and "LeakyReLU" not in kinds


@pytest.mark.parametrize("shape", [(28, 28, 1), (10, 7, 3)])
def test_transposed_upsampling_replaces_each_upsample_conv_pair(shape):
    nearest = _networks.build_conv_generator(shape, 4, 8, upsampling="nearest", seed=0)
    transposed = _networks.build_conv_generator(shape, 4, 8, upsampling="transposed", seed=0)
    assert transposed.output_shape == nearest.output_shape == (None, *shape)

    assert _layer_kinds(nearest).count("UpSampling2D") == 2
    assert "UpSampling2D" not in _layer_kinds(transposed)
    tconvs = [
        layer for layer in transposed.layers if isinstance(layer, keras.layers.Conv2DTranspose)
    ]
    assert [(layer.filters, layer.kernel_size, layer.strides) for layer in tconvs] == [
        (8, (4, 4), (2, 2)),
        (4, (4, 4), (2, 2)),
    ]
    # Only the resolution-doubling stages differ: each UpSampling2D, Conv2D pair became one layer.
    paired = " ".join(_layer_kinds(nearest)).replace("UpSampling2D Conv2D", "Conv2DTranspose")
    assert " ".join(_layer_kinds(transposed)) == paired
    z = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    out = np.asarray(transposed(z, training=False))
    assert out.shape == (3, *shape) and np.all(np.abs(out) <= 1.0)


@pytest.mark.parametrize(
    "params, upsampling_layer",
    [({}, "Conv2DTranspose"), ({"upsampling": "nearest"}, "UpSampling2D")],
)
def test_estimator_upsampling_reaches_the_generator(params, upsampling_layer):
    images = np.random.default_rng(0).uniform(size=(16, 8, 8)).astype(np.float32)
    gan = GANEstimator(n_filters=4, n_steps=1, batch_size=8, random_state=0, **params).fit(images)
    kinds = _layer_kinds(gan.generator_)
    assert kinds.count(upsampling_layer) == 2  # the default is the transposed convolution
    assert gan.sample(3, random_state=0).shape == (3, 8, 8)


def test_unknown_upsampling_is_rejected():
    with pytest.raises(ValueError, match="upsampling"):
        _networks.build_conv_generator((8, 8, 1), 4, 8, upsampling="bilinear")


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_critic_norm_selects_normalisation(norm):
    critic = _networks.build_conv_critic((8, 8, 1), 8, norm=norm, seed=0)
    kinds = _layer_kinds(critic)
    expected = {"batch": "BatchNormalization", "layer": "LayerNormalization"}.get(norm)
    for kind in ("BatchNormalization", "LayerNormalization"):
        assert kinds.count(kind) == (3 if kind == expected else 0)
    assert _networks.has_batch_norm(critic) is (norm == "batch")


@pytest.mark.parametrize("rate", [0.0, 0.4])
def test_dropout_sets_critic_dropout_rate(rate):
    critic = _networks.build_conv_critic((8, 8, 1), 8, dropout=rate, seed=0)
    rates = [layer.rate for layer in critic.layers if isinstance(layer, keras.layers.Dropout)]
    assert rates == ([rate] * 4 if rate else [])


@pytest.mark.parametrize("std", [0.02, 0.2])
def test_init_std_sets_kernel_spread(std):
    generator = _networks.build_mlp_generator(2, 16, 64, init_std=std, seed=0)
    kernel = np.asarray(generator.get_layer("g_dense_2").kernel)  # 256 x 256 weights
    assert kernel.std() == pytest.approx(std, rel=0.05)


def test_seeds_make_builds_identical_and_distinct():
    a = _networks.build_conv_critic((8, 8, 1), 8, dropout=0.3, seed=5)
    b = _networks.build_conv_critic((8, 8, 1), 8, dropout=0.3, seed=5)
    c = _networks.build_conv_critic((8, 8, 1), 8, dropout=0.3, seed=6)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])
    # Each layer draws its own seed: no two kernels of one model are alike.
    kernels = [layer.kernel for layer in a.layers if isinstance(layer, keras.layers.Conv2D)]
    assert not np.array_equal(np.asarray(kernels[2])[..., :4], np.asarray(kernels[3])[..., :4])


def test_clip_targets_are_trainable_kernels_and_biases_only():
    critic = _networks.build_conv_critic((8, 8, 1), 8, norm="batch", seed=0)
    targets = _networks.clip_targets(critic)
    assert {v.name for v in targets} == {"kernel", "bias"}
    assert len(targets) == 2 * 5  # 4 convolutions + the dense output
    target_ids = {id(v) for v in targets}
    for layer in critic.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            for variable in (layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance):
                assert id(variable) not in target_ids


def test_estimator_parameters_reach_the_networks():
    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    gan = GANEstimator(
        n_filters=3,
        latent_dim=5,
        alpha=0.35,
        dropout=0.1,
        critic_norm="layer",
        generator_activation="relu",
        n_steps=1,
        batch_size=10,
        random_state=0,
    ).fit(X)
    assert gan.network_ == "mlp"
    assert gan.generator_.input_shape == (None, 5)
    assert gan.generator_.get_layer("g_dense_1").units == 12
    assert isinstance(gan.generator_.get_layer("g_act_1"), keras.layers.ReLU)
    assert gan.critic_.get_layer("c_act_1").negative_slope == pytest.approx(0.35)
    assert gan.critic_.get_layer("c_dropout_1").rate == pytest.approx(0.1)
    assert isinstance(gan.critic_.get_layer("c_norm_1"), keras.layers.LayerNormalization)


@pytest.mark.parametrize("critic_width, critic_filters", [(1.0, 8), (2.0, 16), (0.5, 4), (0.01, 1)])
def test_critic_width_scales_only_the_critic(critic_width, critic_filters):
    images = np.random.default_rng(0).uniform(size=(16, 12, 12)).astype(np.float32)
    gan = GANEstimator(
        n_filters=8, critic_width=critic_width, n_steps=1, batch_size=8, random_state=0
    ).fit(images)
    conv_widths = [layer.filters for layer in gan.critic_.layers if hasattr(layer, "filters")]
    assert conv_widths == [
        max(1, critic_filters // 4),
        max(1, critic_filters // 2),
        critic_filters,
        2 * critic_filters,
    ]
    generator = gan.generator_
    generator_filters = [layer.filters for layer in generator.layers if hasattr(layer, "filters")]
    assert generator_filters[:2] == [8, 4]  # the generator keeps F

    rows = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    gan = GANEstimator(
        n_filters=8, critic_width=critic_width, n_steps=1, batch_size=8, random_state=0
    ).fit(rows)
    assert gan.critic_.get_layer("c_dense_1").units == 4 * critic_filters
    assert gan.generator_.get_layer("g_dense_1").units == 32


def _batch_norm_pair(shape, seed=0):
    """A Keras BatchNormalization and the fused layer, with the same random weights."""
    rng = np.random.default_rng(seed)
    keras_layer = keras.layers.BatchNormalization(momentum=_networks.BN_MOMENTUM)
    fused_layer = _networks.FusedBatchNormalization(momentum=_networks.BN_MOMENTUM)
    for layer in (keras_layer, fused_layer):
        layer.build(shape)
    channels = shape[-1]
    weights = [
        rng.uniform(0.5, 2.0, channels),  # gamma
        rng.normal(0.0, 1.0, channels),  # beta
        rng.normal(0.0, 1.0, channels),  # moving mean
        rng.uniform(0.5, 2.0, channels),  # moving variance
    ]
    for layer in (keras_layer, fused_layer):
        layer.set_weights([w.astype(np.float32) for w in weights])
    return keras_layer, fused_layer


def _train_call_with_gradients(layer, x, upstream):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * upstream)
    grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
    return y, grads


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 6),
    height=st.integers(1, 5),
    width=st.integers(1, 5),
    channels=st.integers(1, 4),
    scale=st.floats(0.01, 100.0),
    seed=st.integers(0, 2**16),
)
def test_fused_batch_norm_computes_keras_batch_norm(batch, height, width, channels, scale, seed):
    shape = (batch, height, width, channels)
    keras_layer, fused_layer = _batch_norm_pair(shape, seed)
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(1.0, scale, shape).astype(np.float32))
    upstream = tf.constant(rng.normal(0.0, 1.0, shape).astype(np.float32))

    expected, expected_grads = _train_call_with_gradients(keras_layer, x, upstream)
    kernel = tf.compat.v1.nn.fused_batch_norm
    with mock.patch.object(tf.compat.v1.nn, "fused_batch_norm", wraps=kernel) as spy:
        actual, actual_grads = _train_call_with_gradients(fused_layer, x, upstream)
    assert spy.call_count == 1

    tolerance = {"rtol": 1e-3, "atol": 1e-3}
    np.testing.assert_allclose(actual, expected, **tolerance)
    for got, want in zip(actual_grads, expected_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * (1.0 + np.abs(want).max()))
    # The moving statistics follow Keras's rule (biased batch variance, momentum 0.8) ...
    for name in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(
            getattr(fused_layer, name), getattr(keras_layer, name), rtol=1e-4, atol=1e-6 * scale**2
        )
    # ... so inference afterwards agrees too.
    np.testing.assert_allclose(
        fused_layer(x, training=False), keras_layer(x, training=False), **tolerance
    )


def test_fused_batch_norm_leaves_other_inputs_to_keras():
    # Tabular rows (the MLP critic's BatchNorm) take Keras's own code path: identical results.
    keras_layer, fused_layer = _batch_norm_pair((8, 3))
    x = tf.constant(np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32))
    kernel = tf.compat.v1.nn.fused_batch_norm
    with mock.patch.object(tf.compat.v1.nn, "fused_batch_norm", wraps=kernel) as spy:
        actual = fused_layer(x, training=True)
    assert spy.call_count == 0
    np.testing.assert_array_equal(actual, keras_layer(x, training=True))
    np.testing.assert_array_equal(fused_layer.moving_variance, keras_layer.moving_variance)


def test_networks_use_the_fused_batch_norm_and_save_it(tmp_path):
    generator = _networks.build_conv_generator((8, 8, 1), 4, 8, seed=0)
    critic = _networks.build_conv_critic((8, 8, 1), 8, norm="batch", seed=0)
    for model in (generator, critic):
        fused = [la for la in model.layers if isinstance(la, _networks.FusedBatchNormalization)]
        assert len(fused) == (2 if model is generator else 3)

    path = tmp_path / "generator.keras"
    generator.save(path)
    loaded = keras.saving.load_model(path)
    assert [type(la) for la in loaded.layers] == [type(la) for la in generator.layers]
    z = np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded(z, training=False), generator(z, training=False))
