"""Evolving a WGANEstimator: every gene of the reference space matters, and a search runs.

The reference configuration (``docs/user_guide/reference_configuration.rst``) names gene fields
of the reference code that changed nothing (an ``alpha`` decoded to 0 and ignored by the
critic).  Here every dimension of :func:`gan_estimators.reference_space`,
decoded the way :class:`~gan_estimators.EvolutionarySearchCV` does it (``SearchSpace.decode``,
then ``clone(estimator).set_params``), must reach the estimator's parameters *and* the networks
or training loop it describes.  Then a tiny end-to-end evolution on one digits class.
"""

import math
import warnings

import numpy as np
import pytest
from _search_toys import evolve
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from gan_estimators import Integer, WGANEstimator, reference_space
from gan_estimators.datasets import extract_class, load_digits_images
from gan_estimators.quality.diagnostics import GANTrainingWarning
from gan_estimators.search.space import SearchSpace

SPACE = SearchSpace(reference_space())
NAMES = list(SPACE.names)
MIDDLE = [0.5] * len(NAMES)


def _base():
    # The reference configuration (loss="wgan": clipping is what clip_value acts on), with a
    # small latent vector and a single generator iteration so that a fit only builds and
    # takes one step.
    return WGANEstimator.reference(n_steps=1, batch_size=16, latent_dim=8, random_state=0)


def _decoded_estimator(genes):
    params, _ = SPACE.decode(genes)
    return clone(_base()).set_params(**params), params


@pytest.fixture(scope="module")
def digit_zero():
    X, y = load_digits_images(return_X_y=True)
    return extract_class(X, y, 0)


@given(
    name=st.sampled_from(NAMES),
    a=st.floats(0.0, 1.0, allow_nan=False),
    b=st.floats(0.0, 1.0, allow_nan=False),
)
@settings(deadline=None, max_examples=60)  # the CPU is shared: timing is not the property
def test_every_dimension_changes_exactly_its_parameter(name, a, b):
    i = NAMES.index(name)
    genes_a, genes_b = list(MIDDLE), list(MIDDLE)
    genes_a[i], genes_b[i] = a, b
    est_a, params_a = _decoded_estimator(genes_a)
    est_b, params_b = _decoded_estimator(genes_b)
    assume(params_a[name] != params_b[name])
    got_a, got_b = est_a.get_params(), est_b.get_params()
    assert got_a[name] == params_a[name] and got_b[name] == params_b[name]
    assert {k for k in got_a if got_a[k] != got_b[k]} == {name}


