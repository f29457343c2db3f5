"""Failure-mode diagnostics: each trips on a history/sample showing its failure, and stays quiet
on healthy ones; the report and the warning after fit."""

import json
import warnings

import numpy as np
import pytest
from _generative_fakes import FakeGenerator, make_history
from sklearn.datasets import load_digits

import gan_estimators
from gan_estimators.quality.diagnostics import (
    FAILURE_MODES,
    DiagnosticsReport,
    GANTrainingWarning,
    Thresholds,
    diagnose,
)


@pytest.fixture(scope="module")
def features():
    """Real features, a fresh sample of the same distribution, and degraded samples."""
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 8))
    return {
        "real": real,
        "good": rng.normal(size=(400, 8)),
        # Off the data manifold but as spread out as the data: bad, not collapsed.
        "garbage": rng.normal(size=(400, 8)) + 10.0,
        # Five modes repeated with tiny jitter: collapsed.
        "collapsed": np.repeat(rng.normal(size=(5, 8)), 80, axis=0)
        + 0.01 * rng.normal(size=(400, 8)),
        # Every sample the same: collapsed to one mode.
        "single": np.repeat(rng.normal(size=(1, 8)), 400, axis=0),
        # Contracted towards the mean, like blurred images: smoother, still covering the data.
        "contracted": 0.6 * rng.normal(size=(400, 8)),
        # An unlearned generator whose outputs come in near-identical pairs: every sample has a
        # near-duplicate and none covers the data, yet they are as varied as the data.
        "twins_off_manifold": np.repeat(rng.normal(size=(200, 8)) + 10.0, 2, axis=0)
        + 1e-3 * rng.normal(size=(400, 8)),
    }


HEALTHY = [("healthy_wgan", "wgan-gp"), ("healthy_gan", "gan"), ("healthy_wgan", None)]


@pytest.mark.parametrize(("kind", "loss"), HEALTHY)
def test_healthy_runs_raise_no_flag(features, kind, loss):
    for seed in range(5):
        report = diagnose(
            make_history(kind, seed=seed),
            real_features=features["real"],
            fake_features=features["good"],
            loss=loss,
        )
        assert report.flagged == [], str(report)
        assert report.healthy
        assert all(report[name].flagged is False for name in FAILURE_MODES)


@pytest.mark.parametrize("loss", ["gan", None])
def test_vanishing_gradients_trip(features, loss):
    report = diagnose(
        make_history("vanishing"),
        real_features=features["real"],
        fake_features=features["good"],
        loss=loss,
    )
    assert report.flagged == ["vanishing_gradients"], str(report)
    evidence = report["vanishing_gradients"].evidence
    assert evidence["generator_grad_ratio"] < 0.01
    assert (
        evidence["generator_loss_flatness"] < 0.1
        or evidence["generator_loss_tail_variation"] < 1e-3
    )
    assert evidence["critic_loss_tail"] < 0.1


def test_vanishing_gradients_need_all_three_symptoms(features):
    history = make_history("vanishing")
    # The gradient still collapses, but the critic is not winning: no flag.
    history["critic_real"] = list(np.full(200, 0.6))
    history["critic_fake"] = list(np.full(200, 0.6))
    history["critic_loss"] = list(np.full(200, 1.2) + np.linspace(0, 0.5, 200))
    report = diagnose(history, loss="gan")
    assert report["vanishing_gradients"].flagged is False


def test_wasserstein_vanishing_gradients_with_flat_saturated_critic():
    history = make_history("healthy_wgan")
    n = len(history["step"])
    t = np.arange(n)
    history["generator_grad_norm"] = list(np.exp(-t / 10))
    history["generator_loss"] = list(0.5 + 1e-5 * np.sin(t))
    history["critic_loss"] = list(-2.0 + 2.0 * np.exp(-t / 10))
    report = diagnose(history, loss="wgan")
    assert report["vanishing_gradients"].flagged, str(report)


@pytest.mark.parametrize("loss", ["wgan", "wgan-gp", None])
def test_sustained_divergence_trips(features, loss):
    for seed in range(5):
        report = diagnose(
            make_history("diverging", seed=seed),
            real_features=features["real"],
            fake_features=features["good"],
            loss=loss,
        )
        assert report.flagged == ["failure_to_converge"], str(report)
        evidence = report["failure_to_converge"].evidence
        assert evidence["generator_loss_monotone"]
        assert evidence["generator_rise_in_noise_units"] > 3


def test_wasserstein_generator_loss_drift_is_not_divergence(features):
    for seed in range(5):
        report = diagnose(
            make_history("wgan_drift", seed=seed),
            real_features=features["real"],
            fake_features=features["good"],
            loss="wgan",
        )
        assert report["failure_to_converge"].flagged is False, str(report)


@pytest.mark.parametrize(("kind", "loss"), [("chance_gan", "gan"), ("chance_wgan", "wgan-gp")])
def test_critic_at_chance_trips_only_with_poor_samples(features, kind, loss):
    bad = diagnose(
        make_history(kind),
        real_features=features["real"],
        fake_features=features["garbage"],
        loss=loss,
    )
    assert bad.flagged == ["failure_to_converge"], str(bad)
    assert bad["failure_to_converge"].evidence["critic_at_chance"] is True
    assert bad["failure_to_converge"].evidence["precision"] < 0.1
    # The same critic next to realistic samples is what a converged GAN looks like.
    good = diagnose(
        make_history(kind),
        real_features=features["real"],
        fake_features=features["good"],
        loss=loss,
    )
    assert good.flagged == [], str(good)
    assert good["failure_to_converge"].evidence["critic_at_chance"] is True


