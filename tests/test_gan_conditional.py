"""Class-conditional GANs: ``fit(X, y)``, ``sample(n, y=...)``, ``score(X, y)``, continued
training, persistence and search with labels."""

import json
import os
import pickle

import numpy as np
import pytest

from gan_estimators import GANEstimator
from gan_estimators.gan.errors import ModelFolderError
from gan_estimators.gan.folder import write_manifest
from gan_estimators.gan.persistence import FORMAT, VERSION

TINY = {
    "network": "mlp",
    "n_filters": 2,
    "latent_dim": 3,
    "batch_size": 8,
    "n_steps": 3,
    "random_state": 0,
    "feature_map": None,
}
TINY_CONV = {**TINY, "network": "conv", "n_filters": 4, "latent_dim": 4}
RNG = np.random.default_rng(0)
TABLE = RNG.normal(size=(36, 3)).astype(np.float32)
IMAGES = RNG.uniform(0, 255, size=(24, 8, 8)).astype(np.float32)


def _table_labels(values):
    """Labels cycling through ``values`` for the rows of ``TABLE``."""
    return [values[i % len(values)] for i in range(len(TABLE))]


LABEL_KINDS = {
    "int": np.array(_table_labels([3, -1, 7])),
    "numpy int32": np.array(_table_labels([3, -1, 7]), dtype=np.int32),
    "str list": _table_labels(["cat", "dog", "emu"]),
    "float": np.array(_table_labels([0.5, 2.25])),
    "bool": np.array(_table_labels([True, False])),
}


def _series(values):
    pandas = pytest.importorskip("pandas")
    return pandas.Series(values, name="label")


def _assert_same_classes(loaded, fitted):
    assert loaded.classes_.dtype == fitted.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, fitted.classes_)
    np.testing.assert_array_equal(loaded.class_prior_, fitted.class_prior_)


@pytest.mark.parametrize("kind", [*LABEL_KINDS, "pandas str", "pandas int"])
def test_labels_of_each_type_round_trip_through_sample_pickle_and_save(kind, tmp_path):
    if kind == "pandas str":
        y = _series(_table_labels(["cat", "dog", "emu"]))
    elif kind == "pandas int":
        y = _series(_table_labels([10, 20]))
    else:
        y = LABEL_KINDS[kind]
    gan = GANEstimator(**TINY).fit(TABLE, y)
    expected, counts = np.unique(np.asarray(y), return_counts=True)
    np.testing.assert_array_equal(gan.classes_, expected)
    np.testing.assert_allclose(gan.class_prior_, counts / counts.sum())
    samples, labels = gan.sample(12, random_state=1, return_labels=True)
    assert samples.shape == (12, 3)
    assert labels.dtype == gan.classes_.dtype
    assert set(labels.tolist()) <= set(gan.classes_.tolist())

    for restored in (pickle.loads(pickle.dumps(gan)), _saved_and_loaded(gan, tmp_path)):
        _assert_same_classes(restored, gan)
        again, again_labels = restored.sample(12, random_state=1, return_labels=True)
        np.testing.assert_array_equal(again, samples)
        np.testing.assert_array_equal(again_labels, labels)


def _saved_and_loaded(gan, tmp_path):
    gan.save(tmp_path / "model")
    return GANEstimator.load(tmp_path / "model")


@pytest.fixture(scope="module")
def conditional():
    return GANEstimator(**TINY).fit(TABLE, LABEL_KINDS["str list"])


def test_sample_of_one_class_returns_only_that_class_and_follows_random_state(conditional):
    samples, labels = conditional.sample(10, y="dog", random_state=4, return_labels=True)
    assert labels.tolist() == ["dog"] * 10
    np.testing.assert_array_equal(conditional.sample(10, y="dog", random_state=4), samples)
    assert not np.array_equal(conditional.sample(10, y="dog", random_state=5), samples)
    # The label changes the samples drawn from the same latent vectors.
    assert not np.array_equal(conditional.sample(10, y="cat", random_state=4), samples)


def test_sample_takes_one_label_per_sample(conditional):
    asked = ["emu", "cat", "cat", "dog"]
    samples, labels = conditional.sample(4, y=asked, random_state=0, return_labels=True)
    assert labels.tolist() == asked
    single = conditional.sample(1, y="cat", random_state=0)
    assert samples.shape == (4, 3) and single.shape == (1, 3)
    with pytest.raises(ValueError, match="n=3 labels"):
        conditional.sample(3, y=["cat", "dog"])


def test_sample_without_labels_draws_classes_from_the_prior(conditional):
    _, labels = conditional.sample(600, random_state=0, return_labels=True)
    shares = [np.mean(labels == c) for c in conditional.classes_]
    np.testing.assert_allclose(shares, conditional.class_prior_, atol=0.06)


