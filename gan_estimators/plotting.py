"""Plots of generated samples, training histories and evolutionary searches (matplotlib).

Three functions, one per question a user asks of a GAN run:

- :func:`plot_samples` -- what do the samples look like? A grid of images.
- :func:`plot_history` -- how did training go? Losses, gradient norms and the min–max-normalised
  loss curves of the reference configuration's fitness, per generator iteration.
- :func:`plot_search` -- what did the search find? Fitness per generation from ``logbook_`` and
  each parameter against the score from ``cv_results_``.

Each draws into axes it is given or into a new figure (created through :mod:`matplotlib.pyplot`,
so ``plt.show()`` and notebooks display it), returns the :class:`~matplotlib.figure.Figure`, and
never calls ``show()`` itself. Close figures you create in loops (``plt.close(fig)``).

matplotlib is the optional ``plot`` extra: ``pip install "gan_estimators[plot]"``. Importing
this module without it raises an :class:`ImportError` that says so. Nothing here imports
TensorFlow.
"""

import math
import numbers

import numpy as np

from gan_estimators._image_grid import as_images, class_rows, tile
from gan_estimators.quality.history import NORMALIZED_KEYS, normalized_losses

try:
    import matplotlib  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "gan_estimators.plotting needs matplotlib, which is not installed. "
        'Install the plot extra: pip install "gan_estimators[plot]"'
    ) from exc

__all__ = ["plot_history", "plot_samples", "plot_search"]

# history_ keys drawn in the loss panel, with their legend labels.
_LOSS_KEYS = (
    ("critic_loss", "critic loss"),
    ("critic_real", "critic real term"),
    ("critic_fake", "critic fake term"),
    ("generator_loss", "generator loss"),
)
_GRAD_KEYS = (
    ("critic_grad_norm", "critic"),
    ("generator_grad_norm", "generator"),
)
_HISTORY_PANELS = ("losses", "grad_norms", "normalized")


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _new_axes(n, *, ncols=None, figsize=None):
    """A new figure with ``n`` axes in one row (or ``ncols`` columns); returns (fig, axes)."""
    plt = _pyplot()
    ncols = n if ncols is None else ncols
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained")
    axes = list(axes.ravel())
    for extra in axes[n:]:
        extra.remove()
    return fig, axes[:n]


def _check_axes(axes, n, name):
    """Validate user-given axes: one ``Axes`` for ``n == 1``, else a sequence of ``n``."""
    if n == 1 and not isinstance(axes, list | tuple | np.ndarray):
        axes = [axes]
    axes = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(axes) != n:
        raise ValueError(f"{name} must hold {n} Axes, got {len(axes)}")
    return axes


# ----------------------------------------------------------------------------------- samples


def _label_rows(ax, classes, image_height, padding):
    """Name each row of a grid by its class, on the left."""
    step = image_height + padding
    centers = [r * step + (image_height - 1) / 2 for r in range(len(classes))]
    ax.set_yticks(centers, [str(label) for label in classes.tolist()])
    ax.tick_params(axis="y", length=0)


