"""Loss strategies plugged into the one compiled train step of :mod:`gan_estimators.gan.trainer`.

A strategy says how to score the critic's outputs on real and fake batches, what the
generator minimises, whether a gradient penalty is added, and what happens to the critic's
weights after each critic update.  The train step itself is shared by every loss, so a fix
to the loop applies to all of them.  Strategies are frozen dataclasses: two with the same
settings compare equal, so a strategy can be part of the trainer's cache key.

Sign conventions, identical for every strategy so that ``history_`` reads the same way:
``critic_loss = critic_real + critic_fake + gradient_penalty`` is what the critic
minimises, and ``generator_loss`` is what the generator minimises.  For a Wasserstein
critic ``critic_real = -mean(D(real))`` and ``critic_fake = mean(D(fake))`` (the terms the
reference logged through ``train_on_batch`` with targets -1 / +1); for the vanilla GAN they
are the binary cross-entropies of the real and fake batches.
"""

from dataclasses import dataclass
from typing import ClassVar

import keras
import tensorflow as tf

from gan_estimators.gan._config import LOSSES
from gan_estimators.gan.networks import has_batch_norm


def critic_scores(critic, real, fake):
    """The critic's scores of a real and a fake batch.

    A critic without BatchNorm treats samples independently, so both batches go through it
    in one (faster) call; a BatchNorm critic gets two calls, so that it normalises each batch
    by its own statistics, as the reference did with two ``train_on_batch`` calls.
    """
    if has_batch_norm(critic):
        return critic(real, training=True), critic(fake, training=True)
    n_real = tf.shape(real)[0]
    scores = critic(tf.concat([real, fake], axis=0), training=True)
    return scores[:n_real], scores[n_real:]


class LossStrategy:
    """Base class of the loss strategies.

    Attributes
    ----------
    name : str
        The ``loss=`` value of :class:`~gan_estimators.GANEstimator` it implements.
    critic_output_activation : str or None
        Activation of the critic's last layer (``None`` for a linear Wasserstein critic).
    uses_gradient_penalty : bool
        Whether :meth:`critic_losses` adds a gradient penalty (the critic must then avoid
        BatchNorm, whose batch coupling breaks the per-sample penalty).
    """

    name: ClassVar[str | None] = None
    critic_output_activation: ClassVar[str | None] = None
    uses_gradient_penalty: ClassVar[bool] = False

    def critic_losses(self, critic, real, fake, rng):
        """Return ``(critic_real, critic_fake, gradient_penalty)`` for one critic update.

        Called inside the critic's ``GradientTape``; see :func:`critic_scores` for how the
        two batches reach the critic.
        """
        real_scores, fake_scores = critic_scores(critic, real, fake)
        real_term, fake_term = self.critic_terms(real_scores, fake_scores, rng)
        return real_term, fake_term, tf.constant(0.0, dtype=tf.float32)

    def critic_terms(self, real_scores, fake_scores, rng):
        """Return ``(critic_real, critic_fake)``, the critic loss on each batch."""
        raise NotImplementedError

    def generator_loss(self, fake_scores):
        """Return the generator's loss given the critic's scores of its samples."""
        raise NotImplementedError

    def after_critic_update(self, clip_variables):
        """Hook run in-graph after every critic update (weight clipping for WGAN)."""
        return None


class WassersteinLoss(LossStrategy):
    """The Wasserstein critic and generator terms shared by :class:`Wasserstein` and
    :class:`WassersteinGP`."""

    def critic_terms(self, real_scores, fake_scores, rng):
        return -tf.reduce_mean(real_scores), tf.reduce_mean(fake_scores)

    def generator_loss(self, fake_scores):
        return -tf.reduce_mean(fake_scores)


@dataclass(frozen=True)
class Wasserstein(WassersteinLoss):
    """Wasserstein loss with the Lipschitz constraint enforced by weight clipping.

    After every critic update, every trainable kernel and bias of the critic is clipped
    in-graph to ``[-clip_value, clip_value]`` (Arjovsky et al. 2017).

    Parameters
    ----------
    clip_value : float
        The clip bound ``c`` (> 0).
    """

    name: ClassVar[str] = "wgan"
    clip_value: float

    def after_critic_update(self, clip_variables):
        c = self.clip_value
        for variable in clip_variables:
            variable.assign(tf.clip_by_value(variable, -c, c))


