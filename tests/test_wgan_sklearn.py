"""scikit-learn's common estimator checks on the tabular (MLP) path, with tiny settings, for
both estimator classes; and the defaults each class takes from one dict."""

import inspect

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from gan_estimators import GANEstimator, WGANEstimator
from gan_estimators.gan import _config
from gan_estimators.gan.variants import documented_defaults, init_with_defaults

# Checks that assume a supervised or transforming estimator and cannot apply to a
# generative one; each with the reason scikit-learn should not expect it to pass.
EXPECTED_FAILED_CHECKS = {}


TINY = {"network": "mlp", "n_filters": 2, "latent_dim": 2, "n_critic": 1, "batch_size": 8}
CLASSES = (GANEstimator, WGANEstimator)


def _tiny_estimator(cls=GANEstimator):
    return cls(**TINY, n_steps=2, random_state=0)


@parametrize_with_checks(
    [_tiny_estimator(cls) for cls in CLASSES],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", CLASSES)
def test_clone_keeps_every_parameter(cls):
    estimator = _tiny_estimator(cls).set_params(alpha=0.3, label_noise=True, feature_map="auto")
    cloned = clone(estimator)
    assert type(cloned) is cls
    assert cloned.get_params() == estimator.get_params()


@pytest.mark.parametrize("name", ["loss", "n_filters", "alpha", "feature_map", "warm_start"])
def test_nested_parameter_names_work_in_a_pipeline(name):
    from sklearn.pipeline import Pipeline

    pipeline = Pipeline([("gan", _tiny_estimator())])
    value = GANEstimator().get_params()[name]
    pipeline.set_params(**{f"gan__{name}": value})
    assert pipeline.get_params()[f"gan__{name}"] == value


@pytest.mark.parametrize(
    ("cls", "defaults"), [(GANEstimator, "DEFAULTS"), (WGANEstimator, "WGAN_DEFAULTS")]
)
def test_each_class_takes_its_defaults_from_its_dict(cls, defaults):
    assert cls().get_params() == getattr(_config, defaults)


def test_the_wgan_docstring_shows_the_wgan_defaults():
    lines = WGANEstimator.__doc__.splitlines()
    changed = {k: v for k, v in _config.WGAN_DEFAULTS.items() if v != _config.DEFAULTS[k]}
    assert "loss" in changed
    shown = {}  # name -> default shown, from lines like "beta_1, beta_2 : float, default=0.0, 0.99"
    for line in lines:
        head, sep, defaults = line.strip().partition(", default=")
        if sep and " : " in head:
            names = head.split(" : ")[0].split(", ")
            values = defaults.split(", ") if len(names) > 1 else [defaults]
            shown.update(zip(names, values, strict=True))
    for name, value in changed.items():
        assert shown[name] == repr(value).replace("'", '"'), (name, shown[name])


def test_documented_defaults_rewrite_only_what_changed():
    doc = """
    loss : {"gan", "wgan"}, default="gan"
        The loss.
    beta_1, beta_2 : float, default=0.5, 0.9
        Rates.
    n_steps : int, default=500
    """
    base = {"loss": "gan", "beta_1": 0.5, "beta_2": 0.9, "n_steps": 500}
    new = documented_defaults(doc, {**base, "loss": "wgan", "beta_2": 0.99}, base)
    assert new == doc.replace('default="gan"', 'default="wgan"').replace("0.5, 0.9", "0.5, 0.99")


def test_a_changed_defaults_dict_changes_signature_and_parameters():
    # What WGANEstimator's __init__ is made of, with another dict: the dict alone decides.
    changed = {**_config.WGAN_DEFAULTS, "n_critic": 3, "loss": "wgan-gp"}

    class Variant(GANEstimator):
        __init__ = init_with_defaults(GANEstimator.__init__, changed, "Variant.__init__")

    signature = inspect.signature(Variant)
    assert signature.parameters["n_critic"].default == 3
    assert signature.parameters["loss"].default == "wgan-gp"
    assert Variant().get_params() == changed
    assert Variant(n_critic=2).n_critic == 2
    assert repr(Variant(n_critic=2)) == "Variant(n_critic=2)"


def test_the_reference_configuration_is_the_same_from_either_class():
    gan, wgan = GANEstimator.reference(n_steps=7), WGANEstimator.reference(n_steps=7)
    assert type(wgan) is WGANEstimator
    assert gan.get_params() == wgan.get_params()
    assert wgan.get_params() == {**_config.DEFAULTS, **_config.REFERENCE_PARAMS, "n_steps": 7}


def test_new_parameters_are_checked_before_training():
    X = np.random.default_rng(0).normal(size=(20, 3))
    bad = {
        "validation_fraction": 1.0,
        "eval_every": 0,
        "n_iter_no_change": 0,
        "tol": -1.0,
        "early_stopping": "yes",
        "callbacks": lambda estimator, logs: None,
        "validation_data": "data",
    }
    for name, value in bad.items():
        with pytest.raises(ValueError, match=name):
            _tiny_estimator().set_params(**{name: value}).fit(X)
    with pytest.raises(ValueError, match="eval_every"):
        _tiny_estimator().set_params(eval_every=True).fit(X)
    with pytest.raises(TypeError, match=r"callbacks\[1\]"):
        _tiny_estimator().set_params(callbacks=[print, 3]).fit(X)
    with pytest.raises(ValueError, match="cannot both be set"):
        _tiny_estimator().set_params(validation_data=X, validation_fraction=0.5).fit(X)