def _fit(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        return estimator.fit(X)


def _critic_layers(gan, prefix):
    return [layer for layer in gan.critic_.layers if layer.name.startswith(prefix)]


def _architecture_and_training(gan):
    """What each reference gene claims to control, read from a fitted estimator."""
    clipped = [
        np.abs(variable.numpy()).max()
        for variable in gan.critic_.trainable_variables
        if variable.name in ("kernel", "bias")
    ]
    return {
        # FILTERS: the generator's first layer and the critic's convolution widths.
        "n_filters": (
            gan.generator_.get_layer("g_dense").units,
            tuple(layer.filters for layer in _critic_layers(gan, "c_conv_")),
        ),
        # ALPHA: the slope of every LeakyReLU of the critic (the reference ignored it there).
        "alpha": tuple(layer.negative_slope for layer in _critic_layers(gan, "c_act_")),
        # CRITICS: critic updates done in one generator iteration.
        "n_critic": int(gan.critic_optimizer_.iterations.numpy()),
        # CLIP: the largest critic weight after clipping.
        "clip_value": float(max(clipped)),
        # LR: both optimizers' learning rate.
        "learning_rate": (
            float(gan.generator_optimizer_.learning_rate.numpy()),
            float(gan.critic_optimizer_.learning_rate.numpy()),
        ),
    }


# The lowest end of every gene: the cheapest networks (F = 16, one critic update), a clip bound
# that binds on the initial N(0, 0.02) weights, and a learning rate (1e-8) that barely moves them.
LOW = [0.0] * len(NAMES)


@pytest.fixture(scope="module")
def low_fit(digit_zero):
    estimator, params = _decoded_estimator(LOW)
    return params, _architecture_and_training(_fit(estimator, digit_zero))


def _check_decoded(name, value, seen):
    """``seen`` shows ``value`` where gene ``name`` claims to act."""
    if name == "n_filters":
        sh = sw = 2  # 8x8 digits: the generator starts at side / 4
        widths = (max(1, value // 4), max(1, value // 2), value, 2 * value)
        assert seen["n_filters"] == (value * sh * sw, widths)
    elif name == "alpha":
        assert all(math.isclose(s, value, rel_tol=1e-6) for s in seen["alpha"])
    elif name == "n_critic":
        assert seen["n_critic"] == value  # critic updates in the one generator iteration
    elif name == "clip_value":
        assert seen["clip_value"] <= value * (1 + 1e-6)
    else:
        assert all(math.isclose(s, value, rel_tol=1e-6) for s in seen["learning_rate"])


@pytest.mark.slow  # one 1-step fit of the reference networks per dimension, ~5-10 s each
@pytest.mark.parametrize("name", NAMES)
def test_every_dimension_changes_the_networks_or_training_it_decodes_to(name, low_fit, digit_zero):
    low_params, seen_low = low_fit
    genes = list(LOW)
    genes[NAMES.index(name)] = 1.0
    high, high_params = _decoded_estimator(genes)
    assert low_params[name] < high_params[name]
    seen_high = _architecture_and_training(_fit(high, digit_zero))

    # The searched quantity changes, and it is the decoded value, not merely "something
    # different" ...
    assert seen_high[name] != seen_low[name]
    _check_decoded(name, low_params[name], seen_low)
    _check_decoded(name, high_params[name], seen_high)
    # ... while the networks and loop the other genes describe stay as they were (the largest
    # clipped weight depends on every weight, so only the clip bound itself is compared).
    differing = {key for key in seen_low if seen_low[key] != seen_high[key]}
    assert differing - {"clip_value"} == {name} - {"clip_value"}
    if name != "clip_value":
        _check_decoded("clip_value", low_params["clip_value"], seen_high)
    else:
        # The tight bound binds on the initial weights; the loose one leaves them larger.
        assert math.isclose(seen_low["clip_value"], low_params["clip_value"], rel_tol=1e-6)
        assert seen_high["clip_value"] > low_params["clip_value"]


@pytest.mark.slow  # about 11 tiny fits (3-6 candidates x 2 folds + the refit)
def test_a_tiny_evolution_of_a_wgan_on_one_digit(digit_zero):
    space = reference_space()
    space["n_filters"] = Integer(2, 4)  # tiny networks; the other genes keep their ranges
    # The reference loss and optimizer on the small MLP pair (compiles in a fraction of the
    # conv pair's time): the search machinery, not the architecture, is under test here.
    estimator = WGANEstimator.reference(
        network="mlp", critic_norm="none", dropout=0.0, n_steps=3, batch_size=16,
        latent_dim=8, random_state=0,
    )  # fmt: skip
    search = evolve(estimator, space, population_size=3, generations=2, cv=2, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        search.fit(digit_zero)

    assert math.isfinite(search.best_score_)
    assert len(search.cv_results_["params"]) == search.n_candidates_evaluated_ >= 3
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_score_ == np.max(search.cv_results_["mean_test_score"])
    assert set(search.best_params_) == set(space)
    assert estimator.get_params()["n_filters"] == 64  # the given estimator is untouched
    assert not hasattr(estimator, "generator_")

    best = search.best_estimator_
    for name, value in search.best_params_.items():
        assert best.get_params()[name] == value
    assert best.n_steps_ == 3  # refitted on the whole class
    samples = best.sample(5, random_state=0)
    assert samples.shape == (5, *digit_zero.shape[1:])
    assert np.all(np.isfinite(samples))
    assert math.isfinite(best.score(digit_zero))
