"""The output layer of a generator of mixed-type tables.

:class:`TableOutput` ends each encoded block of the table (see
:mod:`gan_estimators.tables.encoding`): a continuous value goes through tanh, into
[-1, 1]; a one-hot block becomes a draw of one category from the softmax of its logits.

While training, the draw is a straight-through Gumbel-softmax: Gumbel noise (from the
layer's own seeded stream) is added to the logits, the forward pass emits exactly the
winning category, written -1 / +1 like the encoded training data, and the gradient is that
of the tempered softmax.  The critic thus never sees a blend of categories that real rows
cannot have, and a category can keep its share (a 27% missing rate, say) without the
generator carving that share out of ``z``.  In inference the layer returns each block's
softmax probabilities (written ``2p - 1``), and ``sample`` draws the categories from them
with its own random state, so that the same ``random_state`` gives the same rows.
"""

import keras
from keras import ops

from gan_estimators.tables.encoding import CONTINUOUS

#: Temperature of the Gumbel-softmax whose gradient the straight-through draw passes on.
GUMBEL_TEMPERATURE = 0.5
#: Keeps log(-log(u)) finite for uniform noise at the ends of [0, 1).
_TINY = 1e-20


@keras.saving.register_keras_serializable(package="gan_estimators")
class TableOutput(keras.layers.Layer):
    """tanh on continuous blocks, a category drawn per discrete block.

    Parameters
    ----------
    spans : list of (start, width, kind)
        The encoded blocks in order, covering the input's last axis; ``kind`` is
        ``"continuous"`` or ``"discrete"``.
    seed : int, default=0
        Seed of the Gumbel noise drawn while training.
    """

    def __init__(self, spans, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.spans = [(int(start), int(width), str(kind)) for start, width, kind in spans]
        self.seed = int(seed)
        self.noise = keras.random.SeedGenerator(self.seed)

    def call(self, logits, training=None):
        blocks = []
        for start, width, kind in self.spans:
            block = logits[:, start : start + width]
            if kind == CONTINUOUS:
                blocks.append(ops.tanh(block))
            elif training:
                blocks.append(2.0 * self._draw(block, width) - 1.0)
            else:
                blocks.append(2.0 * ops.softmax(block, axis=-1) - 1.0)
        return ops.concatenate(blocks, axis=-1)

    def _draw(self, block, width):
        """A straight-through Gumbel-softmax draw of one category per row."""
        uniform = keras.random.uniform(ops.shape(block), seed=self.noise, dtype=block.dtype)
        gumbel = -ops.log(-ops.log(uniform + _TINY) + _TINY)
        soft = ops.softmax((block + gumbel) / GUMBEL_TEMPERATURE, axis=-1)
        hard = ops.one_hot(ops.argmax(soft, axis=-1), width, dtype=soft.dtype)
        return soft + ops.stop_gradient(hard - soft)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "spans": [list(span) for span in self.spans],
            "seed": self.seed,
        }
