"""Minimal in-graph optimizers built on TensorFlow's fused ``ResourceApply*`` kernels.

Why not ``keras.optimizers``: inside a ``tf.function`` a Keras 3 optimizer expands every
variable's update into a dozen small ops routed through the distribution-strategy
machinery, which (a) lengthens the tracing of every fit, (b) adds per-op overhead to every
update of small networks, and (c) leaves memory behind with each traced graph that is never
freed, so a search's memory grows with every fit.  A fused kernel updates one variable in
one op.

The update rules are those of Keras's Adam, RMSprop and SGD: Adam with bias correction
and ``epsilon`` added to ``sqrt(v)``; RMSprop without momentum or centring,
``var -= lr · g / sqrt(ms + epsilon)`` with ``ms`` starting at 0; plain SGD.
"""

import numpy as np
import tensorflow as tf

from gan_estimators.gan._config import OPTIMIZERS


def _handle(variable):
    """Resource handle of a Keras variable (its backing ``tf.Variable``) or a tf.Variable."""
    inner = getattr(variable, "value", None)
    if inner is not None and hasattr(inner, "handle"):
        return inner.handle
    return variable.handle


class FusedOptimizer:
    """Base class: holds the learning rate, the update count and per-variable slots.

    Parameters
    ----------
    learning_rate : float
        Initial learning rate; stored in a variable (``learning_rate``) so that changing it
        (e.g. on a warm start) needs no retracing.
    """

    name = None
    #: Slot variables per trained variable.
    n_slots = 0

    def __init__(self, learning_rate):
        self.learning_rate = tf.Variable(
            float(learning_rate), dtype=tf.float32, trainable=False, name="learning_rate"
        )
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name="iterations")
        self._targets = None
        self._slots = []

    @property
    def built(self):
        return self._targets is not None

    def build(self, variables):
        """Create the slots for ``variables`` (call once, outside any ``tf.function``)."""
        self._targets = list(variables)
        self._slots = [
            [
                tf.Variable(tf.zeros(v.shape, dtype=v.dtype), trainable=False)
                for _ in range(self.n_slots)
            ]
            for v in self._targets
        ]

    @property
    def variables(self):
        """Every state variable: ``iterations``, ``learning_rate`` then the slots."""
        return [self.iterations, self.learning_rate, *(s for slots in self._slots for s in slots)]

    def get_state(self):
        """The state as a list of arrays (for persistence)."""
        return [np.array(v.numpy()) for v in self.variables]

    def set_state(self, values):
        """Restore the output of :meth:`get_state`.

        Raises
        ------
        ValueError
            If ``values`` does not hold one array of the right shape per state variable (the
            state of another optimizer or of other networks); the state is left untouched.
        """
        variables = self.variables
        expected = [tuple(v.shape) for v in variables]
        given = [tuple(np.shape(a)) for a in values]
        if given != expected:
            raise ValueError(
                f"Cannot restore the state of {self!r}: it has {len(expected)} state "
                f"variables of shapes {expected}, but the state given has {len(given)} of "
                f"shapes {given}."
            )
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)

    def apply(self, gradients):
        """Apply one update from ``gradients`` (aligned with the built variables), in-graph."""
        self.iterations.assign_add(1)
        lr = tf.cast(self.learning_rate, tf.float32)
        context = self._prepare(lr)
        for variable, slots, grad in zip(self._targets, self._slots, gradients, strict=True):
            if grad is None:
                continue
            self._update(_handle(variable), slots, tf.convert_to_tensor(grad), lr, context)

    def _prepare(self, lr):
        return None

    def _update(self, handle, slots, grad, lr, context):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "learning_rate": float(self.learning_rate.numpy())}

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({options})"


class Adam(FusedOptimizer):
    """Adam (Kingma & Ba) with bias correction.

    Parameters
    ----------
    learning_rate : float
        Step size.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-7
        Added to ``sqrt(v)`` (Keras's default).
    """

    name = "adam"
    n_slots = 2

    def __init__(self, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _prepare(self, lr):
        step = tf.cast(self.iterations, tf.float32)
        return tf.pow(self.beta_1, step), tf.pow(self.beta_2, step)

    def _update(self, handle, slots, grad, lr, context):
        beta_1_power, beta_2_power = context
        tf.raw_ops.ResourceApplyAdam(
            var=handle,
            m=slots[0].handle,
            v=slots[1].handle,
            beta1_power=beta_1_power,
            beta2_power=beta_2_power,
            lr=lr,
            beta1=tf.constant(self.beta_1),
            beta2=tf.constant(self.beta_2),
            epsilon=tf.constant(self.epsilon),
            grad=grad,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class RMSprop(FusedOptimizer):
    """RMSprop without momentum (the optimizer of the original WGAN).

    Parameters
    ----------
    learning_rate : float
        Step size.
    rho : float, default=0.9
        Decay rate of the squared-gradient average.
    epsilon : float, default=1e-7
        Added under the square root.
    """

    name = "rmsprop"
    # The fused kernel needs a momentum slot even when momentum is 0.
    n_slots = 2

    def __init__(self, learning_rate, rho=0.9, epsilon=1e-7):
        super().__init__(learning_rate)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _update(self, handle, slots, grad, lr, context):
        tf.raw_ops.ResourceApplyRMSProp(
            var=handle,
            ms=slots[0].handle,
            mom=slots[1].handle,
            lr=lr,
            rho=tf.constant(self.rho),
            momentum=tf.constant(0.0),
            epsilon=tf.constant(self.epsilon),
            grad=grad,
        )

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class SGD(FusedOptimizer):
    """Plain stochastic gradient descent."""

    name = "sgd"

    def _update(self, handle, slots, grad, lr, context):
        tf.raw_ops.ResourceApplyGradientDescent(var=handle, alpha=lr, delta=grad)


def make_optimizer(name, learning_rate, *, beta_1=0.9, beta_2=0.999):
    """Build an optimizer from the estimator's ``optimizer=`` name."""
    if name == "adam":
        return Adam(learning_rate, beta_1=beta_1, beta_2=beta_2)
    if name == "rmsprop":
        return RMSprop(learning_rate)
    if name == "sgd":
        return SGD(learning_rate)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {name!r}")


def build_optimizer(key, learning_rate, variables):
    """An optimizer of kind ``key`` = ``(name, beta_1, beta_2)``, built for ``variables``."""
    name, beta_1, beta_2 = key
    optimizer = make_optimizer(name, learning_rate, beta_1=beta_1, beta_2=beta_2)
    optimizer.build(variables)
    return optimizer
