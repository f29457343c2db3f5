"""Fitted WGANEstimators survive pickle, joblib, deepcopy, clone and save/load unchanged."""

import copy
import json
import pickle

import joblib
import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from gan_estimators import WGANEstimator


@pytest.fixture(scope="module")
def image_gan():
    X = np.random.default_rng(0).uniform(0, 16, size=(32, 9, 7))  # padded inside to 12 × 8
    return WGANEstimator(n_filters=4, latent_dim=6, n_steps=2, batch_size=16, random_state=0).fit(X)


@pytest.fixture(scope="module")
def table_gan():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(40, 3)) * [1, 10, 100], columns=["a", "b", "c"])
    return WGANEstimator(
        loss="wgan", critic_norm="batch", dropout=0.2, optimizer="rmsprop", n_filters=2,
        n_steps=3, batch_size=16, random_state=np.random.RandomState(5),
    ).fit(X)  # fmt: skip


def _save_load(gan, tmp_path):
    gan.save(tmp_path / "gan")
    return WGANEstimator.load(tmp_path / "gan")


ROUND_TRIPS = {
    "pickle": lambda gan, tmp_path: pickle.loads(pickle.dumps(gan)),
    "joblib": lambda gan, tmp_path: joblib.load(joblib.dump(gan, tmp_path / "gan.joblib")[0]),
    "deepcopy": lambda gan, tmp_path: copy.deepcopy(gan),
    "save_load": _save_load,
}


def _same_fit(original, restored):
    assert restored is not original
    assert restored.get_params().keys() == original.get_params().keys()
    for name, value in original.get_params().items():
        if not isinstance(value, np.random.RandomState):
            assert restored.get_params()[name] == value, name
    assert restored.n_steps_ == original.n_steps_
    assert restored.history_ == original.history_
    for a, b in zip(original.generator_.weights, restored.generator_.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(original.critic_.weights, restored.critic_.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for name in ("generator_optimizer_", "critic_optimizer_"):
        for a, b in zip(
            getattr(original, name).get_state(), getattr(restored, name).get_state(), strict=True
        ):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("how", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("which", ["image_gan", "table_gan"])
def test_round_trip_keeps_the_fit_and_the_samples(how, which, request, tmp_path):
    gan = request.getfixturevalue(which)
    expected = gan.sample(20, random_state=11)
    restored = ROUND_TRIPS[how](gan, tmp_path)
    _same_fit(gan, restored)
    np.testing.assert_array_equal(restored.sample(20, random_state=11), expected)
    np.testing.assert_array_equal(gan.sample(20, random_state=11), expected)  # source intact
    if which == "image_gan":
        assert restored.image_shape_ == (9, 7, 1)
        assert not hasattr(restored, "n_features_in_")
    else:
        assert restored.n_features_in_ == 3
        assert list(restored.feature_names_in_) == ["a", "b", "c"]


@pytest.mark.parametrize("how", ["pickle", "save_load"])
def test_training_continues_after_a_round_trip(how, table_gan, tmp_path):
    pd = pytest.importorskip("pandas")
    restored = ROUND_TRIPS[how](table_gan, tmp_path)
    X = pd.DataFrame(np.random.default_rng(1).normal(size=(40, 3)), columns=["a", "b", "c"])
    before = int(restored.critic_optimizer_.iterations.numpy())
    restored.partial_fit(X)
    assert restored.n_steps_ == table_gan.n_steps_ + 3
    assert int(restored.critic_optimizer_.iterations.numpy()) == before + 3 * table_gan.n_critic
    assert len(restored.history_["step"]) == restored.n_steps_


def test_clone_of_a_fitted_estimator_is_unfitted_with_the_same_parameters(image_gan):
    cloned = clone(image_gan)
    assert cloned.get_params() == image_gan.get_params()
    assert not hasattr(cloned, "generator_")
    with pytest.raises(NotFittedError):
        cloned.sample(1)
    # Fitting the clone again reproduces the original fit exactly.
    X = np.random.default_rng(0).uniform(0, 16, size=(32, 9, 7))
    np.testing.assert_array_equal(
        cloned.fit(X).sample(10, random_state=2), image_gan.sample(10, random_state=2)
    )


def test_unfitted_estimators_round_trip_too():
    gan = WGANEstimator(n_filters=3, random_state=1)
    for restored in (pickle.loads(pickle.dumps(gan)), copy.deepcopy(gan), clone(gan)):
        assert restored.get_params() == gan.get_params()


def test_pickle_holds_keras_archives_not_live_models(table_gan):
    state = table_gan.__getstate__()
    assert isinstance(state["generator_"], bytes) and isinstance(state["critic_"], bytes)
    assert "_trainer" not in state and "generator_optimizer_" not in state


def test_save_writes_plain_files_loadable_without_pickle(table_gan, tmp_path):
    folder = tmp_path / "saved"
    table_gan.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        "arrays.npz",
        "critic.keras",
        "estimator.json",
        "generator.keras",
    ]
    document = json.loads((folder / "estimator.json").read_text())
    assert document["format"] == "gan_estimators.WGANEstimator"
    assert document["params"]["loss"] == "wgan"
    assert document["params"]["random_state"]["__numpy_random__"] == "RandomState"
    with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
        assert "data_min_" in arrays.files
    # The networks are ordinary Keras archives.
    generator = keras.saving.load_model(folder / "generator.keras", compile=False)
    z = np.random.default_rng(0).normal(size=(4, table_gan.latent_dim)).astype(np.float32)
    np.testing.assert_array_equal(
        np.asarray(generator(z, training=False)),
        np.asarray(table_gan.generator_(z, training=False)),
    )
    loaded = WGANEstimator.load(folder)
    assert isinstance(loaded.random_state, np.random.RandomState)
    state = loaded.random_state.get_state()
    np.testing.assert_array_equal(state[1], table_gan.random_state.get_state()[1])


def test_save_rejects_parameters_json_cannot_hold(table_gan, tmp_path):
    gan = copy.deepcopy(table_gan).set_params(feature_map=lambda X: X)
    with pytest.raises(TypeError, match="feature_map"):
        gan.save(tmp_path / "nope")


def test_save_requires_a_fitted_estimator_and_load_a_saved_folder(tmp_path):
    with pytest.raises(NotFittedError):
        WGANEstimator().save(tmp_path / "x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "estimator.json").write_text(json.dumps({"format": "something"}))
    with pytest.raises(ValueError, match="does not hold"):
        WGANEstimator.load(tmp_path / "other")
