"""Feature maps: the default PCA + residual map, the adapters, and the resolver."""

import pickle
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from gan_estimators.quality.features import (
    FEATURE_MAPS,
    CallableFeatures,
    FeatureMap,
    KerasFeatures,
    PCAResidualFeatures,
    StandardizedFeatures,
    TransformerFeatures,
    resolve_feature_map,
)


@pytest.fixture(scope="module")
def digits():
    """The embedded 8x8 digits as uint8-like images 0..16 (n, 8, 8)."""
    return load_digits().images


@pytest.fixture(scope="module")
def images28():
    """Random 28x28 'images': 12 latent factors plus a little pixel noise."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(12, 28 * 28))
    codes = rng.normal(size=(1500, 12))
    images = codes @ basis / 10 + 0.01 * rng.normal(size=(1500, 28 * 28))
    return images.reshape(-1, 28, 28)


# ------------------------------------------------------------------------------------------
# PCAResidualFeatures
# ------------------------------------------------------------------------------------------


def test_pca_residual_shape_whitening_and_standardised_residual(images28):
    fm = PCAResidualFeatures(n_components=8, max_fit_samples=None).fit(images28)
    features = fm.transform(images28)
    assert features.shape == (1500, 9)
    assert fm.n_features_out_ == 9 and fm.residual_
    # Whitened scores: unit variance (ddof=1) on the training data, uncorrelated.
    np.testing.assert_allclose(features[:, :8].std(axis=0, ddof=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.corrcoef(features[:, :8], rowvar=False), np.eye(8), atol=1e-6)
    # Residual: standardised, then weighted by 0.5.
    assert features[:, 8].mean() == pytest.approx(0.0, abs=1e-9)
    assert features[:, 8].std() == pytest.approx(0.5, rel=1e-6)


def test_pca_residual_is_invariant_to_data_scale_and_offset(digits):
    fm_raw = PCAResidualFeatures(random_state=0).fit(digits)
    fm_unit = PCAResidualFeatures(random_state=0).fit(digits / 16.0)
    fm_sym = PCAResidualFeatures(random_state=0).fit(digits / 8.0 - 1.0)
    probe = digits[::7]
    expected = fm_raw.transform(probe)
    np.testing.assert_allclose(np.abs(fm_unit.transform(probe / 16.0)), np.abs(expected), atol=1e-6)
    np.testing.assert_allclose(
        np.abs(fm_sym.transform(probe / 8.0 - 1.0)), np.abs(expected), atol=1e-6
    )


def test_pca_residual_channel_axis_and_shape_check(digits):
    fm = PCAResidualFeatures().fit(digits)
    np.testing.assert_allclose(fm.transform(digits[:5, :, :, None]), fm.transform(digits[:5]))
    assert fm.sample_shape_ == (8, 8)
    with pytest.raises(ValueError, match="fitted on samples of shape"):
        fm.transform(np.zeros((3, 9, 9)))
    with pytest.raises(ValueError, match="shape"):
        fm.transform(np.zeros(5))


def test_pca_residual_component_count_rules(digits, images28):
    # 12 latent factors: 99 % of the variance needs at most 12 components (+ residual).
    fm = PCAResidualFeatures().fit(images28)
    assert fm.components_.shape[0] <= 12
    # Low-dimensional rows: all components kept, no residual term (k = D).
    rows = np.random.default_rng(1).normal(size=(300, 5)) @ np.diag([5, 4, 3, 2, 1.0])
    fm_rows = PCAResidualFeatures(variance=1.0).fit(rows)
    assert fm_rows.components_.shape == (5, 5) and not fm_rows.residual_
    assert fm_rows.transform(rows).shape == (300, 5)
    # No residual when asked.
    assert not PCAResidualFeatures(residual_weight=0).fit(digits).residual_
    # Rank-deficient data: zero-variance directions are dropped rather than whitened.
    flat = np.random.default_rng(2).normal(size=(100, 3)) @ np.random.default_rng(3).normal(
        size=(3, 20)
    )
    fm_flat = PCAResidualFeatures(variance=1.0).fit(flat)
    assert fm_flat.components_.shape[0] == 3
    assert np.all(np.isfinite(fm_flat.transform(flat)))


def test_pca_residual_deterministic_and_subsampled(images28):
    a = PCAResidualFeatures(max_fit_samples=300, random_state=5).fit(images28)
    b = PCAResidualFeatures(max_fit_samples=300, random_state=5).fit(images28)
    c = PCAResidualFeatures(max_fit_samples=300, random_state=6).fit(images28)
    np.testing.assert_array_equal(a.transform(images28[:10]), b.transform(images28[:10]))
    assert not np.allclose(a.mean_, c.mean_)


def test_pca_residual_reacts_to_noise_and_blur(images28):
    """The residual term is what makes pixel noise visible (a plain PCA projects it away)."""
    fm = PCAResidualFeatures().fit(images28[:1000])
    held = images28[1000:]
    noisy = held + np.random.default_rng(4).normal(0, 0.1, held.shape)
    clean_res = fm.transform(held)[:, -1].mean()
    assert fm.transform(noisy)[:, -1].mean() > clean_res + 1.0


def test_pca_residual_on_identical_samples_measures_raw_deviation():
    fm = PCAResidualFeatures().fit(np.ones((10, 4, 4)))
    assert not fm.residual_
    np.testing.assert_allclose(fm.transform(np.full((2, 4, 4), 3.0)), 2.0)


def test_pca_residual_rejects_bad_input_and_parameters(images28):
    with pytest.raises(ValueError, match="at least 2"):
        PCAResidualFeatures().fit(images28[:1])
    with pytest.raises(ValueError, match="n_components"):
        PCAResidualFeatures(n_components=0).fit(images28)
    with pytest.raises(ValueError, match="variance"):
        PCAResidualFeatures(variance=1.5).fit(images28)
    with pytest.raises(ValueError, match="NaN"):
        PCAResidualFeatures().fit(np.full((5, 3), np.nan))
    with pytest.raises(TypeError, match="numeric"):
        PCAResidualFeatures().fit(np.array([["a", "b"], ["c", "d"]]))


def test_pca_residual_fit_and_transform_are_cheap():
    """Fitting runs inside every fit of a search; transforming inside every score."""
    from threadpoolctl import threadpool_limits

    X = np.random.default_rng(5).random((5000, 28, 28))
    with threadpool_limits(1, user_api="blas"):
        start = time.perf_counter()
        fm = PCAResidualFeatures().fit(X)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        fm.transform(X[:1000])
        transform_time = time.perf_counter() - start
    print(
        f"\nfit on 5000 28x28 (2000 used): {fit_time:.3f} s; transform 1000: {transform_time:.3f} s"
    )
    assert fit_time < 2.0
    assert transform_time < 0.5


def test_fitted_map_pickles(digits):
    fm = PCAResidualFeatures().fit(digits)
    clone = pickle.loads(pickle.dumps(fm))
    np.testing.assert_array_equal(clone.transform(digits[:4]), fm.transform(digits[:4]))


# ------------------------------------------------------------------------------------------
# Other maps and adapters
# ------------------------------------------------------------------------------------------


def test_standardized_features():
    X = np.column_stack([np.arange(10.0), np.full(10, 3.0), 100 * np.arange(10.0)])
    fm = StandardizedFeatures().fit(X)
    Z = fm.transform(X)
    np.testing.assert_allclose(Z[:, 0], Z[:, 2])
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_array_equal(Z[:, 1], 0.0)  # constant column: centred, not divided by 0


def _row_sums(X):
    return X.reshape(len(X), -1).sum(axis=1, keepdims=True)


def test_callable_features_batches_and_checks_rows(digits):
    whole = CallableFeatures(_row_sums).fit(digits)
    batched = CallableFeatures(_row_sums, batch_size=7).fit(digits)
    np.testing.assert_allclose(batched.transform(digits[:50]), whole.transform(digits[:50]))
    np.testing.assert_allclose(whole.transform(digits[:3])[:, 0], digits[:3].sum(axis=(1, 2)))
    with pytest.raises(ValueError, match="one row per sample"):
        CallableFeatures(lambda X: np.zeros(3)).fit(digits[:5])


def test_transformer_features_clone_and_fit_on_flattened(digits):
    pca = PCA(n_components=4)
    fm = TransformerFeatures(pca).fit(digits)
    assert not hasattr(pca, "components_")  # the object passed is untouched
    assert fm.transform(digits[:6]).shape == (6, 4)
    np.testing.assert_allclose(fm.transformer_.mean_, digits.reshape(len(digits), -1).mean(0))


class _FakeKerasModel:
    """Quacks like a Keras model for the adapter: called with training=False."""

    input_shape = (None, 8, 8, 1)

    def __init__(self):
        self.calls = []

    def __call__(self, x, training=None):
        self.calls.append((x.shape, x.dtype, training))
        return x.reshape(len(x), -1)[:, :3] * 2


_FakeKerasModel.__module__ = "keras.src.models.model"


def test_keras_adapter_without_tensorflow(digits):
    model = _FakeKerasModel()
    fm = resolve_feature_map(model, digits)
    assert isinstance(fm, KerasFeatures) and fm.model is model
    out = fm.transform(digits[:300])
    np.testing.assert_allclose(out, digits[:300].reshape(300, -1)[:, :3] * 2)
    shapes = {call[0] for call in model.calls}
    assert (256, 8, 8, 1) in shapes and (44, 8, 8, 1) in shapes  # batched, channel added
    assert all(call[1] == np.float32 and call[2] is False for call in model.calls)


def _divide_by_16(batch):
    return batch / 16.0


@pytest.mark.slow
def test_keras_model_and_layer_features(digits):
    keras = pytest.importorskip("keras")
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Dense(5, name="hidden", kernel_initializer="ones")(
        keras.layers.Flatten()(inputs)
    )
    outputs = keras.layers.Dense(2, name="head")(hidden)
    model = keras.Model(inputs, outputs)
    fm = KerasFeatures(model, layer="hidden", preprocess=_divide_by_16).fit(digits)
    features = fm.transform(digits[:10])
    expected = np.repeat((digits[:10] / 16.0).reshape(10, -1).sum(1, keepdims=True), 5, axis=1)
    np.testing.assert_allclose(features, expected, rtol=1e-5)
    assert resolve_feature_map(model, digits).transform(digits[:3]).shape == (3, 2)
    restored = pickle.loads(pickle.dumps(fm))
    np.testing.assert_allclose(restored.transform(digits[:10]), features, rtol=1e-5)


# ------------------------------------------------------------------------------------------
# Resolver
# ------------------------------------------------------------------------------------------


def test_resolve_names_and_defaults(digits):
    for spec in (None, "auto", "pca"):
        fm = resolve_feature_map(spec, digits, random_state=0)
        assert isinstance(fm, PCAResidualFeatures) and hasattr(fm, "components_")
    assert isinstance(resolve_feature_map("standardize", digits), StandardizedFeatures)
    assert set(FEATURE_MAPS) >= {"auto", "pca", "standardize"}
    with pytest.raises(ValueError, match=r"not a known feature map.*'pca'"):
        resolve_feature_map("inception", digits)
    with pytest.raises(TypeError, match="feature_map must be"):
        resolve_feature_map(3, digits)


def test_resolve_seeds_named_maps(digits):
    a = resolve_feature_map("pca", np.tile(digits, (2, 1, 1)), random_state=1)
    b = resolve_feature_map("pca", np.tile(digits, (2, 1, 1)), random_state=1)
    np.testing.assert_array_equal(a.mean_, b.mean_)


def test_resolve_instances_callables_and_transformers(digits):
    template = PCAResidualFeatures(n_components=5)
    fm = resolve_feature_map(template, digits)
    assert fm is not template and not hasattr(template, "components_")
    assert fm.components_.shape[0] <= 5
    assert isinstance(resolve_feature_map(_row_sums, digits), CallableFeatures)
    assert isinstance(resolve_feature_map(PCA(3), digits), TransformerFeatures)

    class Custom(FeatureMap):
        def _fit(self, X):
            self.offset_ = X.mean()

        def _transform(self, X):
            return X.reshape(len(X), -1)[:, :2] - self.offset_

    custom = resolve_feature_map(Custom(), digits)
    assert custom.transform(digits[:4]).shape == (4, 2)


def test_feature_modules_do_not_import_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "import gan_estimators.quality.features as F, gan_estimators.quality.metrics\n"
        "import gan_estimators.quality.scorers\n"
        "import gan_estimators.quality.diagnostics, gan_estimators.quality.evaluation\n"
        "X = np.random.rand(50, 8, 8)\n"
        "F.resolve_feature_map('auto', X).transform(X[:5])\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
