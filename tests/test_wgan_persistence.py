"""Fitted GANEstimators and WGANEstimators survive pickle, joblib, deepcopy, clone and
save/load unchanged; folders and pickles of earlier releases load as they were saved."""

import copy
import fractions
import json
import math
import os
import pickle
import warnings

import joblib
import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from gan_estimators import CSVLogger, GANEstimator, WGANEstimator
from gan_estimators.gan.errors import ModelFolderError
from gan_estimators.gan.fitted_state import ADDED_IN_7
from gan_estimators.gan.folder import write_manifest
from gan_estimators.gan.persistence import FORMAT, VERSION
from gan_estimators.quality.diagnostics import DiagnosticsReport, GANTrainingWarning, diagnose
from gan_estimators.quality.features import (
    CallableFeatures,
    FeatureMap,
    PCAResidualFeatures,
    StandardizedFeatures,
    UnsavedFeatureMap,
)


def _training_images():
    return np.random.default_rng(0).uniform(0, 16, size=(32, 9, 7))  # padded inside to 12 × 8


def _small_image_gan(**params):
    """A two-step fit on :func:`_training_images`; ``params`` override the small defaults."""
    params = {"n_filters": 4, "latent_dim": 6, "n_steps": 2, "batch_size": 16, **params}
    return GANEstimator(random_state=0, **params).fit(_training_images())


@pytest.fixture(scope="module")
def image_gan():
    return _small_image_gan()


@pytest.fixture(scope="module")
def table_gan():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(40, 3)) * [1, 10, 100], columns=["a", "b", "c"])
    return GANEstimator(
        loss="wgan", critic_norm="batch", dropout=0.2, optimizer="rmsprop", n_filters=2,
        n_steps=3, batch_size=16, random_state=np.random.RandomState(5),
    ).fit(X)  # fmt: skip


