"""The networks and critic calls of a class-conditional GAN (``fit(X, y)``).

The generator learns an embedding of each class, the size of the latent vector and of unit
expected norm, that is concatenated to ``z`` before the generator's first layer
(:func:`conditional_generator`).
The critic is a projection discriminator (Miyato & Koyama 2018,
:func:`projection_critic`): with ``phi(x)`` the critic's features before its output layer,
its score is ``psi(phi(x)) + <embed(y), phi(x)>``, then the loss's output activation (a
sigmoid for ``loss="gan"``).  Labels enter both networks as class indices (int32) into the
estimator's ``classes_``.

:class:`LabelledCritic` lets the loss strategies of :mod:`.losses`, written for critics of
samples alone, call a conditional critic: every batch they pass is labelled with the
update's labels (repeated for the concatenated batches of real, fake and interpolated
samples, which share them), so a gradient penalty is taken with respect to the samples
with their labels fixed.
"""

import keras
import tensorflow as tf
from keras import layers

#: Name of the label input of both conditional networks.
LABEL_INPUT = "label"
#: Names of the label embeddings of the generator and of the critic's projection.
GENERATOR_EMBEDDING = "g_label_embedding"
CRITIC_EMBEDDING = "c_label_embedding"


def _label_input():
    return keras.Input(shape=(), dtype="int32", name=LABEL_INPUT)


def conditional_generator(latent_input, body, n_classes, *, seed):
    """The generator ``[z, label] -> sample``: ``body`` applied to ``z`` concatenated with
    the label's embedding.

    Parameters
    ----------
    latent_input : KerasTensor
        ``keras.Input`` of the latent vectors, shape ``(latent_dim,)``.
    body : list of keras layers
        The unconditional generator's layers after its input, applied in order.
    n_classes : int
        Number of classes.
    seed : int
        Seed of the embedding's N(0, 1/latent_dim) initialiser: each class starts as a
        vector of unit expected norm, the norm of a one-hot code.

    Returns
    -------
    keras.Model
        Named ``"generator"``, with inputs ``[z, label]``.
    """
    label = _label_input()
    latent_dim = int(latent_input.shape[-1])
    # At the scale of z (norm sqrt(latent_dim)) the label, the same input for every sample
    # of a class, dominates the first layer and each class collapses to one image; started
    # at unit norm, like a one-hot code, it leaves z its say.
    embedded = layers.Embedding(
        n_classes,
        latent_dim,
        embeddings_initializer=keras.initializers.RandomNormal(0.0, latent_dim**-0.5, seed=seed),
        name=GENERATOR_EMBEDDING,
    )(label)
    hidden = layers.Concatenate(name="g_condition")([latent_input, embedded])
    for layer in body:
        hidden = layer(hidden)
    return keras.Model([latent_input, label], hidden, name="generator")


def projection_critic(sample_input, features, output, n_classes, *, activation, initializer):
    """The projection critic ``[sample, label] -> score``.

    Parameters
    ----------
    sample_input : KerasTensor
        ``keras.Input`` of the samples.
    features : list of keras layers
        The unconditional critic's layers between its input and its output layer: ``phi``.
    output : keras layer
        Its linear ``Dense(1)`` output layer: ``psi``.
    n_classes : int
        Number of classes.
    activation : str or None
        The loss's output activation, applied to the sum (None: a linear critic).
    initializer : keras initializer
        Initialiser of the class embedding of the projection.

    Returns
    -------
    keras.Model
        Named ``"critic"``, with inputs ``[sample, label]`` and scores of shape
        ``(batch, 1)``.
    """
    label = _label_input()
    phi = sample_input
    for layer in features:
        phi = layer(phi)
    embedded = layers.Embedding(
        n_classes, int(phi.shape[-1]), embeddings_initializer=initializer, name=CRITIC_EMBEDDING
    )(label)
    projection = layers.Dot(axes=1, name="c_projection")([embedded, phi])
    score = layers.Add(name="c_score")([output(phi), projection])
    if activation is not None:
        score = layers.Activation(activation, name="c_output_activation")(score)
    return keras.Model([sample_input, label], score, name="critic")


def is_conditional(model):
    """Whether ``model`` is a conditional network (it takes a label input)."""
    return any(tensor.name == LABEL_INPUT for tensor in model.inputs)


class LabelledCritic:
    """A conditional critic called on samples alone, each batch labelled with ``labels``.

    A batch of ``k·len(labels)`` samples (real, fake and interpolated samples concatenated)
    gets ``labels`` repeated ``k`` times.  ``layers`` are the critic's, so that
    :func:`~gan_estimators.gan.networks.has_batch_norm` sees them.
    """

    def __init__(self, critic, labels):
        self.critic = critic
        self.labels = labels

    @property
    def layers(self):
        return self.critic.layers

    def __call__(self, samples, training=False):
        repeats = tf.shape(samples)[0] // tf.shape(self.labels)[0]
        return self.critic([samples, tf.tile(self.labels, [repeats])], training=training)