def test_unknown_labels_name_the_known_classes(conditional):
    with pytest.raises(ValueError, match=r"'owl'.*known classes are \['cat', 'dog', 'emu'\]"):
        conditional.sample(2, y="owl")
    with pytest.raises(ValueError, match="y must hold class labels of one type"):
        conditional.sample(2, y=["cat", 1])


def test_labels_given_to_an_unconditional_model_are_refused():
    gan = GANEstimator(**TINY).fit(TABLE)
    assert not hasattr(gan, "classes_")
    samples, labels = gan.sample(3, random_state=0, return_labels=True)
    assert labels is None and samples.shape == (3, 3)
    with pytest.raises(ValueError, match="fitted without class labels"):
        gan.sample(2, y=0)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        ([0, 1] * 10, "X has 36 samples, y has 20"),
        (["a"] * 36, "at least 2 classes"),
        (["a", None] * 18, "missing labels"),
        ([0.0, np.nan] * 18, "missing labels"),
        (np.zeros((36, 2)), "1-D"),
        ([1, "a"] * 18, "one type"),
        (np.array([1 + 2j] * 36), "dtype complex"),
    ],
)
def test_invalid_labels_are_refused_before_training(y, message):
    gan = GANEstimator(**TINY)
    with pytest.raises(ValueError, match=message) as info:
        gan.fit(TABLE, y)
    assert "y" in str(info.value)
    assert not hasattr(gan, "generator_")


def test_score_with_labels_is_the_mean_of_the_per_class_scores(conditional):
    y = np.array(LABEL_KINDS["str list"])
    score = conditional.score(TABLE, y)
    assert set(conditional.per_class_scores_) == {"cat", "dog", "emu"}
    assert score == pytest.approx(np.mean(list(conditional.per_class_scores_.values())))
    assert all(value <= 0 for value in conditional.per_class_scores_.values())
    # Each class is scored on its own rows: a subset of the classes gives theirs.
    subset = y != "emu"
    conditional.score(TABLE[subset], y[subset])
    assert set(conditional.per_class_scores_) == {"cat", "dog"}
    # Without labels, the pooled samples are scored.
    assert conditional.score(TABLE) != pytest.approx(score)
    with pytest.raises(ValueError, match="at least 2"):
        conditional.score(TABLE[:4], y[:4])


def test_continued_training_keeps_its_classes_and_refuses_new_ones():
    y = np.array(LABEL_KINDS["int"])
    gan = GANEstimator(**TINY, warm_start=True).fit(TABLE, y)
    prior = gan.class_prior_.copy()
    gan.fit(TABLE[y != 7], y[y != 7])  # a subset of the classes continues
    assert gan.n_steps_ == 6
    np.testing.assert_array_equal(gan.class_prior_, prior)
    with pytest.raises(ValueError, match=r"holds labels .*: 8; the known classes"):
        gan.fit(TABLE, np.where(y == 7, 8, y))
    with pytest.raises(ValueError, match="can only continue with y"):
        gan.partial_fit(TABLE)
    assert gan.n_steps_ == 6
    unconditional = GANEstimator(**TINY).fit(TABLE)
    with pytest.raises(ValueError, match="fitted without class labels"):
        unconditional.partial_fit(TABLE, y)
    # A new fit (no warm start) may change its mind either way.
    gan.set_params(warm_start=False).fit(TABLE)
    assert not hasattr(gan, "classes_")
    assert unconditional.fit(TABLE, y).classes_.tolist() == [-1, 3, 7]


def test_a_held_out_fraction_holds_out_the_labels_of_its_samples():
    from gan_estimators.gan.monitoring import split_holdout

    y = np.where(TABLE[:, 0] > 0.5, "high", "low")
    gan = GANEstimator(**TINY, validation_fraction=0.25, early_stopping=True, eval_every=1)
    gan.fit(TABLE, y)
    assert len(gan.history_["val_score"]) == 3
    trained, _ = split_holdout(np.arange(len(TABLE)), 0.25, gan._seed_)
    _, counts = np.unique(y[trained], return_counts=True)
    np.testing.assert_allclose(gan.class_prior_, counts / len(trained))
    assert not np.allclose(gan.class_prior_, np.unique(y, return_counts=True)[1] / len(y))


@pytest.mark.parametrize("loss", ["gan", "wgan", "wgan-gp"])
def test_every_loss_trains_a_conditional_conv_gan_and_it_persists(loss, tmp_path):
    y = np.arange(len(IMAGES)) % 2
    gan = GANEstimator(**TINY_CONV, loss=loss, n_critic=2).fit(IMAGES, y)
    assert np.all(np.isfinite(gan.history_["critic_loss"]))
    if loss == "wgan-gp":
        assert min(gan.history_["gradient_penalty"]) > 0
    if loss == "wgan":  # the projection's class embedding is clipped with the kernels
        embedding = gan.critic_.get_layer("c_label_embedding").embeddings.numpy()
        assert np.abs(embedding).max() <= gan.clip_value + 1e-7
    loaded = _saved_and_loaded(gan, tmp_path)
    _assert_same_classes(loaded, gan)
    np.testing.assert_array_equal(
        loaded.sample(4, y=1, random_state=0), gan.sample(4, y=1, random_state=0)
    )
    loaded.partial_fit(IMAGES, y)
    assert loaded.n_steps_ == 6


