"""Tests of gan_estimators.plotting: figures render with Agg and hold the expected artists."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from _search_toys import evolve  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from gan_estimators import Categorical, EvolutionarySearchCV, Real  # noqa: E402
from gan_estimators.plotting import plot_history, plot_samples, plot_search  # noqa: E402
from gan_estimators.quality.history import STEP_KEYS  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def make_history(n=120, penalty=True, seed=0):
    rng = np.random.default_rng(seed)
    history = {key: rng.normal(size=n).tolist() for key in (*STEP_KEYS, "elapsed")}
    history["step"] = list(range(1, n + 1))
    history["critic_grad_norm"] = np.abs(rng.normal(1, 0.1, n)).tolist()
    history["generator_grad_norm"] = np.abs(rng.normal(0.5, 0.1, n)).tolist()
    history["gradient_penalty"] = (np.abs(rng.normal(size=n)) if penalty else np.zeros(n)).tolist()
    return history


class FakeEstimator:
    """Has ``history_`` and ``sample`` like a fitted GANEstimator."""

    def __init__(self):
        self.history_ = make_history()

    def sample(self, n, random_state=None):
        return np.random.default_rng(random_state).random((n, 8, 8))


# ------------------------------------------------------------------------------ plot_samples


@pytest.mark.parametrize(
    "shape",
    [(10, 8, 8), (10, 8, 8, 1), (10, 5, 7, 3), (10, 64)],
    ids=["3d", "grey-channel", "rgb", "flat-square"],
)
def test_plot_samples_one_axes_one_image(shape):
    images = np.random.default_rng(0).random(shape)
    fig = plot_samples(images, title="real")
    assert len(fig.axes) == 1
    (ax,) = fig.axes
    assert len(ax.images) == 1
    assert ax.get_title() == "real"
    fig.canvas.draw()  # renders with Agg


def test_plot_samples_grid_geometry():
    images = np.zeros((10, 8, 8))
    fig = plot_samples(images, n_cols=5, padding=1)
    grid = fig.axes[0].images[0].get_array()
    assert grid.shape == (2 * 8 + 1, 5 * 8 + 4)
    fig = plot_samples(images, n=4)
    assert fig.axes[0].images[0].get_array().shape == (17, 17)  # 2 x 2


def test_plot_samples_into_given_axes_and_from_estimator():
    fig, axes = plt.subplots(1, 2)
    returned = plot_samples(FakeEstimator(), n=9, random_state=0, ax=axes[1])
    assert returned is fig
    assert len(axes[1].images) == 1 and len(axes[0].images) == 0
    assert axes[1].images[0].get_array().shape == (3 * 8 + 2, 3 * 8 + 2)


def test_plot_samples_value_range_sets_color_limits():
    fig = plot_samples(np.full((4, 8, 8), 0.5), value_range=(0, 1))
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0)


@pytest.mark.parametrize(
    ("samples", "kwargs", "match"),
    [
        (np.zeros((4, 10)), {}, "square"),
        (np.zeros((4, 8, 8, 2)), {}, "images"),
        (np.zeros((0, 8, 8)), {}, "no samples"),
        (np.zeros((4, 12)), {"image_shape": (5, 5)}, "image_shape"),
        (np.zeros((4, 8, 8)), {"n": 0}, "n must"),
        (np.zeros((4, 8, 8)), {"n_cols": 0}, "n_cols"),
    ],
)
def test_plot_samples_rejects_bad_input(samples, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_samples(samples, **kwargs)


def test_plot_samples_flat_rows_with_image_shape():
    fig = plot_samples(np.zeros((4, 12)), image_shape=(3, 4))
    assert fig.axes[0].images[0].get_array().shape == (2 * 3 + 1, 2 * 4 + 1)


class FakeConditionalEstimator:
    """Samples a class's images filled with its index, like a model fitted with labels."""

    classes_ = np.array(["cat", "dog", "eel"])

    def __init__(self):
        self.asked = None

    def sample(self, n, y=None, random_state=None):
        self.asked = np.asarray(y)
        index = np.searchsorted(self.classes_, self.asked)
        return np.broadcast_to(index[:, None, None], (n, 6, 6)).astype(float)


