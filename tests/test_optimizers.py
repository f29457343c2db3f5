"""The fused optimizers follow Keras's update rules, and refuse a state that does not fit."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_estimators.gan.optimizers import make_optimizer

SHAPES = [(3,), (2, 4), (1,)]


def _variables(seed):
    rng = np.random.default_rng(seed)
    return [keras.Variable(rng.normal(size=shape).astype(np.float32)) for shape in SHAPES]


def _gradients(variables):
    """Gradients of a smooth non-quadratic loss, so each step sees new gradients."""
    with tf.GradientTape() as tape:
        loss = sum(
            tf.reduce_sum(tf.sin(3.0 * v) + (i + 1) * tf.square(v)) for i, v in enumerate(variables)
        )
    return tape.gradient(loss, [v.value for v in variables])


KERAS_OPTIMIZERS = {
    "adam": lambda: keras.optimizers.Adam(learning_rate=0.05, beta_1=0.5, beta_2=0.9),
    "rmsprop": lambda: keras.optimizers.RMSprop(learning_rate=0.05),
    "sgd": lambda: keras.optimizers.SGD(learning_rate=0.05),
}


@pytest.mark.parametrize("name", sorted(KERAS_OPTIMIZERS))
def test_fused_optimizer_matches_keras_update_for_update(name):
    fused_variables, keras_variables = _variables(0), _variables(0)
    fused = make_optimizer(name, 0.05, beta_1=0.5, beta_2=0.9)
    fused.build(fused_variables)
    reference = KERAS_OPTIMIZERS[name]()
    reference.build(keras_variables)
    for step in range(1, 8):
        fused.apply(_gradients(fused_variables))
        reference.apply(_gradients(keras_variables), keras_variables)
        for ours, theirs in zip(fused_variables, keras_variables, strict=True):
            np.testing.assert_allclose(
                ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6, err_msg=f"step {step}"
            )
        assert int(fused.iterations.numpy()) == step


@pytest.mark.parametrize("name", sorted(KERAS_OPTIMIZERS))
def test_state_round_trips_into_a_new_optimizer(name):
    variables = _variables(1)
    optimizer = make_optimizer(name, 0.05)
    optimizer.build(variables)
    optimizer.apply(_gradients(variables))
    restored = make_optimizer(name, 0.01)
    restored.build(_variables(2))
    restored.set_state(optimizer.get_state())
    for a, b in zip(optimizer.get_state(), restored.get_state(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("saved", "shapes"),
    [("adam", [(3,), (2, 5), (1,)]), ("sgd", SHAPES), ("adam", SHAPES[:2])],
    ids=["other-shapes", "other-optimizer", "other-variable-count"],
)
def test_set_state_raises_on_a_mismatch_and_leaves_the_state_alone(saved, shapes):
    source = make_optimizer(saved, 0.05)
    source.build([keras.Variable(np.ones(shape, np.float32)) for shape in shapes])
    source.apply([tf.ones(shape) for shape in shapes])
    target = make_optimizer("adam", 0.01)
    target.build(_variables(3))
    before = target.get_state()
    with pytest.raises(ValueError, match="Cannot restore the state"):
        target.set_state(source.get_state())
    for a, b in zip(before, target.get_state(), strict=True):
        np.testing.assert_array_equal(a, b)