def _edited_folder(gan, folder, edit):
    gan.save(folder)
    path = os.path.join(folder, "estimator.json")
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    edit(document["fitted"])
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    write_manifest(folder, FORMAT, VERSION)  # an edit the manifest cannot tell


def test_the_saved_folder_stores_the_classes_as_json(conditional, tmp_path):
    conditional.save(tmp_path / "model")
    with open(tmp_path / "model" / "estimator.json", encoding="utf-8") as handle:
        fitted = json.load(handle)["fitted"]
    assert fitted["classes_"] == ["cat", "dog", "emu"]
    assert fitted["class_prior_"] == pytest.approx([1 / 3] * 3)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.update(classes_=["cat", "dog", 3]), "classes_ must be a list"),
        (lambda f: f.update(classes_=["dog", "cat", "emu"]), "sorted and distinct"),
        (lambda f: f.update(classes_dtype="<M8[s]"), "classes_dtype"),
        (lambda f: f.update(class_prior_=[0.5, 0.5, 0.5]), "class_prior_"),
        (lambda f: f.pop("class_prior_"), "stored together"),
        (lambda f: f.update(classes_=["cat", "dog"], class_prior_=[0.5, 0.5]), "embed the 2"),
    ],
)
def test_malformed_classes_in_a_folder_are_refused(conditional, tmp_path, edit, message):
    _edited_folder(conditional, str(tmp_path / "model"), edit)
    with pytest.raises(ModelFolderError, match=message):
        GANEstimator.load(tmp_path / "model")


def test_a_folder_of_a_conditional_model_without_its_classes_is_refused(conditional, tmp_path):
    def drop(fitted):
        for key in ("classes_", "classes_dtype", "class_prior_"):
            fitted.pop(key)

    _edited_folder(conditional, str(tmp_path / "model"), drop)
    with pytest.raises(ModelFolderError, match="maps inputs of shape"):
        GANEstimator.load(tmp_path / "model")


# A network this small collapses within a class, and says so.
@pytest.mark.filterwarnings("ignore::gan_estimators.quality.diagnostics.GANTrainingWarning")
def test_a_conditional_gan_samples_the_digit_asked_for():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    digits = load_digits()
    keep = digits.target < 2
    X, y = digits.images[keep], digits.target[keep]
    classifier = LogisticRegression(max_iter=1000).fit(X.reshape(len(X), -1), y)
    gan = GANEstimator(
        network="conv",
        n_filters=8,
        latent_dim=8,
        batch_size=32,
        n_steps=300,
        random_state=0,
        feature_map=None,
    ).fit(X, y)
    for digit in (0, 1):
        samples = gan.sample(200, y=digit, random_state=1)
        share = np.mean(classifier.predict(samples.reshape(200, -1)) == digit)
        assert share >= 0.9, (digit, share)


def test_the_label_embedding_starts_at_unit_norm_not_at_the_scale_of_z():
    # An embedding as large as z (norm sqrt(latent_dim)) made every class collapse to
    # near-duplicates on MNIST (docs/user_guide/conditional.rst); it starts like a one-hot code.
    from gan_estimators.gan.conditioning import GENERATOR_EMBEDDING

    X = np.random.default_rng(0).normal(size=(40, 6))
    y = np.repeat(["a", "b", "c", "d"], 10)
    gan = GANEstimator(latent_dim=128, n_filters=4, n_steps=1, random_state=0).fit(X, y)
    weights = gan.generator_.get_layer(GENERATOR_EMBEDDING).get_weights()[0]
    assert weights.shape == (4, 128)
    assert np.linalg.norm(weights, axis=1) == pytest.approx(np.ones(4), abs=0.3)


def test_a_search_with_stratified_folds_trains_conditional_candidates():
    from sklearn.model_selection import StratifiedKFold

    from gan_estimators import EvolutionarySearchCV, Real

    y = np.array(LABEL_KINDS["str list"])
    search = EvolutionarySearchCV(
        GANEstimator(**TINY),
        {"learning_rate": Real(1e-4, 1e-2, log=True)},
        cv=StratifiedKFold(2),
        population_size=2,
        generations=1,
        random_state=0,
    ).fit(TABLE, y)
    assert search.best_estimator_.classes_.tolist() == ["cat", "dog", "emu"]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
