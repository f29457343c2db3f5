"""Sample quality of conditional models: class-by-class diagnostics (mode collapse per class,
class leakage) and the worst-class scorer."""

import json
import warnings

import numpy as np
import pytest
import sklearn.metrics
from _generative_fakes import FakeGenerator, make_history
from sklearn.base import BaseEstimator
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.utils import check_random_state

from gan_estimators import GANEstimator
from gan_estimators.quality import scorers as S
from gan_estimators.quality.diagnostics import (
    CLASS_MODES,
    FAILURE_MODES,
    DiagnosticsReport,
    GANTrainingWarning,
)
from gan_estimators.quality.evaluation import GenerativeScoreMixin

DIGITS = load_digits()
KEEP = np.isin(DIGITS.target, (0, 1, 7))
IMAGES, LABELS = DIGITS.images[KEEP], DIGITS.target[KEEP]


class FakeConditionalGenerator(GenerativeScoreMixin, BaseEstimator):
    """A conditional generator that resamples its training images.

    Parameters
    ----------
    ignore_y : bool
        ``sample(n, y=c)`` resamples images of every class (a model that ignores the label).
    collapsed_class : label or None
        This class's samples are always its first training image (collapse within a class).
    feature_map, random_state
        As for ``GANEstimator``.
    """

    def __init__(self, ignore_y=False, collapsed_class=None, feature_map="auto", random_state=0):
        self.ignore_y = ignore_y
        self.collapsed_class = collapsed_class
        self.feature_map = feature_map
        self.random_state = random_state

    def fit(self, X, y):
        self.train_, self.labels_ = np.asarray(X, dtype=np.float64), np.asarray(y)
        self.classes_, counts = np.unique(self.labels_, return_counts=True)
        self.class_prior_ = counts / counts.sum()
        self.history_ = make_history("healthy_wgan")
        self._fit_sample_quality(X, y)
        return self

    def sample(self, n, y=None, random_state=None):
        rng = check_random_state(random_state)
        if y is None or self.ignore_y:
            pool = self.train_
        else:
            pool = self.train_[self.labels_ == y]
            if y == self.collapsed_class:
                pool = pool[:1]
        return pool[rng.randint(len(pool), size=n)]


def _fit(**params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        return FakeConditionalGenerator(**params).fit(IMAGES, LABELS)


def test_a_model_that_ignores_the_label_leaks_at_chance_and_is_flagged():
    leakage = _fit(ignore_y=True).diagnostics_["class_leakage"]
    assert leakage.flagged is True
    # Three classes of about equal size: two thirds of each class's samples are other digits.
    assert 0.55 < leakage.evidence["leakage"] < 0.8
    assert all(share > 0.5 for share in leakage.evidence["per_class"])


def test_a_model_returning_real_images_of_the_class_leaks_as_little_as_real_data():
    report = _fit().diagnostics_
    leakage = report["class_leakage"]
    assert leakage.flagged is False
    assert leakage.evidence["leakage"] < 0.05
    assert leakage.evidence["leakage"] <= leakage.evidence["real_leakage"] + 0.02
    by_class = report.by_class("class_leakage")
    assert set(by_class) == {0, 1, 7}
    assert all(values["per_class"] < 0.05 for values in by_class.values())
    assert report["mode_collapse_per_class"].flagged is False
    assert report.healthy


def test_mode_collapse_is_reported_for_the_class_that_collapsed():
    with pytest.warns(GANTrainingWarning, match="mode collapse per class"):
        model = FakeConditionalGenerator(collapsed_class=7).fit(IMAGES, LABELS)
    report = model.diagnostics_
    assert report["mode_collapse_per_class"].flagged is True
    assert "7" in report["mode_collapse_per_class"].reason
    collapsed = {c: v["collapsed"] for c, v in report.by_class("mode_collapse_per_class").items()}
    assert collapsed == {0: False, 1: False, 7: True}
    # The pooled check sees two healthy classes out of three and lets it pass.
    assert report["mode_collapse"].flagged is False


def test_a_conditional_report_round_trips_through_json():
    report = _fit(ignore_y=True).diagnostics_
    assert report.keys() == [*FAILURE_MODES, *CLASS_MODES]
    data = json.loads(json.dumps(report.to_dict()))
    again = DiagnosticsReport.from_dict(data)
    assert again == report
    assert again.by_class("class_leakage") == report.by_class("class_leakage")
    assert "class_leakage: FLAGGED" in str(report)


@pytest.mark.filterwarnings("ignore::gan_estimators.quality.diagnostics.GANTrainingWarning")
def test_a_conditional_gan_reports_collapse_and_leakage_per_class_an_unconditional_one_not():
    keep = DIGITS.target < 2
    X, y = DIGITS.images[keep], DIGITS.target[keep]
    params = {"network": "conv", "n_filters": 8, "latent_dim": 8, "batch_size": 32}
    conditional = GANEstimator(**params, n_steps=300, random_state=0).fit(X, y)
    report = conditional.diagnostics_
    assert report.keys() == [*FAILURE_MODES, *CLASS_MODES]
    leakage = report.by_class("class_leakage")
    assert set(leakage) == {0, 1}
    # Its samples are the digit asked for (tests/test_gan_conditional.py): little leakage.
    assert report["class_leakage"].evidence["leakage"] < 0.2
    assert set(report.by_class("mode_collapse_per_class")) == {0, 1}
    assert report["mode_collapse_per_class"].flagged is not None

    unconditional = GANEstimator(**params, n_steps=3, random_state=0).fit(X)
    assert unconditional.diagnostics_.keys() == list(FAILURE_MODES)
    assert set(unconditional.diagnostics_.to_dict()) == {*FAILURE_MODES, "thresholds"}
    with pytest.raises(KeyError):
        unconditional.diagnostics_["class_leakage"]


def test_an_unconditional_model_is_diagnosed_as_before():
    model = FakeGenerator(random_state=0).fit(IMAGES.reshape(len(IMAGES), -1))
    assert model.diagnostics_.keys() == list(FAILURE_MODES)
    assert model.diagnostics_.class_leakage is None


def test_the_worst_class_scorer_is_the_lowest_per_class_score():
    model = _fit(collapsed_class=7)
    mean = model.score(IMAGES, LABELS)
    worst = sklearn.metrics.get_scorer("fd_worst_class")(model, IMAGES, LABELS)
    assert worst == min(model.per_class_scores_.values())
    assert worst == model.per_class_scores_[7] < mean


def test_the_worst_class_scorer_refuses_an_unconditional_model_and_missing_labels():
    scorer = S.get_scorer("fd_worst_class")
    flat = IMAGES.reshape(len(IMAGES), -1)
    with pytest.raises(TypeError, match="classes_"):
        scorer(FakeGenerator(random_state=0).fit(flat), flat, LABELS)
    with pytest.raises(ValueError, match="labels y"):
        scorer(_fit(), IMAGES, None)


@pytest.mark.filterwarnings("ignore::gan_estimators.quality.diagnostics.GANTrainingWarning")
def test_the_worst_class_scorer_works_in_cross_validation_with_labels():
    results = cross_validate(
        FakeConditionalGenerator(collapsed_class=7),
        IMAGES,
        LABELS,
        cv=StratifiedKFold(2),
        scoring=["fd", "fd_worst_class"],
        error_score="raise",
    )
    assert np.all(results["test_fd_worst_class"] <= results["test_fd"])
    assert np.all(np.isfinite(results["test_fd_worst_class"]))