def _save_load(gan, tmp_path):
    gan.save(tmp_path / "gan")
    return GANEstimator.load(tmp_path / "gan")


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
    for name in ("data_min_", "data_max_", "image_shape_", "n_features_in_", "_input_ndim_"):
        assert hasattr(restored, name) == hasattr(original, name), name
    np.testing.assert_array_equal(restored.data_min_, original.data_min_)
    np.testing.assert_array_equal(restored.data_max_, original.data_max_)
    assert getattr(restored, "image_shape_", None) == getattr(original, "image_shape_", None)
    for a, b in zip(original.generator_.weights, restored.generator_.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(original.critic_.weights, restored.critic_.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert hasattr(restored, "generator_ema_") == hasattr(original, "generator_ema_")
    if hasattr(original, "generator_ema_"):
        for a, b in zip(
            original.generator_ema_.weights, restored.generator_ema_.weights, strict=True
        ):
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
    # Fitting the clone again reproduces the original fit exactly, sample quality included.
    X = _training_images()
    np.testing.assert_array_equal(
        cloned.fit(X).sample(10, random_state=2), image_gan.sample(10, random_state=2)
    )
    _assert_same_feature_map(image_gan.feature_map_, cloned.feature_map_, X)
    assert cloned.diagnostics_ == image_gan.diagnostics_
    assert cloned.score(X) == image_gan.score(X)


def test_unfitted_estimators_round_trip_too():
    gan = GANEstimator(n_filters=3, random_state=1)
    for restored in (pickle.loads(pickle.dumps(gan)), copy.deepcopy(gan), clone(gan)):
        assert restored.get_params() == gan.get_params()


def test_pickle_holds_keras_archives_not_live_models(table_gan):
    state = table_gan.__getstate__()
    assert isinstance(state["generator_"], bytes) and isinstance(state["critic_"], bytes)
    assert "_trainer" not in state and "generator_optimizer_" not in state
    # The data layout is stored as the attributes every release has pickled.
    assert state["_layout_"] == "tabular" and "_data_layout_" not in state
    np.testing.assert_array_equal(state["data_min_"], table_gan.data_min_)


def test_save_writes_plain_files_loadable_without_pickle(table_gan, tmp_path):
    folder = tmp_path / "saved"
    table_gan.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        "arrays.npz",
        "critic.keras",
        "estimator.json",
        "generator.keras",
        "generator_ema.keras",
        "manifest.json",
    ]
    document = json.loads((folder / "estimator.json").read_text())
    assert document["format"] == "gan_estimators.WGANEstimator"
    assert document["estimator"] == "GANEstimator"
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
    average = keras.saving.load_model(folder / "generator_ema.keras", compile=False)
    np.testing.assert_array_equal(
        np.asarray(average(z, training=False)),
        np.asarray(table_gan.generator_ema_(z, training=False)),
    )
    loaded = GANEstimator.load(folder)
    assert isinstance(loaded.random_state, np.random.RandomState)
    state = loaded.random_state.get_state()
    np.testing.assert_array_equal(state[1], table_gan.random_state.get_state()[1])


def test_save_rejects_parameters_json_cannot_hold(table_gan, tmp_path):
    gan = copy.deepcopy(table_gan).set_params(epochs=fractions.Fraction(1, 2))
    with pytest.raises(TypeError, match="epochs"):
        gan.save(tmp_path / "nope")


def test_save_requires_a_fitted_estimator_and_load_a_saved_folder(tmp_path):
    with pytest.raises(NotFittedError):
        GANEstimator().save(tmp_path / "x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "estimator.json").write_text(json.dumps({"format": "something"}))
    with pytest.raises(ValueError, match="does not hold"):
        GANEstimator.load(tmp_path / "other")


# ------------------------------------------------ sample quality: feature_map_ and diagnostics_


def _table(n=40):
    return np.random.default_rng(1).normal(size=(n, 3)) * [1, 10, 100]


def first_two_columns(X):
    """A module-level feature function (so it pickles by reference)."""
    return X[:, :2] * 0.5


@pytest.fixture(scope="module")
def assessed_gan():
    """Long enough (100 iterations) for every diagnostic to be assessed, with evidence."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        return GANEstimator(
            n_filters=2, latent_dim=3, n_steps=100, n_critic=1, batch_size=16,
            feature_map=StandardizedFeatures(), random_state=3,
        ).fit(_table())  # fmt: skip


@pytest.fixture(scope="module")
def callable_gan():
    return GANEstimator(
        n_filters=2, latent_dim=3, n_steps=2, n_critic=1, batch_size=16,
        feature_map=first_two_columns, random_state=4,
    ).fit(_table())  # fmt: skip


def _assert_same_feature_map(original, restored, X):
    assert type(restored) is type(original)
    assert restored.get_params() == original.get_params()
    np.testing.assert_array_equal(restored.transform(X), original.transform(X))


@pytest.mark.parametrize("how", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("which", ["image_gan", "table_gan", "assessed_gan"])
def test_round_trip_keeps_feature_map_diagnostics_and_score(how, which, request, tmp_path):
    gan = request.getfixturevalue(which)
    if which == "image_gan":
        X = np.random.default_rng(7).uniform(0, 16, size=(24, 9, 7))
    elif which == "table_gan":
        X = pytest.importorskip("pandas").DataFrame(_table(24), columns=["a", "b", "c"])
    else:
        X = _table(24)
    restored = ROUND_TRIPS[how](gan, tmp_path)
    # Scored after the round trip: a RandomState random_state is advanced by score(), and
    # both copies must start from the same state.
    assert restored.score(X) == gan.score(X)
    if which != "table_gan":  # a DataFrame's model is scored with table metrics instead
        _assert_same_feature_map(gan.feature_map_, restored.feature_map_, X)
    assert restored.diagnostics_ == gan.diagnostics_
    assert restored.diagnostics_.to_dict() == gan.diagnostics_.to_dict()
    assert restored.diagnostics_.flagged == gan.diagnostics_.flagged


def test_diagnostics_with_evidence_survive_save_load(assessed_gan, tmp_path):
    # The 2-step fixtures are too short to be assessed; this run has real evidence.
    report = assessed_gan.diagnostics_
    assert all(report[name].flagged is not None for name in report)
    assert report.mode_collapse.evidence
    restored = _save_load(assessed_gan, tmp_path).diagnostics_
    assert restored.mode_collapse.evidence == report.mode_collapse.evidence
    assert str(restored) == str(report)


def test_save_stores_the_feature_map_as_json_and_arrays(assessed_gan, tmp_path):
    assessed_gan.save(tmp_path / "saved")
    document = json.loads((tmp_path / "saved" / "estimator.json").read_text())
    assert document["version"] == VERSION == 8
    assert document["params"]["feature_map"]["__feature_map__"] == "StandardizedFeatures"
    assert document["feature_map_"]["class"] == "StandardizedFeatures"
    assert document["diagnostics_"]["mode_collapse"]["flagged"] is not None
    with np.load(tmp_path / "saved" / "arrays.npz", allow_pickle=False) as arrays:
        np.testing.assert_array_equal(
            arrays["feature_map__scale_"], assessed_gan.feature_map_.scale_
        )
    loaded = GANEstimator.load(tmp_path / "saved")
    assert isinstance(loaded.feature_map, StandardizedFeatures)
    assert loaded.feature_map.get_params() == assessed_gan.feature_map.get_params()


def _rewrite_as_version(folder, version):
    """Turn a saved folder into what gan_estimators wrote in an older format ``version``."""
    document = json.loads((folder / "estimator.json").read_text())
    document["version"] = version
    # Format 7 added the class name, validation, early stopping and callbacks.
    del document["estimator"]
    for name in ADDED_IN_7:
        del document["params"][name]
    for name in ("best_step_", "best_val_score_", "stopped_early_"):
        document["fitted"].pop(name, None)
    for name in ("val_step", "val_score"):
        document["history_"].pop(name, None)
    if version == 6:
        (folder / "estimator.json").write_text(json.dumps(document))
        write_manifest(folder, FORMAT, version)
        return
    # Format 6 added the manifest.
    (folder / "manifest.json").unlink()
    # Folders written before the optimizer key rebuild the optimizers the parameters name.
    del document["fitted"]["optimizer_key"]
    # Format 5 added upsampling: older generators upsampled to the nearest neighbour.
    assert document["params"].pop("upsampling") == "nearest"
    del document["fitted"]["structure"]["upsampling"]
    if version < 4:
        # Format 4 added critic_width: older critics were as wide as their generator.
        assert document["params"].pop("critic_width") == 1.0
        del document["fitted"]["structure"]["critic_width"]
    if version < 3:
        # Format 3 added the weight average (the parameter and generator_ema.keras).
        del document["params"]["ema_decay"]
        (folder / "generator_ema.keras").unlink(missing_ok=True)
    if version < 2:
        del document["feature_map_"], document["diagnostics_"]
        with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
            kept = {k: arrays[k] for k in arrays.files if not k.startswith("feature_map__")}
        np.savez(folder / "arrays.npz", **kept)
    (folder / "estimator.json").write_text(json.dumps(document))


# Formats 1 to 3 predate critic_width (their critics were as wide as their generator), and
# formats 1 to 4 predate upsampling (their generators upsampled to the nearest neighbour).
@pytest.fixture(scope="module")
def unaveraged_image_gan():
    return _small_image_gan(critic_width=1.0, upsampling="nearest", ema_decay=None)


@pytest.fixture(scope="module")
def narrow_critic_gan():
    return _small_image_gan(critic_width=1.0, upsampling="nearest")


@pytest.fixture(scope="module")
def upsampling_gan():
    return _small_image_gan(upsampling="nearest")


def test_version_1_folders_still_load(unaveraged_image_gan, tmp_path):
    image_gan = unaveraged_image_gan  # format 1 predates the weight average
    image_gan.save(tmp_path / "v1")
    _rewrite_as_version(tmp_path / "v1", 1)
    with pytest.warns(UserWarning, match="older gan_estimators"):
        loaded = GANEstimator.load(tmp_path / "v1")
    assert type(loaded) is WGANEstimator  # the one class of that release
    _same_fit(image_gan, loaded)
    np.testing.assert_array_equal(
        loaded.sample(5, random_state=1), image_gan.sample(5, random_state=1)
    )
    assert not hasattr(loaded, "feature_map_") and not hasattr(loaded, "diagnostics_")
    # As version 1 documented: score() fits the default feature map on the scored data.
    X = np.random.default_rng(7).uniform(0, 16, size=(24, 9, 7))
    assert math.isfinite(loaded.score(X))


def test_version_2_folders_load_without_a_weight_average(narrow_critic_gan, tmp_path):
    image_gan = narrow_critic_gan
    image_gan.save(tmp_path / "v2")
    assert (tmp_path / "v2" / "generator_ema.keras").exists()
    _rewrite_as_version(tmp_path / "v2", 2)

    loaded = GANEstimator.load(tmp_path / "v2")
    assert loaded.ema_decay is None and not hasattr(loaded, "generator_ema_")
    # It samples with the trained generator's own weights, as format 2 did.
    z = np.random.RandomState(1).standard_normal((5, image_gan.latent_dim)).astype(np.float32)
    np.testing.assert_allclose(
        loaded.sample(5, random_state=1),
        image_gan._data_layout_.unscale(np.asarray(image_gan.generator_(z, training=False))),
        rtol=1e-6,
    )


def test_version_3_folders_load_with_a_critic_as_wide_as_the_generator(narrow_critic_gan, tmp_path):
    narrow_critic_gan.save(tmp_path / "v3")
    _rewrite_as_version(tmp_path / "v3", 3)

    loaded = GANEstimator.load(tmp_path / "v3")
    _same_fit(narrow_critic_gan, loaded)
    assert loaded.critic_width == 1.0
    np.testing.assert_array_equal(
        loaded.sample(5, random_state=1), narrow_critic_gan.sample(5, random_state=1)
    )
    # the stored architecture matches, so training goes on
    assert loaded.partial_fit(_training_images()).n_steps_ == 2 * narrow_critic_gan.n_steps_


def test_version_4_folders_load_with_nearest_neighbour_upsampling(upsampling_gan, tmp_path):
    upsampling_gan.save(tmp_path / "v4")
    _rewrite_as_version(tmp_path / "v4", 4)

    loaded = GANEstimator.load(tmp_path / "v4")
    _same_fit(upsampling_gan, loaded)
    assert loaded.upsampling == "nearest" and loaded.critic_width == upsampling_gan.critic_width
    np.testing.assert_array_equal(
        loaded.sample(5, random_state=1), upsampling_gan.sample(5, random_state=1)
    )
    assert loaded.partial_fit(_training_images()).n_steps_ == 2 * upsampling_gan.n_steps_


def test_pickles_from_before_critic_width_load_with_the_architecture_they_had(
    narrow_critic_gan,
):
    state = narrow_critic_gan.__getstate__()
    legacy = ("critic_width", "upsampling")
    for name in legacy:
        del state[name]
    state["_structure_"] = {k: v for k, v in state["_structure_"].items() if k not in legacy}
    old = pickle.loads(pickle.dumps(state))
    restored = GANEstimator.__new__(GANEstimator)
    restored.__setstate__(old)

    assert restored.critic_width == 1.0 and restored.upsampling == "nearest"
    _same_fit(narrow_critic_gan, restored)
    assert restored.partial_fit(_training_images()).n_steps_ == 2 * narrow_critic_gan.n_steps_


def test_newer_format_versions_are_refused(image_gan, tmp_path):
    image_gan.save(tmp_path / "future")
    document = json.loads((tmp_path / "future" / "estimator.json").read_text())
    document["version"] = 99
    (tmp_path / "future" / "estimator.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="version 99"):
        GANEstimator.load(tmp_path / "future")


# ------------------------------------------------ the two classes; earlier releases' files


def _as_wgan_estimator(gan):
    """``gan``'s parameters and fitted state in a WGANEstimator: what a release before
    GANEstimator existed fitted with the same parameters."""
    old = WGANEstimator(**gan.get_params())
    old.__dict__.update(gan.__dict__)
    return old


def test_format_6_folders_load_as_wgan_estimators_with_their_parameters(image_gan, tmp_path):
    # Written by WGANEstimator() when its defaults were those of today's GANEstimator.
    assert image_gan.loss == "gan"
    image_gan.save(tmp_path / "v6")
    _rewrite_as_version(tmp_path / "v6", 6)
    for cls in (GANEstimator, WGANEstimator):
        loaded = cls.load(tmp_path / "v6")
        assert type(loaded) is WGANEstimator
        _same_fit(image_gan, loaded)
        assert loaded.get_params() == image_gan.get_params()  # loss="gan" included
        np.testing.assert_array_equal(
            loaded.sample(5, random_state=1), image_gan.sample(5, random_state=1)
        )
    assert loaded.partial_fit(_training_images()).n_steps_ == 2 * image_gan.n_steps_


def test_pickles_of_earlier_releases_load_as_wgan_estimators(image_gan, monkeypatch):
    old = _as_wgan_estimator(image_gan)
    # The state an earlier release pickled: no parameters of validation or callbacks.
    state = GANEstimator.__getstate__
    monkeypatch.setattr(
        WGANEstimator,
        "__getstate__",
        lambda self: {k: v for k, v in state(self).items() if k not in ADDED_IN_7},
    )
    data = pickle.dumps(old, protocol=0)
    monkeypatch.undo()
    # Releases before the subpackages pickled the class under gan_estimators.wgan.
    module = b"cgan_estimators.gan.estimator\nWGANEstimator\n"
    assert module in data
    data = data.replace(module, b"cgan_estimators.wgan\nWGANEstimator\n")
    restored = pickle.loads(data)
    assert type(restored) is WGANEstimator
    assert restored.get_params() == image_gan.get_params()
    _same_fit(image_gan, restored)
    np.testing.assert_array_equal(
        restored.sample(5, random_state=1), image_gan.sample(5, random_state=1)
    )


def test_each_class_loads_as_saved_and_as_itself(image_gan, tmp_path):
    image_gan.save(tmp_path / "gan")
    _as_wgan_estimator(image_gan).save(tmp_path / "wgan")
    assert type(GANEstimator.load(tmp_path / "gan")) is GANEstimator
    assert type(GANEstimator.load(tmp_path / "wgan")) is WGANEstimator
    assert type(WGANEstimator.load(tmp_path / "wgan")) is WGANEstimator
    # A GANEstimator's folder through WGANEstimator.load: its parameters, in that class.
    loaded = WGANEstimator.load(tmp_path / "gan")
    assert type(loaded) is WGANEstimator
    assert loaded.get_params() == image_gan.get_params()
    np.testing.assert_array_equal(
        loaded.sample(5, random_state=1), image_gan.sample(5, random_state=1)
    )


def test_a_wgan_estimator_round_trips_with_its_defaults(tmp_path):
    gan = WGANEstimator(n_filters=4, latent_dim=6, n_steps=2, batch_size=16, random_state=0)
    gan.fit(_training_images())
    assert gan.loss == "wgan"  # the class's default, not GANEstimator's
    for how in ("pickle", "save_load"):
        restored = ROUND_TRIPS[how](gan, tmp_path)
        assert type(restored) is WGANEstimator
        _same_fit(gan, restored)


@pytest.fixture(scope="module")
def watched_gan():
    """Early-stopped with held-out scores, and two callbacks: a CSVLogger and a lambda."""
    rng = np.random.default_rng(2)
    X, held_out = rng.normal(size=(40, 3)), rng.normal(size=(12, 3))
    return GANEstimator(
        n_filters=2, latent_dim=3, n_steps=6, batch_size=16, random_state=0,
        validation_data=held_out, eval_every=2, early_stopping=True,
        callbacks=[CSVLogger(os.devnull, every=100), lambda estimator, logs: None],
    ).fit(X)  # fmt: skip


def test_save_keeps_held_out_scores_and_early_stopping_but_not_data_or_callbacks(
    watched_gan, tmp_path
):
    watched_gan.save(tmp_path / "w")
    loaded = GANEstimator.load(tmp_path / "w")
    assert loaded.history_ == watched_gan.history_
    assert loaded.history_["val_step"] == [2, 4, 6]
    assert (loaded.best_step_, loaded.best_val_score_) == (
        watched_gan.best_step_,
        watched_gan.best_val_score_,
    )
    assert loaded.validation_data is None and loaded.callbacks is None
    params = watched_gan.get_params()
    for name in ("eval_every", "early_stopping", "n_iter_no_change", "tol"):
        assert loaded.get_params()[name] == params[name]
    np.testing.assert_array_equal(
        loaded.sample(5, random_state=1), watched_gan.sample(5, random_state=1)
    )


def test_pickle_keeps_the_callbacks_that_pickle(watched_gan):
    with pytest.warns(UserWarning, match=r"callbacks\[1\] \(function .*<lambda>\) cannot be"):
        restored = pickle.loads(pickle.dumps(watched_gan))
    assert [type(c) for c in restored.callbacks] == [CSVLogger]
    assert len(watched_gan.callbacks) == 2  # the estimator itself keeps both
    np.testing.assert_array_equal(restored.validation_data, watched_gan.validation_data)
    assert restored.best_step_ == watched_gan.best_step_
    # clone keeps every callback as a parameter
    assert len(clone(watched_gan).callbacks) == 2


def test_a_user_feature_function_is_not_saved_and_load_says_how_to_restore_it(
    callable_gan, tmp_path
):
    with pytest.warns(UserWarning, match="cannot store feature_map=function.*first_two_columns"):
        callable_gan.save(tmp_path / "f")
    document = json.loads((tmp_path / "f" / "estimator.json").read_text())
    assert document["feature_map_"] is None
    assert document["diagnostics_"] is not None

    loaded = GANEstimator.load(tmp_path / "f")
    assert isinstance(loaded.feature_map, UnsavedFeatureMap)
    assert "first_two_columns" in loaded.feature_map.description
    assert not hasattr(loaded, "feature_map_")
    assert loaded.diagnostics_ == callable_gan.diagnostics_
    np.testing.assert_array_equal(
        loaded.sample(5, random_state=1), callable_gan.sample(5, random_state=1)
    )
    X = _table(24)
    with pytest.raises(ValueError, match=r"first_two_columns\) was not saved.*load\(path, feat"):
        loaded.score(X)
    # Training more would lose the feature map too: refused before any step is trained.
    steps = loaded.n_steps_
    for train in (loaded.partial_fit, loaded.fit):
        with pytest.raises(ValueError, match=r"first_two_columns\) was not saved"):
            train(X)
        assert loaded.n_steps_ == steps

    # Passed again, the function scores exactly as before (it learns nothing from data).
    restored = GANEstimator.load(tmp_path / "f", feature_map=first_two_columns)
    assert restored.feature_map is first_two_columns
    assert restored.score(X) == callable_gan.score(X)
    # ... and a re-save of the placeholder keeps saying what is missing.
    with pytest.warns(UserWarning, match="first_two_columns"):
        loaded.save(tmp_path / "again")


def test_load_refuses_a_feature_map_when_the_folder_stores_one(image_gan, tmp_path):
    image_gan.save(tmp_path / "g")
    with pytest.raises(ValueError, match="stores the estimator's feature map"):
        GANEstimator.load(tmp_path / "g", feature_map=first_two_columns)


def test_save_warns_for_a_keras_feature_map(table_gan, tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs), name="my_features")
    gan = copy.deepcopy(table_gan).set_params(feature_map=model)
    with pytest.warns(UserWarning, match="Keras model 'my_features'"):
        gan.save(tmp_path / "k")
    assert isinstance(GANEstimator.load(tmp_path / "k").feature_map, UnsavedFeatureMap)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_pickle_keeps_a_user_feature_function(how, callable_gan, tmp_path):
    restored = ROUND_TRIPS[how](callable_gan, tmp_path)
    assert isinstance(restored.feature_map_, CallableFeatures)
    assert restored.score(_table(24)) == callable_gan.score(_table(24))


# ------------------------------------------------ the state API behind save/load


@pytest.mark.parametrize(
    "mapping",
    [
        PCAResidualFeatures(n_components=2),
        PCAResidualFeatures(residual_weight=0),
        StandardizedFeatures(),
    ],
    ids=["pca-residual", "pca-no-residual", "standardize"],
)
def test_feature_map_state_round_trips_through_json_and_npz(mapping, tmp_path):
    X = np.random.default_rng(2).normal(size=(50, 4, 3))
    fitted = clone(mapping).fit(X)
    state = fitted.get_state()
    assert all(isinstance(v, np.ndarray) for v in state["arrays"].values())
    np.savez(tmp_path / "a.npz", **state["arrays"])
    with np.load(tmp_path / "a.npz", allow_pickle=False) as arrays:
        restored_state = json.loads(json.dumps({**state, "arrays": {}}))
        restored_state["arrays"] = {k: arrays[k] for k in arrays.files}
    restored = FeatureMap.from_state(restored_state)
    assert restored.sample_shape_ == fitted.sample_shape_ == (4, 3)
    Y = np.random.default_rng(3).normal(size=(7, 4, 3))
    np.testing.assert_array_equal(restored.transform(Y), fitted.transform(Y))
    with pytest.raises(ValueError, match="shape"):
        restored.transform(Y[:, :3])


def test_feature_map_state_refuses_what_it_cannot_store():
    X = np.random.default_rng(2).normal(size=(10, 3))
    with pytest.raises(TypeError, match="CallableFeatures cannot be stored"):
        CallableFeatures(first_two_columns).fit(X).get_state()
    state = StandardizedFeatures().fit(X).get_state()
    with pytest.raises(ValueError, match=r"'os\.system'"):
        FeatureMap.from_state({**state, "class": "os.system"})
    with pytest.raises(ValueError, match=r"PCAResidualFeatures\.from_state cannot"):
        PCAResidualFeatures.from_state(state)


def test_diagnostics_json_round_trip_keeps_nan_and_array_evidence():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    report = diagnose(real_features=real, fake_features=fake)
    report.mode_collapse.evidence["undefined"] = np.float64("nan")
    report.mode_collapse.evidence["per_window"] = np.array([1.0, 2.5])
    text = json.dumps(report.to_dict())
    restored = DiagnosticsReport.from_dict(json.loads(text))
    assert restored == report
    assert restored.mode_collapse.evidence["per_window"] == [1.0, 2.5]
    restored.mode_collapse.evidence["undefined"] = 0.0
    assert restored != report


def test_optimizer_states_that_do_not_fit_are_refused_on_load(table_gan, tmp_path):
    folder = tmp_path / "saved"
    table_gan.save(folder)
    with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
        last = max(int(k.rsplit("_", 1)[1]) for k in arrays.files if "critic" in k)
        kept = {k: arrays[k] for k in arrays.files if k != f"optimizer_critic_{last}"}
    np.savez(folder / "arrays.npz", **kept)
    write_manifest(folder, FORMAT, VERSION)  # an edit the manifest cannot tell
    with pytest.raises(ModelFolderError, match=r"arrays\.npz: Cannot restore the state"):
        GANEstimator.load(folder)


def test_optimizers_come_back_as_they_were_built(table_gan):
    gan = copy.deepcopy(table_gan)
    gan.set_params(optimizer="sgd")
    restored = pickle.loads(pickle.dumps(gan))
    assert restored.generator_optimizer_.name == table_gan.generator_optimizer_.name
    for before, after in zip(
        table_gan.critic_optimizer_.get_state(), restored.critic_optimizer_.get_state(), strict=True
    ):
        np.testing.assert_array_equal(before, after)
