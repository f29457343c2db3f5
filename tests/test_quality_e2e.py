"""End-to-end sample quality on sklearn's digits: scikit-learn searches with the package's
scorers, ``score`` rewarding training, and the mode-collapse diagnostic on real fits.

Every fit uses the MLP pair with Glorot initialisation (``init_std=None``) and otherwise the
default sizes: on 8×8 digits it trains in seconds and compiles in about 2 s, where the
convolutional pair needs 10 s or more to compile on a loaded 2-core machine.  With the
default N(0, 0.02) initialisation the MLP generator starts out emitting almost the same image
for every latent vector and still does after 300 iterations, which the mode-collapse check
rightly reports, so that initialisation cannot serve as the healthy run here.
"""

import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from gan_estimators import GANEstimator, GANTrainingWarning
from gan_estimators.datasets import extract_class, load_digits_images

# A small GAN (the default non-saturating loss) that learns one digit class in a few hundred
# iterations.
TINY = {"network": "mlp", "init_std": None, "random_state": 0}


@pytest.fixture(scope="module")
def threes():
    """The 183 images of the digit 3, shape (183, 8, 8, 1), values in [0, 1]."""
    X, y = load_digits_images(return_X_y=True)
    return extract_class(X, y, 3)


def _gan_warnings(record):
    return [w for w in record if issubclass(w.category, GANTrainingWarning)]


@pytest.mark.slow
def test_grid_search_with_kid_scoring_prefers_the_trained_candidate(threes):
    search = GridSearchCV(GANEstimator(**TINY), {"n_steps": [2, 40]}, scoring="kid", cv=2)
    search.fit(threes)

    assert np.isfinite(search.best_score_)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.all(np.isfinite(scores))
    # Negated KID: the trained candidate is closer to the held-out fold.
    assert search.best_params_ == {"n_steps": 40}, scores
    assert search.best_score_ == pytest.approx(scores.max())
    assert search.best_estimator_.n_steps_ == 40
    assert search.best_estimator_.sample(3).shape == (3, 8, 8, 1)


@pytest.mark.slow
def test_multi_metric_search_refits_on_fd_and_signs_every_metric(threes):
    scoring = {
        "fd": "fd",
        "kid": "kid",
        "recall": "sample_recall",
        "coverage": "coverage",
        "duplicates": "duplicate_fraction",
        "loss_balance": "loss_balance",
    }
    # A generator learning rate of 0.1 collapses the generator onto one saturated image.
    search = GridSearchCV(
        GANEstimator(n_steps=100, **TINY),
        {"generator_learning_rate": [0.1, 5e-4]},
        scoring=scoring,
        refit="fd",
        cv=2,
    )
    search.fit(threes)
    results = search.cv_results_

    for name in scoring:
        assert np.all(np.isfinite(results[f"mean_test_{name}"])), name
    # Greater is better everywhere: FD and the duplicate fraction come back negated.
    assert np.all(results["mean_test_fd"] < 0)
    assert np.all((results["mean_test_recall"] >= 0) & (results["mean_test_recall"] <= 1))
    assert np.all((results["mean_test_coverage"] >= 0) & (results["mean_test_coverage"] <= 1))
    assert np.all((results["mean_test_duplicates"] >= -1) & (results["mean_test_duplicates"] <= 0))
    # refit="fd": best_index_ is FD's rank 1, whatever the other metrics say.
    assert search.best_index_ == int(np.argmax(results["mean_test_fd"]))
    assert results["rank_test_fd"][search.best_index_] == 1
    assert search.best_score_ == pytest.approx(results["mean_test_fd"][search.best_index_])
    assert search.best_params_ == {"generator_learning_rate": 5e-4}
    # The collapsed candidate is also the worse one on the sample-based metrics.
    best, collapsed = search.best_index_, 1 - search.best_index_
    assert results["mean_test_coverage"][collapsed] < results["mean_test_coverage"][best]
    assert results["mean_test_kid"][collapsed] < results["mean_test_kid"][best]


@pytest.fixture(scope="module")
def trained(threes):
    """One estimator scored after 1 and after 200 iterations on a held-out split.

    Returns a dict with the two held-out scores, the estimator (200 iterations) and the
    GANTrainingWarnings of the run.
    """
    order = np.random.default_rng(0).permutation(len(threes))
    train, held_out = threes[order[:120]], threes[order[120:]]
    estimator = GANEstimator(n_steps=1, **TINY)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        estimator.fit(train)
        untrained = estimator.score(held_out)
        estimator.set_params(n_steps=199).partial_fit(train)
        trained_score = estimator.score(held_out)
    return {
        "untrained": untrained,
        "trained": trained_score,
        "estimator": estimator,
        "warnings": _gan_warnings(record),
    }


@pytest.mark.slow
def test_score_rewards_training(trained):
    """Margin: after 200 iterations the held-out FD must be at most a quarter of the FD after
    one iteration (measured 26 against 260)."""
    assert trained["estimator"].n_steps_ == 200
    untrained_fd, trained_fd = -trained["untrained"], -trained["trained"]
    assert untrained_fd > 0 and trained_fd > 0
    assert trained_fd <= 0.25 * untrained_fd, (trained_fd, untrained_fd)


@pytest.mark.slow
def test_healthy_short_fit_does_not_flag_mode_collapse(trained):
    report = trained["estimator"].diagnostics_
    mode = report["mode_collapse"]
    # Assessed (200 iterations >= min_steps) and quiet.
    assert mode.flagged is False, mode.evidence
    assert report["vanishing_gradients"].flagged is False, str(report)
    # failure_to_converge reads the loss trend of the last windows, which at this seed and
    # length drifts towards the critic (seeds 1 and 2 leave it quiet): not asserted here.
    messages = [str(w.message) for w in trained["warnings"]]
    assert not [m for m in messages if "mode collapse" in m or "vanishing" in m], messages


def test_collapsing_configuration_trips_mode_collapse_and_warns(threes):
    # The generator outruns the critic and lands on one saturated image (every seed tried).
    estimator = GANEstimator(generator_learning_rate=0.1, n_steps=100, **TINY)
    with pytest.warns(GANTrainingWarning, match="mode collapse"):
        estimator.fit(threes)

    mode = estimator.diagnostics_["mode_collapse"]
    assert mode.flagged is True
    assert "mode_collapse" in estimator.diagnostics_.flagged
    assert mode.evidence["duplicate_fraction"] >= 0.5
    # The flag describes the samples: they really are (nearly) one image.
    samples = estimator.sample(50, random_state=1).reshape(50, -1)
    spread = np.linalg.norm(samples - samples.mean(axis=0), axis=1).mean()
    real = threes.reshape(len(threes), -1)
    real_spread = np.linalg.norm(real - real.mean(axis=0), axis=1).mean()
    assert spread < 0.05 * real_spread, (spread, real_spread)