def test_plot_samples_of_a_conditional_model_draws_one_labelled_row_per_class():
    model = FakeConditionalEstimator()
    fig = plot_samples(model, n=4, padding=1)
    np.testing.assert_array_equal(model.asked, np.repeat(model.classes_, 4))
    (ax,) = fig.axes
    grid = ax.images[0].get_array()
    assert grid.shape == (3 * 6 + 2, 4 * 6 + 3)  # 3 classes x 4 images of 6x6
    for row in range(3):
        assert np.all(grid[row * 7 : row * 7 + 6, :6] == row)  # each row holds one class
    assert [label.get_text() for label in ax.get_yticklabels()] == ["cat", "dog", "eel"]
    fig.canvas.draw()


def test_plot_samples_with_labels_groups_rows_by_class_and_leaves_blanks():
    images = np.arange(5)[:, None, None] * np.ones((5, 4, 4))
    fig = plot_samples(images, y=[2, 1, 2, 2, 1], padding=0)
    (ax,) = fig.axes
    grid = ax.images[0].get_array()
    assert grid.shape == (2 * 4, 3 * 4)  # the longest class (2) has 3 images
    assert [label.get_text() for label in ax.get_yticklabels()] == ["1", "2"]
    np.testing.assert_array_equal(grid[0, ::4], [1, 4, np.nan])  # class 1, then a blank
    np.testing.assert_array_equal(grid[4, ::4], [0, 2, 3])
    fig = plot_samples(images, y=[2, 1, 2, 2, 1], n_cols=2)
    assert fig.axes[0].images[0].get_array().shape == (2 * 4 + 1, 2 * 4 + 1)


def test_plot_samples_labels_must_match_the_samples():
    with pytest.raises(ValueError, match="one label per sample"):
        plot_samples(np.zeros((4, 8, 8)), y=[0, 1])


# ------------------------------------------------------------------------------ plot_history


def test_plot_history_three_panels_with_expected_lines():
    fig = plot_history(make_history(penalty=True))
    assert len(fig.axes) == 3
    assert [len(ax.lines) for ax in fig.axes] == [5, 2, 4]
    assert fig.axes[1].get_yscale() == "log"
    fig.canvas.draw()


def test_plot_history_without_penalty_and_from_estimator():
    fig = plot_history(make_history(penalty=False))
    assert [len(ax.lines) for ax in fig.axes] == [4, 2, 4]
    fig = plot_history(FakeEstimator(), panels=["normalized"])
    assert [len(ax.lines) for ax in fig.axes] == [4]


def test_plot_history_normalized_curves_match_the_reference_formula():
    history = make_history(n=50)
    fig = plot_history(history, panels="normalized", smooth=None)
    lines = fig.axes[0].lines
    real = np.asarray(history["critic_real"])
    expected = (real - real.min()) / (real.max() - real.min())
    np.testing.assert_allclose(lines[0].get_ydata(), expected)
    assert lines[3].get_ydata().min() >= 0 and lines[3].get_ydata().max() <= 1
    np.testing.assert_allclose(lines[0].get_xdata(), history["step"])


def test_plot_history_smoothing_is_a_trailing_moving_average():
    history = make_history(n=10)
    history["generator_loss"] = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    fig = plot_history(history, panels=["losses"], smooth=2)
    generator = fig.axes[0].lines[3]
    np.testing.assert_allclose(generator.get_ydata(), [0, 1, 3, 5, 7, 9, 11, 13, 15, 17])


def test_plot_history_overlays_runs_on_given_axes():
    fig, axes = plt.subplots(1, 3)
    plot_history(make_history(seed=0), label="a", axes=axes)
    plot_history(make_history(seed=1), label="b", axes=axes)
    assert len(fig.axes) == 3
    assert [len(ax.lines) for ax in axes] == [10, 4, 8]
    assert axes[0].lines[0].get_label() == "a: critic loss"


