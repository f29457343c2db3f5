"""scikit-learn's common estimator checks on the tabular (MLP) path, with tiny settings."""

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from gan_estimators import WGANEstimator

# Checks that assume a supervised or transforming estimator and cannot apply to a
# generative one; each with the reason scikit-learn should not expect it to pass.
EXPECTED_FAILED_CHECKS = {}


TINY = {"network": "mlp", "n_filters": 2, "latent_dim": 2, "n_critic": 1, "batch_size": 8}


def _tiny_estimator():
    return WGANEstimator(**TINY, n_steps=2, random_state=0)


@parametrize_with_checks(
    [_tiny_estimator()],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_clone_keeps_every_parameter():
    estimator = _tiny_estimator().set_params(alpha=0.3, label_noise=True, feature_map="auto")
    cloned = clone(estimator)
    assert cloned.get_params() == estimator.get_params()


@pytest.mark.parametrize("name", ["loss", "n_filters", "alpha", "feature_map", "warm_start"])
def test_nested_parameter_names_work_in_a_pipeline(name):
    from sklearn.pipeline import Pipeline

    pipeline = Pipeline([("gan", _tiny_estimator())])
    value = WGANEstimator().get_params()[name]
    pipeline.set_params(**{f"gan__{name}": value})
    assert pipeline.get_params()[f"gan__{name}"] == value