def interpolate(real, fake, rng):
    """Random points on the segments between real and fake samples, for the penalty.

    Returns ``(x_hat, epsilon)`` with ``x_hat = epsilon·real + (1 - epsilon)·fake`` and one
    ``epsilon ~ U(0, 1)`` per sample (broadcast over that sample's features / pixels), as in
    Gulrajani et al. 2017.
    """
    shape = tf.concat([tf.shape(real)[:1], tf.ones([tf.rank(real) - 1], dtype=tf.int32)], axis=0)
    epsilon = rng.uniform(shape, minval=0.0, maxval=1.0, dtype=real.dtype)
    return epsilon * real + (1.0 - epsilon) * fake, epsilon


def scores_and_gradient_norms(critic, real, fake, x_hat):
    """Critic scores of ``real`` and ``fake`` and ``‖∇ₓ D(x)‖₂`` at each row of ``x_hat``.

    The three batches share one critic call (the penalised critic has no BatchNorm, so
    this is exact); besides being faster, the single call keeps TensorFlow's graph
    remapper from tripping over the double back-propagation of separate calls.

    Returns
    -------
    real_scores, fake_scores : tensor
        ``D(real)`` and ``D(fake)``.
    norms : tensor of shape (n,)
        One gradient norm per interpolated sample.
    """
    n_real, n_fake = tf.shape(real)[0], tf.shape(fake)[0]
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(tf.concat([real, fake, x_hat], axis=0), training=True)
        hat_scores = scores[n_real + n_fake :]
    grads = tape.gradient(hat_scores, x_hat)
    axes = tf.range(1, tf.rank(grads))
    # The small constant keeps the gradient of sqrt finite where a gradient vanishes.
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + 1e-12)
    return scores[:n_real], scores[n_real : n_real + n_fake], norms


@dataclass(frozen=True)
class WassersteinGP(WassersteinLoss):
    """Wasserstein loss with a gradient penalty (WGAN-GP).

    Adds ``gp_weight · mean((‖∇D(x̂)‖₂ − 1)²)`` over per-sample interpolates ``x̂`` (see
    :func:`interpolate`) to the critic loss; no weight clipping.

    Parameters
    ----------
    gp_weight : float
        The penalty weight λ (10 in Gulrajani et al.).
    """

    name: ClassVar[str] = "wgan-gp"
    uses_gradient_penalty: ClassVar[bool] = True
    gp_weight: float

    def critic_losses(self, critic, real, fake, rng):
        x_hat, _ = interpolate(real, fake, rng)
        real_scores, fake_scores, norms = scores_and_gradient_norms(critic, real, fake, x_hat)
        real_term, fake_term = self.critic_terms(real_scores, fake_scores, rng)
        penalty = self.gp_weight * tf.reduce_mean(tf.square(norms - 1.0))
        return real_term, fake_term, penalty


@dataclass(frozen=True)
class VanillaGAN(LossStrategy):
    """Binary cross-entropy GAN with optional label noise.

    With ``label_noise = η > 0`` the critic's real targets are drawn from U(1 − η, 1) and
    its fake targets from U(0, η) at every update, while the generator's targets stay 1
    (η = 0.2 gives the U(0.8, 1) / U(0, 0.2) of the reference configuration's remedy, see
    ``docs/user_guide/reference_configuration.rst``).

    Parameters
    ----------
    label_noise : float
        η in [0, 0.5).
    """

    name: ClassVar[str] = "gan"
    critic_output_activation: ClassVar[str] = "sigmoid"
    label_noise: float = 0.0

    def _targets(self, scores, value, rng):
        if self.label_noise == 0.0:
            return tf.fill(tf.shape(scores), value)
        noise = rng.uniform(tf.shape(scores), minval=0.0, maxval=self.label_noise)
        # Real targets move down from 1, fake targets up from 0.
        return value - noise if value == 1.0 else value + noise

    def critic_terms(self, real_scores, fake_scores, rng):
        real_targets = self._targets(real_scores, 1.0, rng)
        fake_targets = self._targets(fake_scores, 0.0, rng)
        real_loss = tf.reduce_mean(keras.ops.binary_crossentropy(real_targets, real_scores))
        fake_loss = tf.reduce_mean(keras.ops.binary_crossentropy(fake_targets, fake_scores))
        return real_loss, fake_loss

    def generator_loss(self, fake_scores):
        targets = tf.ones_like(fake_scores)
        return tf.reduce_mean(keras.ops.binary_crossentropy(targets, fake_scores))


def make_loss(loss, *, clip_value, gp_weight, label_noise):
    """Build the strategy for a ``loss=`` name of the estimator."""
    if loss == "wgan":
        return Wasserstein(float(clip_value))
    if loss == "wgan-gp":
        return WassersteinGP(float(gp_weight))
    if loss == "gan":
        return VanillaGAN(float(label_noise))
    raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}; got {loss!r}")
