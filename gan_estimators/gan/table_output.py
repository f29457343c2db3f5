"""The output layer of a generator of mixed-type tables.

:class:`TableOutput` ends each encoded block of the table (see
:mod:`gan_estimators.tables.encoding`) as its data are: a continuous value through tanh,
into [-1, 1]; a one-hot block as exactly one category, written -1 / +1 like the encoded
training data.  The category is the argmax of the block's logits in the forward pass, and
the gradient is the softmax's (a straight-through estimator), so the critic never sees a
blend of categories that real rows cannot have, and sampling needs no noise besides ``z``:
training and ``sample`` run the same deterministic layer.
"""

import keras
from keras import ops

from gan_estimators.tables.encoding import CONTINUOUS


@keras.saving.register_keras_serializable(package="gan_estimators")
class TableOutput(keras.layers.Layer):
    """tanh on continuous blocks, straight-through one-hot on discrete blocks.

    Parameters
    ----------
    spans : list of (start, width, kind)
        The encoded blocks in order, covering the input's last axis; ``kind`` is
        ``"continuous"`` or ``"discrete"``.
    """

    def __init__(self, spans, **kwargs):
        super().__init__(**kwargs)
        self.spans = [(int(start), int(width), str(kind)) for start, width, kind in spans]

    def call(self, logits):
        blocks = []
        for start, width, kind in self.spans:
            block = logits[:, start : start + width]
            if kind == CONTINUOUS:
                blocks.append(ops.tanh(block))
                continue
            soft = ops.softmax(block, axis=-1)
            hard = ops.one_hot(ops.argmax(block, axis=-1), width, dtype=soft.dtype)
            chosen = soft + ops.stop_gradient(hard - soft)
            blocks.append(2.0 * chosen - 1.0)
        return ops.concatenate(blocks, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "spans": [list(span) for span in self.spans]}
