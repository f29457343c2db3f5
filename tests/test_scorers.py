"""score(), the scorers, and their registration with scikit-learn."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sklearn.metrics
from _generative_fakes import FakeGenerator
from sklearn.datasets import load_digits
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import check_scoring, precision_score, recall_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.neighbors import KernelDensity

from gan_estimators.quality import metrics as M
from gan_estimators.quality import scorers as S
from gan_estimators.quality.features import PCAResidualFeatures


@pytest.fixture(scope="module")
def sevens():
    digits = load_digits()
    return digits.images[digits.target == 7]


@pytest.fixture(scope="module")
def fitted(sevens):
    return FakeGenerator(noise=0.05, random_state=0).fit(sevens[:120])


# ------------------------------------------------------------------------------------------
# score()
# ------------------------------------------------------------------------------------------


def test_score_is_negative_fd_in_the_stored_feature_space(fitted, sevens):
    held = sevens[120:]
    score = fitted.score(held)
    assert score < 0
    # Recompute by hand: same seed derivation, same stored feature map.
    from gan_estimators.quality.evaluation import _TAG_SCORE, purpose_seed

    fake = FakeGenerator.sample(fitted, len(held), random_state=purpose_seed(0, _TAG_SCORE))
    expected = M.frechet_distance(
        fitted.feature_map_.transform(held), fitted.feature_map_.transform(fake)
    )
    assert score == pytest.approx(-expected)
    assert S.get_scorer("fd")(fitted, held) == pytest.approx(score)


def test_score_is_repeatable_and_seeded(fitted, sevens):
    held = sevens[120:]
    assert fitted.score(held) == fitted.score(held)
    other = FakeGenerator(noise=0.05, random_state=1).fit(sevens[:120])
    assert other.score(held) != fitted.score(held)
    unseeded = FakeGenerator(noise=0.05).fit(sevens[:120])
    assert unseeded.score(held) == unseeded.score(held)  # None: a fixed evaluation seed


def test_score_ranks_better_generators_higher(sevens):
    train, held = sevens[:120], sevens[120:]
    scores = [
        FakeGenerator(noise=noise, random_state=0).fit(train).score(held)
        for noise in (0.0, 0.1, 0.4)
    ]
    assert scores[0] > scores[1] > scores[2]
    collapsed = FakeGenerator(n_modes=2, random_state=0)
    with pytest.warns(UserWarning):
        collapsed.fit(train)
    assert collapsed.score(held) < scores[0]


def test_feature_map_fitted_on_training_data_only(fitted, sevens):
    assert isinstance(fitted.feature_map_, PCAResidualFeatures)
    np.testing.assert_allclose(fitted.feature_map_.mean_, sevens[:120].reshape(120, -1).mean(0))
    before = fitted.feature_map_
    fitted.score(sevens[120:])
    assert fitted.feature_map_ is before


def test_feature_map_parameter_is_used_and_left_unchanged(sevens):
    template = PCAResidualFeatures(n_components=4)
    est = FakeGenerator(feature_map=template, random_state=0).fit(sevens[:120])
    assert est.feature_map is template and not hasattr(template, "components_")
    assert est.feature_map_.components_.shape[0] <= 4
    est = FakeGenerator(feature_map="standardize", random_state=0).fit(sevens[:120])
    assert est.feature_map_.transform(sevens[:3]).shape == (3, 64)


def test_score_needs_two_samples(fitted, sevens):
    with pytest.raises(ValueError, match="at least 2"):
        fitted.score(sevens[:1])


def test_multimetric_scoring_samples_once_and_refit_invalidates(sevens):
    est = FakeGenerator(random_state=0).fit(sevens[:120])
    calls = est.n_sample_calls_
    held = sevens[120:]
    scorer = check_scoring(est, ["fd", "kid", "coverage", "sample_recall"])
    scorer(est, held, None)
    assert est.n_sample_calls_ == calls + 1
    est.score(held)
    assert est.n_sample_calls_ == calls + 1
    est.score(held[:-1])  # other data: new sample
    assert est.n_sample_calls_ == calls + 2
    est.fit(sevens[:100])  # refit: fresh feature map, fresh sample
    calls = est.n_sample_calls_
    est.score(held)
    assert est.n_sample_calls_ == calls + 1


# ------------------------------------------------------------------------------------------
# The scorers
# ------------------------------------------------------------------------------------------


def test_scorers_are_signed_greater_is_better(sevens):
    train, held = sevens[:120], sevens[120:]
    good = FakeGenerator(noise=0.0, random_state=0).fit(train)
    bad = FakeGenerator(noise=0.5, random_state=0).fit(train)
    for name in ("fd", "kid", "sample_precision", "coverage", "density", "diversity"):
        scorer = S.get_scorer(name)
        assert scorer(good, held) > scorer(bad, held), name
    assert S.get_scorer("sample_recall")(good, held) > 0
    with pytest.warns(UserWarning):
        collapsed = FakeGenerator(n_modes=1, random_state=0).fit(train)
    assert S.get_scorer("duplicate_fraction")(collapsed, held) == -1.0
    assert S.get_scorer("diversity")(collapsed, held) < -10  # ratio ~1e-8: rounding, not 0


def test_scorer_values_match_metrics(fitted, sevens):
    from gan_estimators.quality.evaluation import _features

    held = sevens[120:]
    real, fake = _features(fitted, held)
    expected = M.compute_metrics(real, fake)
    assert S.get_scorer("kid")(fitted, held) == pytest.approx(-expected["kid"])
    assert S.get_scorer("sample_precision")(fitted, held) == expected["precision"]
    assert S.get_scorer("precision")(fitted, held) == expected["precision"]
    assert S.get_scorer("recall")(fitted, held) == expected["recall"]
    assert S.get_scorer("coverage")(fitted, held) == expected["coverage"]
    assert S.get_scorer("duplicate_fraction")(fitted, held) == -expected["duplicate_fraction"]
    assert S.get_scorer("diversity")(fitted, held) == pytest.approx(
        -abs(np.log(expected["diversity"]))
    )
    custom = S.make_sample_scorer("recall", pr_k=5)
    assert custom(fitted, held) == pytest.approx(M.recall(real, fake, k=5))
    assert repr(custom) == "make_sample_scorer('recall', pr_k=5)"


def test_scorer_rejects_non_generative_estimator(sevens):
    flat = sevens.reshape(len(sevens), -1)
    clf = DummyClassifier().fit(flat, np.arange(len(sevens)) % 2)
    with pytest.raises(TypeError, match="sample"):
        S.get_scorer("kid")(clf, flat)
    with pytest.raises(ValueError, match="unknown metric"):
        S.make_sample_scorer("fid")


def test_scorer_works_for_estimators_outside_the_contract():
    """No feature_map_: compared in the default map fitted on X (e.g. KernelDensity)."""
    X = load_digits().data
    kde_good = KernelDensity(bandwidth=1.0).fit(X[:1200])
    kde_bad = KernelDensity(bandwidth=8.0).fit(X[:1200])
    scorer = S.get_scorer("fd")
    assert scorer(kde_good, X[1200:]) > scorer(kde_bad, X[1200:])


def test_loss_balance_hand_computed(fitted):
    history = {
        "critic_real": [0.0, 1.0, 2.0],  # -> 0, 0.5, 1
        "critic_fake": [2.0, 2.0, 2.0],  # constant -> 0
        "generator_loss": [1.0, 0.0, 1.0],  # -> 1, 0, 1
    }
    # per step: 1/3, 1/6, 2/3 -> mean 7/18
    assert S.loss_balance_fitness(history) == pytest.approx(7 / 18)

    class Holder:
        history_ = history

    assert S.get_scorer("loss_balance")(Holder(), None) == pytest.approx(-7 / 18)
    value = S.loss_balance_scorer(fitted, None)
    assert -1.0 <= value <= 0.0
    with pytest.raises(KeyError):
        S.loss_balance_fitness({"critic_real": [1.0]})
    with pytest.raises(TypeError, match="history_"):
        S.loss_balance_scorer(object(), None)


def test_loss_balance_is_the_mean_of_the_normalized_losses():
    from gan_estimators.quality.history import normalized_losses

    history = {
        "critic_real": [0.0, 1.0, 2.0, 4.0],
        "critic_fake": [3.0, 1.0, 2.0, 2.0],
        "generator_loss": [1.0, 0.0, 1.0, 5.0],
    }
    expected = float(np.mean(normalized_losses(history)["mean"]))
    assert S.loss_balance_fitness(history) == expected
    history["generator_loss"][1] = np.inf  # a diverged step
    assert np.isnan(S.loss_balance_fitness(history))
    with pytest.raises(ValueError, match="empty"):
        S.loss_balance_fitness({key: [] for key in history})


def test_get_scorer_resolution():
    assert S.get_scorer("kid") == S.make_sample_scorer("kid")
    assert S.get_scorer("kid") is not S.get_scorer("kid")  # fresh copies
    assert S.get_scorer("precision").metric == "precision"  # the package's meaning
    accuracy = S.get_scorer("accuracy")  # anything else: scikit-learn's
    assert accuracy._score_func is sklearn.metrics.accuracy_score
    assert S.get_scorer(S.loss_balance_scorer) is S.loss_balance_scorer
    with pytest.raises(TypeError):
        S.get_scorer(3)
    assert set(S.get_scorer_names()) == set(S.SCORER_NAMES)


def test_scorers_pickle():
    for name in S.SCORER_NAMES:
        scorer = S.get_scorer(name)
        assert pickle.loads(pickle.dumps(scorer)) == scorer


# ------------------------------------------------------------------------------------------
# scikit-learn integration
# ------------------------------------------------------------------------------------------


def test_names_registered_with_sklearn():
    names = sklearn.metrics.get_scorer_names()
    for name in S.SCORER_NAMES:
        assert name in names
        assert sklearn.metrics.get_scorer(name) == S.get_scorer(name)
    assert S.register_sklearn_scorers() == list(S.SCORER_NAMES)  # idempotent


def test_sklearn_precision_and_recall_untouched_for_classifiers():
    X, y = load_digits(return_X_y=True)
    y = (y == 7).astype(int)
    precision = sklearn.metrics.get_scorer("precision")
    assert type(precision).__name__ == "_Scorer"
    assert precision._score_func is precision_score
    clf = LogisticRegression(max_iter=2000).fit(X[:1000], y[:1000])
    assert precision(clf, X[1000:], y[1000:]) == precision_score(y[1000:], clf.predict(X[1000:]))
    recall = sklearn.metrics.get_scorer("recall")
    assert recall(clf, X[1000:], y[1000:]) == recall_score(y[1000:], clf.predict(X[1000:]))
    results = cross_validate(
        LogisticRegression(max_iter=2000), X, y, scoring=["precision", "recall"], cv=3
    )
    assert np.all(results["test_precision"] > 0.8)
    search = GridSearchCV(
        LogisticRegression(max_iter=2000), {"C": [0.01, 1.0]}, scoring="precision", cv=3
    ).fit(X, y)
    assert search.best_score_ > 0.8


def test_grid_search_with_kid_string_picks_the_best_generator(sevens):
    search = GridSearchCV(
        FakeGenerator(random_state=0),
        {"noise": [0.3, 0.0, 0.1]},
        scoring="kid",
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(sevens)
    assert search.best_params_ == {"noise": 0.0}
    assert np.all(search.cv_results_["mean_test_score"] <= 0.05)


def test_multimetric_search_with_names_and_callables(sevens):
    scoring = ["fd", "kid", "sample_precision", "sample_recall", "coverage", "loss_balance"]
    search = GridSearchCV(
        FakeGenerator(random_state=0),
        {"noise": [0.0, 0.3]},
        scoring=scoring,
        refit="coverage",
        cv=3,
    ).fit(sevens)
    assert search.best_params_ == {"noise": 0.0}
    for name in scoring:
        assert f"mean_test_{name}" in search.cv_results_
    results = cross_validate(
        FakeGenerator(random_state=0),
        sevens,
        scoring={"fidelity": S.get_scorer("precision"), "kid": "kid"},
        cv=3,
    )
    assert set(results) >= {"test_fidelity", "test_kid"}


def test_default_scoring_uses_score(sevens):
    results = cross_validate(FakeGenerator(random_state=0), sevens, cv=3)
    assert np.all(results["test_score"] < 0)


_ORDER_SCRIPT = """
import numpy as np, sklearn
{first}
from sklearn.datasets import load_digits
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.metrics import check_scoring
import sys
sys.path.insert(0, {tests!r})
from _generative_fakes import FakeGenerator
X = load_digits().images[:150]
est = FakeGenerator(random_state=0)
GridSearchCV(est, {{"noise": [0.0]}}, scoring="kid", cv=2).fit(X)
GridSearchCV(est, {{"noise": [0.0]}}, scoring=["fd", "coverage"], refit="fd", cv=2).fit(X)
cross_val_score(est, X, scoring="sample_recall", cv=2)
check_scoring(est.fit(X), "duplicate_fraction")
print("ok")
"""


@pytest.mark.parametrize(
    "first",
    [
        "import gan_estimators.quality.scorers",  # registered before scikit-learn's searches load
        "import sklearn.model_selection, sklearn.inspection\nimport gan_estimators.quality.scorers",
    ],
)
def test_registration_works_whatever_the_import_order(first):
    """Parameter validation sets built before registration are extended too."""
    from pathlib import Path

    script = _ORDER_SCRIPT.format(first=first, tests=str(Path(__file__).parent))
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")


@pytest.mark.slow
def test_parallel_search_with_registered_name(sevens):
    """Scorers travel to loky workers (pickled) and the names resolve there too."""
    search = GridSearchCV(
        FakeGenerator(random_state=0),
        {"noise": [0.0, 0.3]},
        scoring=["kid", "coverage"],
        refit="kid",
        cv=2,
        n_jobs=2,
    ).fit(sevens)
    assert search.best_params_ == {"noise": 0.0}