@pytest.mark.parametrize(
    ("history", "kwargs", "error"),
    [
        ({"critic_loss": [1.0]}, {}, ValueError),
        (make_history(), {"panels": ["nope"]}, ValueError),
        (make_history(), {"panels": []}, ValueError),
        (make_history(), {"smooth": 0}, ValueError),
        ([1, 2, 3], {}, TypeError),
    ],
)
def test_plot_history_rejects_bad_input(history, kwargs, error):
    with pytest.raises(error):
        plot_history(history, **kwargs)


def test_plot_history_wrong_number_of_axes():
    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="3 Axes"):
        plot_history(make_history(), axes=axes)


# ------------------------------------------------------------------------------- plot_search


@pytest.fixture(scope="module")
def fitted_search():
    X, y = load_iris(return_X_y=True)
    return EvolutionarySearchCV(
        SVC(),
        {
            "C": Real(1e-2, 1e2, log=True),
            "gamma": Real(1e-3, 1e0, log=True),
            "kernel": Categorical(["linear", "rbf"]),
        },
        cv=3,
        population_size=6,
        generations=3,
        random_state=0,
    ).fit(X, y)


def test_plot_search_fitness_panel_and_one_panel_per_parameter(fitted_search):
    fig = plot_search(fitted_search)
    # fitness, C, gamma, kernel, colorbar
    assert len(fig.axes) == 5
    fitness = fig.axes[0]
    assert len(fitness.lines) == 3
    n_gen = len(fitted_search.logbook_)
    assert all(len(line.get_xdata()) == n_gen for line in fitness.lines)
    best_line = fitness.lines[2]
    assert best_line.get_label() == "best so far"
    np.testing.assert_allclose(best_line.get_ydata(), fitted_search.logbook_.select("best"))
    n_rows = len(fitted_search.cv_results_["params"])
    for ax in fig.axes[1:4]:
        points, star = ax.collections
        assert len(points.get_offsets()) == n_rows
        assert len(star.get_offsets()) == 1
        np.testing.assert_allclose(star.get_offsets()[0][1], fitted_search.best_score_)
    assert fig.axes[1].get_xscale() == "log"  # C is log-scaled
    assert [t.get_text() for t in fig.axes[3].get_xticklabels()] == ["linear", "rbf"]
    fig.canvas.draw()


def test_plot_search_subset_without_colorbar_into_given_axes(fitted_search):
    fig, axes = plt.subplots(1, 2)
    returned = plot_search(fitted_search, params=["C"], colorbar=False, axes=axes)
    assert returned is fig
    assert len(fig.axes) == 2


def test_plot_search_rejects_unfitted_and_unknown(fitted_search):
    with pytest.raises(ValueError, match="fitted EvolutionarySearchCV"):
        plot_search(EvolutionarySearchCV(SVC(), {"C": Real(1, 2)}))
    with pytest.raises(ValueError, match="unknown parameters"):
        plot_search(fitted_search, params=["nope"])
    with pytest.raises(ValueError, match="no 'mean_test_nope'"):
        plot_search(fitted_search, metric="nope")


def test_no_function_calls_show(monkeypatch, fitted_search):
    def fail(*args, **kwargs):
        raise AssertionError("show() was called")

    monkeypatch.setattr(plt, "show", fail)
    monkeypatch.setattr(matplotlib.figure.Figure, "show", fail)
    plot_samples(np.zeros((4, 8, 8)))
    plot_history(make_history())
    plot_search(fitted_search)


def test_missing_matplotlib_names_the_extra():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "try:\n"
        "    import gan_estimators.plotting\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert 'pip install "gan_estimators[plot]"' in out


def test_plot_search_of_a_multi_fidelity_search_shows_its_top_budget():
    X, y = load_iris(return_X_y=True)
    budget = {"resource": "max_iter", "min_resources": 20, "max_resources": 180}
    search = evolve(SVC(max_iter=200), {"C": Real(0.1, 10.0, log=True)}, cv=2, **budget)
    search.fit(X, y)
    top = np.asarray(search.cv_results_["n_resources"]) == 180
    assert 0 < top.sum() < len(top)  # lower budgets were evaluated too
    fig = plot_search(search, colorbar=False)
    assert [ax.get_xlabel() for ax in fig.axes[1:]] == ["C"]
    assert len(fig.axes[1].collections[0].get_offsets()) == top.sum()