def plot_samples(
    samples,
    *,
    n=64,
    n_cols=None,
    image_shape=None,
    value_range=None,
    cmap="gray",
    padding=1,
    title=None,
    random_state=None,
    y=None,
    ax=None,
):
    """Show images as one grid; with class labels, one row per class.

    The images are tiled into a single array drawn with one ``imshow`` call (fast for hundreds
    of images), separated by ``padding`` pixels of the background.  Samples of a conditional
    model (an estimator with ``classes_``) or samples given with their labels ``y`` are drawn
    one row per class, in sorted class order, each row named by its class on the left.

    Parameters
    ----------
    samples : array-like or fitted estimator
        Images ``(n, height, width)``, ``(n, height, width, 1)`` (grey),
        ``(n, height, width, 3|4)`` (RGB[A]), or flattened square grey images
        ``(n, side * side)``. An object with a ``sample`` method (e.g. a fitted
        :class:`~gan_estimators.GANEstimator`) is asked for ``n`` samples; one with a
        ``classes_`` attribute (a model fitted with class labels) for ``n`` samples of each
        class.
    n : int, default=64
        Number of images shown (the first ``n`` of an array); of a conditional model,
        images per class.
    n_cols : int or None, default=None
        Images per row; None makes the grid about square, or, one row per class, as wide
        as the most images any class has.
    image_shape : tuple of int or None, default=None
        Shape to reshape each sample to, for flattened images that are not square or have
        channels.
    value_range : (float, float) or None, default=None
        Pixel values mapped to black and white; None uses the minimum and maximum of the shown
        images. Give the training data's range (e.g. ``(0, 1)``) to compare grids fairly.
    cmap : str or Colormap, default="gray"
        Colormap of grey images (ignored for RGB).
    padding : int, default=1
        Pixels between images.
    title : str or None, default=None
        Axes title.
    random_state : int, RandomState instance or None, default=None
        Passed to ``samples.sample`` when ``samples`` is an estimator.
    y : array-like of shape (n_samples,) or None, default=None
        The class label of each image of an array: one row per class (the first ``n``
        images grouped by label).  Ignored for an estimator.
    ax : matplotlib Axes or None, default=None
        Axes to draw into; None creates a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure holding the grid (``fig.axes``); one row per class has the classes as
        the y tick labels.

    Examples
    --------
    >>> from gan_estimators.datasets import load_digits_images
    >>> from gan_estimators.plotting import plot_samples
    >>> fig = plot_samples(load_digits_images().images[:16])
    >>> len(fig.axes)
    1
    """
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if n_cols is not None and (
        not isinstance(n_cols, numbers.Integral) or isinstance(n_cols, bool) or n_cols < 1
    ):
        raise ValueError(f"n_cols must be a positive integer, got {n_cols!r}")
    if hasattr(samples, "sample") and callable(samples.sample):
        classes = getattr(samples, "classes_", None)
        if classes is None:
            samples, y = samples.sample(int(n), random_state=random_state), None
        else:
            y = np.repeat(classes, int(n))
            samples = samples.sample(len(y), y=y, random_state=random_state)
            n = len(y)
        if isinstance(samples, tuple):  # e.g. GaussianMixture.sample returns (X, labels)
            samples = samples[0]
    images = as_images(samples, image_shape)[: int(n)]
    if len(images) == 0:
        raise ValueError("no samples to plot")
    if y is not None:
        images, n_cols, classes = class_rows(images, np.asarray(y)[: int(n)], n_cols)
    elif n_cols is None:
        n_cols = math.ceil(math.sqrt(len(images)))
    n_cols = min(int(n_cols), len(images))
    if value_range is None:
        low, high = float(np.nanmin(images)), float(np.nanmax(images))
    else:
        low, high = (float(v) for v in value_range)
    if not high > low:
        high = low + 1.0
    rgb = images.ndim == 4
    if rgb:
        # imshow expects RGB floats in [0, 1].
        images = np.nan_to_num(np.clip((images - low) / (high - low), 0.0, 1.0), nan=1.0)
        grid = tile(images, n_cols, int(padding), fill=1.0)
    else:
        grid = tile(images, n_cols, int(padding), fill=np.nan)

    if ax is None:
        fig, (ax,) = _new_axes(1, figsize=(4, 4))
    fig = ax.figure
    if rgb:
        ax.imshow(grid, interpolation="nearest")
    else:
        colormap = _pyplot().get_cmap(cmap).with_extremes(bad="white")
        ax.imshow(grid, cmap=colormap, vmin=low, vmax=high, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if y is not None:
        _label_rows(ax, classes, images.shape[1], int(padding))
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title is not None:
        ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------------- history


def _history_dict(history):
    if hasattr(history, "history_"):
        history = history.history_
    if not hasattr(history, "keys"):
        raise TypeError(
            "history must be a fitted estimator with history_ or a dict of lists, got "
            f"{type(history).__name__}"
        )
    if "step" not in history:
        raise ValueError("history has no 'step' entry: pass an estimator's history_")
    return history


def _smooth(values, window):
    """Trailing moving average (NaN-aware) over ``window`` points; same length as ``values``."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or values.size == 0:
        return values
    finite = np.isfinite(values)
    sums = np.cumsum(np.where(finite, values, 0.0))
    counts = np.cumsum(finite)
    sums = np.concatenate([[0.0], sums])
    counts = np.concatenate([[0], counts])
    idx = np.arange(1, values.size + 1)
    lo = np.maximum(0, idx - window)
    n = counts[idx] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[idx] - sums[lo]) / n, np.nan)


def _smoothing_window(smooth, n_points):
    if smooth == "auto":
        return max(1, n_points // 50)
    if smooth is None or smooth is False:
        return 1
    if isinstance(smooth, bool) or not isinstance(smooth, numbers.Integral) or smooth < 1:
        raise ValueError(f"smooth must be 'auto', None or a positive integer, got {smooth!r}")
    return int(smooth)


def plot_history(history, *, panels=_HISTORY_PANELS, smooth="auto", label=None, axes=None):
    """Plot a GAN's training history: losses, gradient norms and normalised losses.

    One panel each, against the generator iteration:

    - ``"losses"``: ``critic_loss``, its real and fake terms, ``generator_loss`` (4 lines),
      plus ``gradient_penalty`` when it is not zero throughout (5 lines). For Wasserstein
      losses, ``-(critic_real + critic_fake)`` is the critic's estimate of the distance between
      the data and the generator; it rises as the critic learns and falls as the generator
      catches up.
    - ``"grad_norms"``: gradient norms of the critic and the generator (2 lines, log scale).
      A generator norm collapsing towards 0 is the signature of vanishing gradients.
    - ``"normalized"``: the min–max-normalised ``critic_real``, ``critic_fake`` and
      ``generator_loss`` and their mean (4 lines,
      :func:`gan_estimators.quality.history.normalized_losses`), i.e. the fitness of the
      reference configuration per step (see
      :func:`gan_estimators.quality.scorers.loss_balance_fitness`); a diverged (non-finite)
      step is left out.

    Parameters
    ----------
    history : fitted estimator or dict of str to sequence
        An estimator with ``history_`` (e.g. a fitted :class:`~gan_estimators.GANEstimator`)
        or the ``history_`` dict itself.
    panels : sequence of {"losses", "grad_norms", "normalized"}, default=all three
        Panels to draw, in order.
    smooth : "auto", int or None, default="auto"
        Window of a trailing moving average applied to every curve (the per-step values of a
        GAN are noisy); ``"auto"`` uses 1/50 of the run, None or 1 draws the raw values.
    label : str or None, default=None
        Prefix of the legend labels, to overlay several runs on the same axes.
    axes : sequence of matplotlib Axes or None, default=None
        One Axes per panel to draw into; None creates a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure; ``fig.axes`` holds one Axes per panel.

    Examples
    --------
    >>> import numpy as np
    >>> from gan_estimators.plotting import plot_history
    >>> steps = np.arange(1, 101)
    >>> history = {key: np.cos(steps / 10 + i).tolist() for i, key in enumerate(
    ...     ["critic_loss", "critic_real", "critic_fake", "generator_loss"])}
    >>> history.update(step=steps.tolist(), gradient_penalty=[0.0] * 100,
    ...                critic_grad_norm=[1.0] * 100, generator_grad_norm=[0.5] * 100)
    >>> fig = plot_history(history)
    >>> [len(ax.lines) for ax in fig.axes]
    [4, 2, 4]
    """
    history = _history_dict(history)
    panels = [panels] if isinstance(panels, str) else list(panels)
    unknown = [p for p in panels if p not in _HISTORY_PANELS]
    if unknown or not panels:
        raise ValueError(
            f"panels must be a non-empty sequence of {list(_HISTORY_PANELS)}, got {panels!r}"
        )
    steps = np.asarray(history["step"], dtype=np.float64)
    window = _smoothing_window(smooth, len(steps))
    if axes is None:
        _, axes = _new_axes(len(panels), figsize=(4.2 * len(panels), 3.4))
    else:
        axes = _check_axes(axes, len(panels), "axes")
    prefix = f"{label}: " if label else ""
    suffix = f" (moving average of {window} steps)" if window > 1 else ""

    def draw(ax, key, name, **kwargs):
        if key not in history:
            raise ValueError(f"history has no {key!r} entry")
        ax.plot(steps, _smooth(history[key], window), label=prefix + name, **kwargs)

    for panel, ax in zip(panels, axes, strict=True):
        if panel == "losses":
            for key, name in _LOSS_KEYS:
                draw(ax, key, name)
            penalty = np.asarray(history.get("gradient_penalty", []), dtype=np.float64)
            if penalty.size and np.any(penalty[np.isfinite(penalty)] != 0):
                draw(ax, "gradient_penalty", "gradient penalty", linestyle=":")
            ax.set_title("Losses" + suffix, fontsize="medium")
            ax.set_ylabel("loss")
        elif panel == "grad_norms":
            for key, name in _GRAD_KEYS:
                draw(ax, key, name)
            values = np.concatenate(
                [np.asarray(history[key], dtype=np.float64) for key, _ in _GRAD_KEYS]
            )
            if np.any(values > 0):
                ax.set_yscale("log")
            ax.set_title("Gradient norms" + suffix, fontsize="medium")
            ax.set_ylabel("norm")
        else:
            curves = normalized_losses(history)
            for key in NORMALIZED_KEYS:
                ax.plot(steps, _smooth(curves[key], window), label=prefix + key, linewidth=1)
            ax.plot(
                steps,
                _smooth(curves["mean"], window),
                label=prefix + "mean (reference fitness)",
                color="black",
                linewidth=2,
            )
            ax.set_ylim(-0.05, 1.05)
            ax.set_title("Normalised losses" + suffix, fontsize="medium")
            ax.set_ylabel("min–max normalised")
        ax.set_xlabel("generator iteration")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small", framealpha=0.6)
    return axes[0].figure


# ------------------------------------------------------------------------------------ search


def _score_key(search, metric):
    results = search.cv_results_
    if metric is None:
        refit = getattr(search, "refit", True)
        metric = refit if isinstance(refit, str) else "score"
    key = f"mean_test_{metric}"
    if key not in results:
        names = sorted(k[len("mean_test_") :] for k in results if k.startswith("mean_test_"))
        raise ValueError(f"cv_results_ has no {key!r}; metrics available: {names}")
    return metric, key


def _param_values(results, name):
    column = results[f"param_{name}"]
    mask = np.ma.getmaskarray(column)
    values = list(np.ma.getdata(column))
    return [None if m else v for v, m in zip(values, mask, strict=True)]


def _is_log(search, name):
    dimension = getattr(search, "param_space", {}).get(name)
    return bool(getattr(dimension, "log", False))


def plot_search(search, *, params=None, metric=None, colorbar=True, axes=None):
    """Plot an evolutionary search: fitness by generation and each parameter against the score.

    The first panel reads ``search.logbook_``: the maximum and mean fitness of each
    generation's population and the best fitness so far (3 lines, in that order, with the
    population's min–max range shaded). The next panels, one per parameter, read
    ``search.cv_results_``: every distinct configuration evaluated, its parameter value against
    its mean test score, coloured by the generation that first met it, the best configuration
    marked with a star. A multi-fidelity search (``resource`` set) is shown at its top budget
    only, where its scores are comparable, and its budget parameter is not plotted. Log-scale
    dimensions (``Real(..., log=True)``) get a log axis; categorical values are placed at
    equally spaced positions.

    Parameters
    ----------
    search : fitted EvolutionarySearchCV
        A fitted search, with ``logbook_`` and ``cv_results_``.
    params : sequence of str or None, default=None
        Parameters to plot against the score; None plots every parameter of ``cv_results_``.
    metric : str or None, default=None
        Metric of multi-metric searches (``mean_test_<metric>``); None uses ``refit`` when it
        names a metric, else ``"score"``.
    colorbar : bool, default=True
        Add a colorbar for the generation (an extra Axes in the figure) when there are
        parameter panels.
    axes : sequence of matplotlib Axes or None, default=None
        ``1 + len(params)`` Axes to draw into (the fitness panel first); None creates a new
        figure with the fitness panel on top and the parameter panels below.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure: the fitness Axes, one Axes per parameter, then the colorbar's Axes if any.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from gan_estimators import EvolutionarySearchCV, Real
    >>> from gan_estimators.plotting import plot_search
    >>> X, y = load_iris(return_X_y=True)
    >>> search = EvolutionarySearchCV(SVC(), {"C": Real(1e-2, 1e2, log=True)},
    ...                               population_size=4, generations=2, random_state=0)
    >>> fig = plot_search(search.fit(X, y))
    >>> len(fig.axes)  # fitness, C, colorbar
    3
    """
    for attribute in ("cv_results_", "logbook_"):
        if not hasattr(search, attribute):
            raise ValueError(
                f"search has no {attribute}: pass a fitted EvolutionarySearchCV "
                f"({type(search).__name__} given)"
            )
    results = search.cv_results_
    metric, score_key = _score_key(search, metric)
    # A multi-fidelity search compares configurations only at one budget: plot its top budget,
    # and not the budget parameter itself.
    resource = getattr(search, "resource", None)
    rows = np.ones(len(results[score_key]), dtype=bool)
    if resource is not None and "n_resources" in results:
        budgets = np.asarray(results["n_resources"], dtype=np.float64)
        rows = budgets == np.nanmax(budgets)
    all_params = [
        k[len("param_") :] for k in results if k.startswith("param_") and k != f"param_{resource}"
    ]
    if params is None:
        params = all_params
    else:
        params = [params] if isinstance(params, str) else list(params)
        unknown = [p for p in params if p not in all_params]
        if unknown:
            raise ValueError(f"unknown parameters {unknown}; cv_results_ has {all_params}")

    n_panels = 1 + len(params)
    if axes is None:
        plt = _pyplot()
        ncols = max(1, min(len(params), 5))
        nrows = 1 + math.ceil(len(params) / ncols) if params else 1
        fig = plt.figure(figsize=(3.0 * max(ncols, 3), 3.2 * nrows), layout="constrained")
        grid = fig.add_gridspec(nrows, ncols)
        axes = [fig.add_subplot(grid[0, :])]
        for i in range(len(params)):
            r, c = divmod(i, ncols)
            axes.append(fig.add_subplot(grid[1 + r, c]))
    else:
        axes = _check_axes(axes, n_panels, "axes")
    fig = axes[0].figure

    # -- fitness by generation
    ax = axes[0]
    logbook = search.logbook_
    gens = np.asarray(logbook.select("gen"), dtype=np.float64)

    def column(name):
        return np.asarray(logbook.select(name), dtype=np.float64)

    low, high = column("min"), column("max")
    ax.fill_between(gens, low, high, alpha=0.2, color="C0", label="population min–max")
    ax.plot(gens, high, marker=".", color="C0", label="population max")
    ax.plot(gens, column("mean"), marker=".", linestyle="--", color="C0", label="population mean")
    # Drawn last: the best so far often coincides with the population's maximum (elitism).
    ax.plot(gens, column("best"), marker="o", color="C3", label="best so far", zorder=3)
    ax.set_xlabel("generation")
    ax.set_ylabel(f"fitness ({metric})")
    ax.set_title("Fitness by generation", fontsize="medium")
    if gens.size:
        ax.set_xticks(gens)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")

    # -- parameter vs score
    scores = np.asarray(results[score_key], dtype=np.float64)[rows]
    generation = np.asarray(results.get("generation", np.zeros(len(rows))), dtype=np.float64)[rows]
    best = int(np.nanargmax(scores)) if np.any(np.isfinite(scores)) else None
    n_gen = max(1, len(gens))
    scatter = None
    for name, ax in zip(params, axes[1:], strict=True):
        values = [
            value for value, kept in zip(_param_values(results, name), rows, strict=True) if kept
        ]
        numeric = all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values if v is not None
        )
        if numeric:
            x = np.array([np.nan if v is None else float(v) for v in values])
        else:
            categories = sorted({str(v) for v in values}, key=str)
            x = np.array([categories.index(str(v)) for v in values], dtype=np.float64)
            ax.set_xticks(range(len(categories)), categories, rotation=30, fontsize="small")
        scatter = ax.scatter(
            x, scores, c=generation, cmap="viridis", vmin=0, vmax=max(1, n_gen - 1), s=22
        )
        if best is not None:
            ax.scatter([x[best]], [scores[best]], marker="*", s=160, color="C3", edgecolor="black")
        if numeric and _is_log(search, name) and np.all(x[np.isfinite(x)] > 0):
            ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel(metric)
        ax.grid(True, alpha=0.3)
    if colorbar and scatter is not None:
        bar = fig.colorbar(scatter, ax=axes[1:], label="generation", shrink=0.9)
        bar.set_ticks(np.unique(np.linspace(0, n_gen - 1, min(n_gen, 6)).round()))
    return fig