@pytest.mark.parametrize("fake", ["collapsed", "single"])
def test_mode_collapse_trips(features, fake):
    report = diagnose(
        make_history("healthy_wgan"),
        real_features=features["real"],
        fake_features=features[fake],
    )
    assert report.flagged == ["mode_collapse"], str(report)
    evidence = report["mode_collapse"].evidence
    assert evidence["duplicate_fraction"] == 1.0
    assert evidence["coverage"] < 0.5


@pytest.mark.parametrize("fake", ["good", "contracted", "garbage"])
def test_mode_collapse_quiet_without_collapse(features, fake):
    report = diagnose(real_features=features["real"], fake_features=features[fake])
    assert report["mode_collapse"].flagged is False, str(report)


def test_varied_duplicates_off_the_data_are_not_collapse(features):
    # Near-duplicates and no coverage, as in a collapse, but the samples are as spread out as
    # the data and none is realistic: an unlearned generator, not a collapsed one.
    report = diagnose(real_features=features["real"], fake_features=features["twins_off_manifold"])
    evidence = report["mode_collapse"].evidence
    assert evidence["duplicate_fraction"] >= 0.5
    assert evidence["coverage"] < 0.5
    assert evidence["precision"] < 0.1
    assert evidence["diversity"] >= 0.8
    assert report["mode_collapse"].flagged is False, str(report)
    # The same pairs on the data manifold are a collapse onto a few real-looking outputs.
    on_data = features["twins_off_manifold"][:40] - 10.0
    report = diagnose(real_features=features["real"], fake_features=np.tile(on_data, (10, 1)))
    assert report["mode_collapse"].flagged is True, str(report)


def test_not_assessed_when_evidence_is_missing(features):
    report = diagnose()
    assert all(report[name].flagged is None for name in FAILURE_MODES)
    short = {key: values[:10] for key, values in make_history("diverging").items()}
    report = diagnose(short, real_features=features["real"][:5], fake_features=features["good"][:5])
    assert report["vanishing_gradients"].flagged is None
    assert "only 10 iterations" in report["vanishing_gradients"].reason
    assert report["mode_collapse"].flagged is None
    assert report["mode_collapse"].evidence == {}
    partial = diagnose({"generator_loss": [0.0] * 150})
    assert partial["failure_to_converge"].flagged is None
    # Samples of a barely trained generator are not judged, however collapsed they look.
    early = {key: values[:50] for key, values in make_history("healthy_wgan").items()}
    report = diagnose(early, real_features=features["real"], fake_features=features["single"])
    assert report["mode_collapse"].flagged is None
    assert "too early" in report["mode_collapse"].reason


def test_thresholds_are_configurable(features):
    strict = Thresholds(collapse_diversity=1.1)
    report = diagnose(
        real_features=features["real"], fake_features=features["good"], thresholds=strict
    )
    assert report["mode_collapse"].flagged
    assert report.thresholds is strict
    with pytest.raises(TypeError, match="Thresholds"):
        diagnose(thresholds={"collapse_diversity": 1.1})
    with pytest.raises(TypeError, match="mapping"):
        diagnose(history=[1, 2, 3])


def test_report_is_dict_like_serialisable_and_printable(features):
    report = diagnose(
        make_history("diverging"),
        real_features=features["real"],
        fake_features=features["collapsed"],
    )
    assert list(report) == list(FAILURE_MODES) == report.keys()
    assert len(report) == 3 and "mode_collapse" in report
    assert dict(report.items())["mode_collapse"] is report.mode_collapse
    with pytest.raises(KeyError):
        report["exploding"]
    data = report.to_dict()
    restored = DiagnosticsReport.from_dict(json.loads(json.dumps(data)))
    assert restored.flagged == report.flagged == ["mode_collapse", "failure_to_converge"]
    assert restored.mode_collapse.evidence == pytest.approx(report.mode_collapse.evidence)
    text = str(report)
    assert "mode_collapse: FLAGGED" in text and "Remedy:" in text
    assert "vanishing_gradients: ok" in text
    for name in FAILURE_MODES:
        assert report[name].remedy


# ------------------------------------------------------------------------------------------
# After fit, through the mixin
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digit_images():
    digits = load_digits()
    return digits.images[digits.target == 3]


def test_warning_class_is_exposed_lazily():
    assert issubclass(GANTrainingWarning, UserWarning)
    assert gan_estimators.GANTrainingWarning is GANTrainingWarning


def test_healthy_fit_is_silent_and_stores_report(digit_images):
    with warnings.catch_warnings():
        warnings.simplefilter("error", GANTrainingWarning)
        estimator = FakeGenerator(noise=0.02, random_state=0).fit(digit_images)
    assert isinstance(estimator.diagnostics_, DiagnosticsReport)
    assert estimator.diagnostics_.flagged == []
    assert estimator.diagnostics_["mode_collapse"].evidence["n_samples"] == len(digit_images)


@pytest.mark.parametrize(
    ("params", "mode"),
    [
        ({"n_modes": 2}, "mode_collapse"),
        ({"history_kind": "vanishing", "loss": "gan"}, "vanishing_gradients"),
        ({"history_kind": "diverging"}, "failure_to_converge"),
        ({"uniform": True, "history_kind": "chance_gan", "loss": "gan"}, "failure_to_converge"),
    ],
)
def test_failing_fit_warns(digit_images, params, mode):
    with pytest.warns(GANTrainingWarning, match=mode.replace("_", " ")) as record:
        estimator = FakeGenerator(random_state=0, noise=0.02, **params).fit(digit_images)
    assert estimator.diagnostics_.flagged == [mode]
    assert len([w for w in record if issubclass(w.category, GANTrainingWarning)]) == 1
    assert "Remedy:" in str(record[0].message)
