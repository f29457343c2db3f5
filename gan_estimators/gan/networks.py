"""Builders of the generator / critic pairs used by :class:`~gan_estimators.GANEstimator`
(and so by :class:`~gan_estimators.WGANEstimator`).

Two families:

* the reference DCGAN pair of the reference configuration
  (``docs/user_guide/reference_configuration.rst``) for images (:func:`build_conv_generator`,
  :func:`build_conv_critic`), generalised to any height, width and channel count: a side
  that is not a multiple of 4 is padded up inside the networks (the generator crops its
  output back, the critic zero-pads its input), so callers never see the padded size;
* a small MLP pair for tabular data (:func:`build_mlp_generator`, :func:`build_mlp_critic`).

Given ``n_classes``, each builder returns the class-conditional network of the same layers
(:mod:`.conditioning`): a generator taking ``[z, label]`` and a projection critic taking
``[sample, label]``.

Every layer gets an explicit name and every random initialiser / dropout layer an explicit
seed, so that two builds from the same seeds are identical and nothing depends on Keras's
global name counters or global seed generator.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_estimators._random import derive_seed, draw_seed
from gan_estimators.gan._config import UPSAMPLINGS
from gan_estimators.gan.conditioning import (
    conditional_generator,
    projection_critic,
)
from gan_estimators.gan.table_output import TableOutput

#: BatchNormalization momentum of the reference networks (Keras convention: weight of the
#: old moving average).
BN_MOMENTUM = 0.8


@keras.saving.register_keras_serializable(package="gan_estimators")
class FusedBatchNormalization(layers.BatchNormalization):
    """Keras ``BatchNormalization`` whose training-mode call on images runs TensorFlow's fused
    kernel.

    Keras 3 normalises a batch with separate moment, subtraction and scaling operations and
    differentiates through each of them; TensorFlow's fused batch-norm kernel does the same
    computation, forward and backward, in one operation each, which makes an iteration of
    the convolutional networks faster (``bench/train_throughput.py`` measures it).
    The layer keeps Keras's semantics and weights: the batch is normalised with its biased
    variance, and the moving statistics follow Keras's update rule with that variance.  Any
    other case (inference, a mask, renormalisation, non-image inputs, another dtype or
    backend) runs the parent's call unchanged.  Networks saved with Keras's own layer load
    with it and compute the same, only slower to train.
    """

    def _fused_applies(self, inputs, training, mask):
        return (
            isinstance(training, bool | np.bool_)
            and bool(training)
            and self.trainable
            and mask is None
            and not self.renorm
            and self.center
            and self.scale
            and len(inputs.shape) == 4
            and self.axis in (3, -1)
            and inputs.dtype == "float32"
            and self.compute_dtype == "float32"
            and keras.backend.backend() == "tensorflow"
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fused_applies(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        outputs, mean, unbiased_variance = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            tf.convert_to_tensor(self.gamma),
            tf.convert_to_tensor(self.beta),
            epsilon=self.epsilon,
            is_training=True,
        )
        # The kernel reports the variance with Bessel's correction; Keras averages the
        # biased one, which is also what the batch was normalised with.
        # A single value per channel has no unbiased variance (the kernel divides by 0).
        count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), unbiased_variance.dtype)
        variance = tf.where(
            count > 1.0, unbiased_variance * (count - 1.0) / count, tf.zeros_like(mean)
        )
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + variance * (1.0 - momentum))
        return outputs


def _batch_norm(name):
    return FusedBatchNormalization(momentum=BN_MOMENTUM, name=name)


class _SeedStream:
    """Hands out distinct integer seeds for Keras initialisers and dropout layers."""

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)

    def __call__(self):
        return draw_seed(self._rng)


def _kernel_init(std, seeds):
    if std is None:
        return keras.initializers.GlorotUniform(seed=seeds())
    return keras.initializers.RandomNormal(mean=0.0, stddev=std, seed=seeds())


def _dense(units, init_std, seeds, name, *, activation=None):
    """A Dense layer with the package's kernel initialiser (drawing the next seed)."""
    return layers.Dense(
        units, activation=activation, kernel_initializer=_kernel_init(init_std, seeds), name=name
    )


