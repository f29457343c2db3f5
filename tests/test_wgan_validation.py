"""Bad input and bad parameters are rejected with a clear error before any training."""

import time

import numpy as np
import pytest
from scipy import sparse

from gan_estimators import GANEstimator, WGANEstimator


def _gan(**params):
    return GANEstimator(**{"n_filters": 2, "n_steps": 1, "batch_size": 8, "random_state": 0,
                            **params})  # fmt: skip


def _finite(n=20, d=3):
    return np.random.default_rng(0).normal(size=(n, d))


def _with(value):
    X = _finite().astype(object if isinstance(value, str | dict) else float)
    X[3, 1] = value
    return X


BAD_INPUTS = {
    "nan": (_with(np.nan), ValueError, "NaN"),
    "inf": (_with(np.inf), ValueError, "infinity"),
    "nan_image": (np.full((4, 8, 8), np.nan), ValueError, "NaN"),
    "empty": (np.empty((0, 3)), ValueError, "0 sample"),
    "no_features": (np.empty((5, 0)), ValueError, "0 feature"),
    "one_sample": (_finite(1), ValueError, "1 sample"),
    "one_image": (np.zeros((1, 8, 8)), ValueError, "1 sample"),
    "one_dimensional": (np.arange(10.0), ValueError, "Expected 2D array"),
    "scalar": (np.float64(3.0), ValueError, "Expected 2D array"),
    "five_dimensional": (np.zeros((4, 2, 2, 2, 2)), ValueError, "5-D"),
    "empty_image_side": (np.zeros((4, 0, 8)), ValueError, "empty image dimension"),
    "strings": (_with("a"), ValueError, "could not convert"),
    "objects": (_with({"a": 1}), TypeError, "must be a string or a (real )?number"),
    "complex": (_finite() + 1j, ValueError, "Complex data not supported"),
    "sparse": (sparse.csr_matrix(_finite()), TypeError, "Sparse data was passed"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_rejected_before_training(name):
    X, error, message = BAD_INPUTS[name]
    gan = _gan()
    start = time.perf_counter()
    with pytest.raises(error, match=message):
        gan.fit(X)
    assert time.perf_counter() - start < 1.0  # no network was built or traced
    assert not hasattr(gan, "generator_")


BAD_PARAMS = {
    "loss": "wasserstein",
    "n_filters": 0,
    "critic_width": 0.0,
    "latent_dim": -3,
    "alpha": 1.5,
    "n_critic": 0,
    "n_gen": 2.5,
    "clip_value": -0.01,
    "gp_weight": -1.0,
    "label_noise": 0.6,
    "learning_rate": 0.0,
    "generator_learning_rate": -1e-4,
    "critic_learning_rate": "fast",
    "optimizer": "adagrad",
    "beta_1": 1.0,
    "beta_2": -0.1,
    "ema_decay": 1.0,
    "batch_size": 0,
    "n_steps": 0,
    "epochs": -1,
    "max_time": 0,
    "network": "cnn",
    "generator_activation": "tanh",
    "upsampling": "bilinear",
    "critic_norm": "group",
    "dropout": 1.0,
    "init_std": 0.0,
    "random_state": "seed",
    "verbose": -1,
    "warm_start": "yes",
}


@pytest.mark.parametrize("name", sorted(BAD_PARAMS))
def test_bad_parameter_is_rejected_naming_it(name):
    gan = _gan(**{name: BAD_PARAMS[name]})
    # sklearn's InvalidParameterError is both a ValueError and a TypeError.
    with pytest.raises((ValueError, TypeError), match=f"'{name}' parameter"):
        gan.fit(_finite())
    assert not hasattr(gan, "generator_")


@pytest.mark.parametrize("cls", [GANEstimator, WGANEstimator])
def test_the_constructor_never_validates(cls):
    gan = cls(loss="nonsense", n_filters=-5, clip_value="x")
    assert gan.get_params()["loss"] == "nonsense" and gan.n_filters == -5


@pytest.mark.parametrize(
    ("params", "X", "message"),
    [
        ({"network": "conv"}, _finite(), "network='conv' needs images"),
        ({"loss": "wgan-gp", "critic_norm": "batch"}, _finite(), "critic_norm='batch'"),
        ({"n_steps": None, "epochs": None, "max_time": None}, _finite(), "At least one"),
    ],
)
def test_inconsistent_parameters_are_rejected(params, X, message):
    gan = _gan(**params)
    with pytest.raises(ValueError, match=message):
        gan.fit(X)
    assert not hasattr(gan, "generator_")


def test_sample_before_fit_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GANEstimator().sample(3)
    with pytest.raises(NotFittedError):
        GANEstimator().normalized_losses()


def test_pandas_and_lists_are_accepted_like_arrays():
    pd = pytest.importorskip("pandas")
    X = _finite()
    frame = pd.DataFrame(X, columns=["x", "y", "z"])
    gan = _gan().fit(frame)
    assert gan.n_features_in_ == 3 and list(gan.feature_names_in_) == ["x", "y", "z"]
    assert gan.sample(4, random_state=0).shape == (4, 3)
    from_list = _gan().fit(X.tolist())
    from_array = _gan().fit(X)
    np.testing.assert_array_equal(
        from_list.sample(4, random_state=0), from_array.sample(4, random_state=0)
    )
    assert not hasattr(from_array, "feature_names_in_")


@pytest.mark.slow
def test_image_stacks_of_any_layout_round_trip_their_shape():
    rng = np.random.default_rng(0)
    cases = [((12, 7, 9), (7, 9, 1)), ((12, 6, 5, 3), (6, 5, 3))]
    for shape, image_shape in cases:
        X = rng.uniform(-3, 5, size=shape)
        gan = _gan(n_filters=4).fit(X)
        assert gan.network_ == "conv" and gan.image_shape_ == image_shape
        assert not hasattr(gan, "n_features_in_")
        samples = gan.sample(5, random_state=0)
        assert samples.shape == (5, *shape[1:])
        assert samples.min() >= -3 and samples.max() <= 5
    gan = _gan(network="mlp").fit(rng.uniform(0, 1, size=(12, 4, 4)))
    assert gan.network_ == "mlp" and gan.sample(2).shape == (2, 4, 4)


def test_score_checks_x_against_the_training_data():
    gan = _gan().fit(_finite(40))
    assert np.isfinite(gan.score(_finite(30)))
    with pytest.raises(ValueError, match="X has 2 features, but GANEstimator is expecting 3"):
        gan.score(_finite(30, d=2))
    with pytest.raises(ValueError, match="NaN"):
        gan.score(_with(np.nan))


@pytest.mark.slow
def test_score_checks_image_shapes():
    X = np.random.default_rng(0).uniform(0, 16, size=(24, 8, 8))
    gan = _gan(n_filters=4).fit(X)
    assert gan.score(X) == pytest.approx(gan.score(X[..., None]))
    with pytest.raises(ValueError, match=r"fitted on images of shape \(8, 8, 1\)"):
        gan.score(np.zeros((5, 8, 9)))