def padded_side(side):
    """Smallest multiple of 4 that is at least ``side``.

    The reference generator upsamples twice by 2 from an ``side/4`` seed, so it can only
    produce sides that are multiples of 4; other sides are produced padded and cropped back.
    """
    return int(-(-side // 4) * 4)


def _split_padding(total):
    # Put the odd pixel at the end, matching how the generator's crop is undone.
    return (total // 2, total - total // 2)


def _hidden_activation(kind, alpha, name):
    if kind == "relu":
        return layers.ReLU(name=name)
    return layers.LeakyReLU(negative_slope=alpha, name=name)


def _generator(model_layers, n_classes, seeds):
    """The generator of ``model_layers`` (its input first): conditional given ``n_classes``."""
    if n_classes is None:
        return keras.Sequential(model_layers, name="generator")
    return conditional_generator(model_layers[0], model_layers[1:], n_classes, seed=seeds())


def _critic(model_layers, init_std, seeds, output_activation, n_classes):
    """The critic of ``model_layers`` (its input first, its features last) completed with
    its ``Dense(1)`` output: a projection critic given ``n_classes``."""
    if n_classes is None:
        model_layers.append(_dense(1, init_std, seeds, "c_out", activation=output_activation))
        return keras.Sequential(model_layers, name="critic")
    output = _dense(1, init_std, seeds, "c_out")
    return projection_critic(
        model_layers[0],
        model_layers[1:],
        output,
        n_classes,
        activation=output_activation,
        initializer=_kernel_init(init_std, seeds),
    )


def _critic_norm(kind, name):
    if kind == "batch":
        return _batch_norm(name)
    if kind == "layer":
        return layers.LayerNormalization(name=name)
    return None


def build_conv_generator(
    image_shape,
    latent_dim,
    n_filters,
    *,
    alpha=0.2,
    activation="leaky_relu",
    upsampling="nearest",
    init_std=0.02,
    seed=0,
    n_classes=None,
):
    """DCGAN generator of the reference configuration for images of shape ``image_shape``.

    Dense(F·s_h·s_w) → Reshape(s_h, s_w, F) → UpSampling2D → Conv2D(F, 3, same) →
    BatchNorm(0.8) → activation → UpSampling2D → Conv2D(F/2, 3, same) → BatchNorm(0.8) →
    activation → Conv2D(channels, 3, same) → tanh, where ``s = padded_side / 4``; a final
    Cropping2D is added only when a side is not a multiple of 4.  With
    ``upsampling="transposed"`` each UpSampling2D → Conv2D pair is one
    Conv2DTranspose(·, 4, stride 2, same) with the same filter count.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width, channels)`` of the images to generate.
    latent_dim : int
        Size of the latent vector ``z``.
    n_filters : int
        Base filter count ``F``.
    alpha : float, default=0.2
        Negative slope of the LeakyReLU activations (used when ``activation="leaky_relu"``).
    activation : {"leaky_relu", "relu"}, default="leaky_relu"
        Hidden activation.
    upsampling : {"nearest", "transposed"}, default="nearest"
        How each of the two stages doubles the resolution (see :data:`UPSAMPLINGS`).  A
        transposed 4×4 convolution reads 4 input pixels per output pixel where the
        nearest-neighbour pair's 3×3 convolution reads 9, so it costs about 2.25 times fewer
        multiply-adds.
    init_std : float or None, default=0.02
        Standard deviation of the N(0, std) kernel initialiser; None for Glorot-uniform.
    seed : int, default=0
        Seed from which every initialiser seed is derived.
    n_classes : int or None, default=None
        Number of classes of a conditional generator (inputs ``[z, label]``, the label's
        embedding concatenated to ``z``); None for an unconditional one.

    Returns
    -------
    keras.Sequential or keras.Model
        The generator, named ``"generator"``, mapping ``(batch, latent_dim)`` (and labels)
        to ``(batch, height, width, channels)`` in [-1, 1].
    """
    if upsampling not in UPSAMPLINGS:
        raise ValueError(f"upsampling must be one of {UPSAMPLINGS}; got {upsampling!r}.")
    height, width, channels = (int(v) for v in image_shape)
    seeds = _SeedStream(seed)
    ph, pw = padded_side(height), padded_side(width)
    sh, sw = ph // 4, pw // 4
    half = max(1, n_filters // 2)

    def double_resolution(filters, stage):
        kernel_init = _kernel_init(init_std, seeds)
        if upsampling == "transposed":
            return [
                layers.Conv2DTranspose(
                    filters,
                    4,
                    strides=2,
                    padding="same",
                    kernel_initializer=kernel_init,
                    name=f"g_tconv_{stage}",
                )
            ]
        return [
            layers.UpSampling2D(name=f"g_upsample_{stage}"),
            layers.Conv2D(
                filters, 3, padding="same", kernel_initializer=kernel_init, name=f"g_conv_{stage}"
            ),
        ]

    model_layers = [
        keras.Input(shape=(latent_dim,), name="z"),
        layers.Dense(
            n_filters * sh * sw, kernel_initializer=_kernel_init(init_std, seeds), name="g_dense"
        ),
        layers.Reshape((sh, sw, n_filters), name="g_reshape"),
        *double_resolution(n_filters, 1),
        _batch_norm("g_bn_1"),
        _hidden_activation(activation, alpha, "g_act_1"),
        *double_resolution(half, 2),
        _batch_norm("g_bn_2"),
        _hidden_activation(activation, alpha, "g_act_2"),
        layers.Conv2D(
            channels,
            3,
            padding="same",
            kernel_initializer=_kernel_init(init_std, seeds),
            name="g_conv_out",
        ),
        layers.Activation("tanh", name="g_tanh"),
    ]
    if (ph, pw) != (height, width):
        model_layers.append(
            layers.Cropping2D(
                (_split_padding(ph - height), _split_padding(pw - width)), name="g_crop"
            )
        )
    return _generator(model_layers, n_classes, seeds)


def build_conv_critic(
    image_shape,
    n_filters,
    *,
    alpha=0.2,
    norm="batch",
    dropout=0.25,
    output_activation=None,
    init_std=0.02,
    seed=0,
    n_classes=None,
):
    """DCGAN critic of the reference configuration for images of shape ``image_shape``.

    Conv2D(F/4, 3, stride 2) → LeakyReLU(α) → Dropout → Conv2D(F/2, 3, stride 2) →
    ZeroPadding((0, 1), (0, 1)) → Norm → LeakyReLU(α) → Dropout → Conv2D(F, 3, stride 2) →
    Norm → LeakyReLU(α) → Dropout → Conv2D(2F, 3, stride 1) → Norm → LeakyReLU(α) → Dropout →
    Flatten → Dense(1).  Unlike the reference code, α is applied to every LeakyReLU.  A
    leading ZeroPadding2D is added only when a side is not a multiple of 4, mirroring the
    generator's crop.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width, channels)`` of the images to judge.
    n_filters : int
        Base filter count ``F`` (``F/4`` and ``F/2`` are floored, at least 1).
    alpha : float, default=0.2
        Negative slope of every LeakyReLU.
    norm : {"batch", "layer", "none"}, default="batch"
        Normalisation after the 2nd, 3rd and 4th convolutions (BatchNorm with momentum 0.8
        in the reference; use "layer" or "none" with a gradient penalty).
    dropout : float, default=0.25
        Dropout rate after each activation; 0 omits the Dropout layers.
    output_activation : {None, "sigmoid"}, default=None
        None gives the linear output of a Wasserstein critic, "sigmoid" the probability of
        a vanilla GAN discriminator.
    init_std : float or None, default=0.02
        Standard deviation of the N(0, std) kernel initialiser; None for Glorot-uniform.
    seed : int, default=0
        Seed from which every initialiser and dropout seed is derived.
    n_classes : int or None, default=None
        Number of classes of a projection critic (inputs ``[sample, label]``); None for an
        unconditional one.

    Returns
    -------
    keras.Sequential or keras.Model
        The critic, named ``"critic"``, mapping images (and labels) to ``(batch, 1)``
        scores.
    """
    height, width, channels = (int(v) for v in image_shape)
    seeds = _SeedStream(seed)
    ph, pw = padded_side(height), padded_side(width)
    widths = (max(1, n_filters // 4), max(1, n_filters // 2), n_filters, 2 * n_filters)
    strides = (2, 2, 2, 1)
    model_layers = [keras.Input(shape=(height, width, channels), name="image")]
    if (ph, pw) != (height, width):
        model_layers.append(
            layers.ZeroPadding2D(
                (_split_padding(ph - height), _split_padding(pw - width)), name="c_pad_input"
            )
        )
    for i, (filters, stride) in enumerate(zip(widths, strides, strict=True), start=1):
        model_layers.append(
            layers.Conv2D(
                filters,
                3,
                strides=stride,
                padding="same",
                kernel_initializer=_kernel_init(init_std, seeds),
                name=f"c_conv_{i}",
            )
        )
        if i == 2:
            model_layers.append(layers.ZeroPadding2D(((0, 1), (0, 1)), name="c_pad"))
        if i > 1:
            norm_layer = _critic_norm(norm, f"c_norm_{i}")
            if norm_layer is not None:
                model_layers.append(norm_layer)
        model_layers.append(layers.LeakyReLU(negative_slope=alpha, name=f"c_act_{i}"))
        if dropout > 0:
            model_layers.append(layers.Dropout(dropout, seed=seeds(), name=f"c_dropout_{i}"))
    model_layers.append(layers.Flatten(name="c_flatten"))
    return _critic(model_layers, init_std, seeds, output_activation, n_classes)


def mlp_width(n_filters):
    """Hidden width of the MLP pair for a base filter count (4·F)."""
    return 4 * int(n_filters)


def build_mlp_generator(
    n_features,
    latent_dim,
    n_filters,
    *,
    alpha=0.2,
    activation="leaky_relu",
    output_activation=None,
    init_std=0.02,
    seed=0,
    n_classes=None,
    output_spans=None,
):
    """MLP generator for tabular (or flattened) data.

    Dense(4F) → activation → Dense(4F) → activation → Dense(n_features), with a linear
    output for tabular data (so samples are not squashed at the edges of the training
    range) or ``output_activation="tanh"`` for flattened images.

    Parameters
    ----------
    n_features : int
        Number of output features.
    latent_dim : int
        Size of the latent vector ``z``.
    n_filters : int
        Base width ``F``; hidden layers have ``4·F`` units.
    alpha : float, default=0.2
        Negative slope of the LeakyReLU activations.
    activation : {"leaky_relu", "relu"}, default="leaky_relu"
        Hidden activation.
    output_activation : {None, "tanh"}, default=None
        Output activation.
    init_std : float or None, default=0.02
        Standard deviation of the N(0, std) kernel initialiser; None for Glorot-uniform.
    seed : int, default=0
        Seed from which every initialiser seed is derived.
    n_classes : int or None, default=None
        Number of classes of a conditional generator (inputs ``[z, label]``, the label's
        embedding concatenated to ``z``); None for an unconditional one.
    output_spans : list of (start, width, kind) or None, default=None
        The encoded blocks of a mixed-type table: the linear output is followed by a
        :class:`~gan_estimators.gan.table_output.TableOutput` layer (tanh on continuous
        blocks, one category per one-hot block).  None keeps ``output_activation`` alone.

    Returns
    -------
    keras.Sequential or keras.Model
        The generator, named ``"generator"``.
    """
    seeds = _SeedStream(seed)
    width = mlp_width(n_filters)
    model_layers = [keras.Input(shape=(latent_dim,), name="z")]
    for i in (1, 2):
        model_layers += [
            _dense(width, init_std, seeds, f"g_dense_{i}"),
            _hidden_activation(activation, alpha, f"g_act_{i}"),
        ]
    model_layers.append(_dense(n_features, init_std, seeds, "g_out", activation=output_activation))
    if output_spans is not None:
        model_layers.append(TableOutput(output_spans, seed=seeds(), name="g_table_output"))
    return _generator(model_layers, n_classes, seeds)


def build_mlp_critic(
    n_features,
    n_filters,
    *,
    alpha=0.2,
    norm="none",
    dropout=0.0,
    output_activation=None,
    init_std=0.02,
    seed=0,
    n_classes=None,
):
    """MLP critic for tabular (or flattened) data.

    Dense(4F) → LeakyReLU(α) → [Norm] → [Dropout] → Dense(4F) → LeakyReLU(α) → [Norm] →
    [Dropout] → Dense(1).

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_filters : int
        Base width ``F``; hidden layers have ``4·F`` units.
    alpha : float, default=0.2
        Negative slope of every LeakyReLU.
    norm : {"batch", "layer", "none"}, default="none"
        Normalisation after each hidden activation.
    dropout : float, default=0.0
        Dropout rate after each hidden layer; 0 omits the Dropout layers.
    output_activation : {None, "sigmoid"}, default=None
        None for a Wasserstein critic, "sigmoid" for a vanilla GAN discriminator.
    init_std : float or None, default=0.02
        Standard deviation of the N(0, std) kernel initialiser; None for Glorot-uniform.
    seed : int, default=0
        Seed from which every initialiser and dropout seed is derived.
    n_classes : int or None, default=None
        Number of classes of a projection critic (inputs ``[sample, label]``); None for an
        unconditional one.

    Returns
    -------
    keras.Sequential or keras.Model
        The critic, named ``"critic"``.
    """
    seeds = _SeedStream(seed)
    width = mlp_width(n_filters)
    model_layers = [keras.Input(shape=(n_features,), name="features")]
    for i in (1, 2):
        model_layers += [
            _dense(width, init_std, seeds, f"c_dense_{i}"),
            layers.LeakyReLU(negative_slope=alpha, name=f"c_act_{i}"),
        ]
        norm_layer = _critic_norm(norm, f"c_norm_{i}")
        if norm_layer is not None:
            model_layers.append(norm_layer)
        if dropout > 0:
            model_layers.append(layers.Dropout(dropout, seed=seeds(), name=f"c_dropout_{i}"))
    return _critic(model_layers, init_std, seeds, output_activation, n_classes)


def clip_targets(critic):
    """The critic variables weight clipping constrains: trainable kernels and biases only
    (and the class embedding of a projection critic).

    Normalisation scales/offsets and BatchNorm moving statistics are left alone (clipping
    moving statistics was a defect of the reference code; see the reference configuration).
    """
    return [v for v in critic.trainable_variables if v.name in ("kernel", "bias", "embeddings")]


def has_batch_norm(model):
    """Whether any layer of ``model`` is a BatchNormalization (which couples samples)."""
    return any(isinstance(layer, layers.BatchNormalization) for layer in model.layers)


def build_networks(params, settings, layout, seed, n_classes=None, output_spans=None):
    """The generator and critic of one estimator fit.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params()``).
    settings : gan_estimators.gan.settings.Settings
        Their effective values for this fit (network family, critic normalisation, loss).
    layout : gan_estimators.gan.layout.DataLayout
        The training data's layout: the networks' sample shape, and a tanh output for an
        MLP generator of images (flattened images live in [-1, 1]; tabular samples may
        extrapolate).
    seed : int
        The fit's master seed: the generator's and the critic's seeds are derived from it.
    n_classes : int or None, default=None
        Number of classes of a conditional pair; None for an unconditional one.
    output_spans : list of (start, width, kind) or None, default=None
        The encoded blocks of a mixed-type table (an MLP generator then ends with a
        :class:`~gan_estimators.gan.table_output.TableOutput`); None for other data.

    Returns
    -------
    generator, critic : keras.Sequential or keras.Model
    """
    init_std = params["init_std"]
    common = {
        "alpha": float(params["alpha"]),
        "init_std": None if init_std is None else float(init_std),
    }
    n_filters, latent_dim = int(params["n_filters"]), int(params["latent_dim"])
    generator_options = {
        "activation": params["generator_activation"],
        "seed": derive_seed(seed, 1),
        "n_classes": n_classes,
        **common,
    }
    critic_options = {
        "norm": settings.critic_norm,
        "dropout": float(params["dropout"]),
        "output_activation": settings.loss.critic_output_activation,
        "seed": derive_seed(seed, 2),
        "n_classes": n_classes,
        **common,
    }
    critic_filters = max(1, round(float(params["critic_width"]) * n_filters))
    shape = layout.network_shape(settings.network)
    if settings.network == "conv":
        generator = build_conv_generator(
            shape, latent_dim, n_filters, upsampling=params["upsampling"], **generator_options
        )
        return generator, build_conv_critic(shape, critic_filters, **critic_options)
    generator = build_mlp_generator(
        shape[0],
        latent_dim,
        n_filters,
        output_activation="tanh" if layout.image_shape is not None else None,
        output_spans=output_spans,
        **generator_options,
    )
    return generator, build_mlp_critic(shape[0], critic_filters, **critic_options)
