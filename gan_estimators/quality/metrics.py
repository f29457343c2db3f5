"""Sample-quality metrics on feature arrays.

Every function here compares a *real* feature array of shape ``(n, d)`` with a *fake*
(generated) feature array of shape ``(m, d)``.  The arrays are features, not images: map images
through a feature map first (see :mod:`gan_estimators.quality.features`).  Only NumPy, SciPy and
scikit-learn are used, so importing this module never starts TensorFlow.  The Fréchet distance,
KID and :func:`compute_metrics` are defined here; the metrics built on distances between samples
(precision, recall, density, coverage, the duplicate fraction, the diversity ratio) live in
:mod:`gan_estimators.quality.neighbours` and are re-exported here.

Sign conventions: the functions return the metric as defined in its paper (lower is better for
the Fréchet distance and KID, higher is better for precision, recall, density and coverage).
:data:`METRIC_DIRECTIONS` records which way each metric improves, and :func:`as_score` turns a
value into a greater-is-better score, as the scorers of :mod:`gan_estimators.quality.scorers`
and ``score`` need.

The Fréchet distance is biased in the sample size (it grows as ``n`` shrinks): compare values only
at equal ``n`` and next to a real-vs-real baseline (two disjoint real samples of the same size).

Sources: the Fréchet distance [Heusel2017]_ between Gaussians [Dowson1982]_, KID [Binkowski2018]_
(an MMD [Gretton2012]_), improved precision and recall [Kynkaanniemi2019]_, density and coverage
[Naeem2020]_.

References
----------
.. [Heusel2017] M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler and S. Hochreiter, "GANs trained
   by a two time-scale update rule converge to a local Nash equilibrium", NeurIPS 2017.
.. [Dowson1982] D. C. Dowson and B. V. Landau, "The Fréchet distance between multivariate normal
   distributions", Journal of Multivariate Analysis 12(3), 1982.
.. [Binkowski2018] M. Bińkowski, D. J. Sutherland, M. Arbel and A. Gretton, "Demystifying MMD
   GANs", ICLR 2018.
.. [Gretton2012] A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schölkopf and A. Smola, "A kernel
   two-sample test", JMLR 13, 2012.
.. [Kynkaanniemi2019] T. Kynkäänniemi, T. Karras, S. Laine, J. Lehtinen and T. Aila, "Improved
   precision and recall metric for assessing generative models", NeurIPS 2019.
.. [Naeem2020] M. F. Naeem, S. J. Oh, Y. Uh, Y. Choi and J. Yoo, "Reliable fidelity and diversity
   metrics for generative models", ICML 2020.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state

from gan_estimators.quality.feature_base import _check_pair
from gan_estimators.quality.neighbours import (
    _check_k,
    _duplicate_fraction_from,
    _duplicate_threshold,
    _knn_radii,
    _manifold_counts,
    coverage,
    density,
    density_coverage,
    diversity_ratio,
    duplicate_fraction,
    precision,
    precision_recall,
    recall,
)
from gan_estimators.quality.tables import (
    column_pair_trends,
    column_shapes,
    table_quality,
    train_synthetic_test_real,
)

__all__ = [
    "METRIC_DIRECTIONS",
    "METRIC_NAMES",
    "KIDResult",
    "as_score",
    "column_pair_trends",
    "column_shapes",
    "compute_metrics",
    "coverage",
    "density",
    "density_coverage",
    "diversity_ratio",
    "duplicate_fraction",
    "frechet_distance",
    "frechet_distance_from_stats",
    "kid",
    "precision",
    "precision_recall",
    "recall",
    "table_quality",
    "train_synthetic_test_real",
]

#: Which way each metric improves, in the order :func:`compute_metrics` reports them:
#: ``"lower"`` or ``"higher"`` is better, or ``"one"`` (the diversity ratio: closer to 1 is
#: better).  :func:`as_score` turns a value into a greater-is-better score accordingly.
METRIC_DIRECTIONS = {
    "fd": "lower",
    "kid": "lower",
    "precision": "higher",
    "recall": "higher",
    "density": "higher",
    "coverage": "higher",
    "duplicate_fraction": "lower",
    "diversity": "one",
}

#: Names accepted by :func:`compute_metrics`, in the order they are reported.
METRIC_NAMES = tuple(METRIC_DIRECTIONS)


def as_score(metric, value):
    """A metric's value signed so that greater is better, as searches and ``score`` need.

    A lower-is-better metric (FD, KID, the duplicate fraction) is negated; the diversity ratio
    ``r`` becomes ``-|log r|`` (0 at ``r = 1``, ``-inf`` when ``r`` is 0 or not finite); the
    others are returned unchanged.

    Parameters
    ----------
    metric : str
        A name from :data:`METRIC_NAMES`.
    value : float
        The metric's value, as :func:`compute_metrics` returns it.

    Returns
    -------
    float
    """
    direction = METRIC_DIRECTIONS[metric]
    if direction == "lower":
        return -value
    if direction == "one":
        if value <= 0 or not np.isfinite(value):
            return -math.inf
        return -abs(math.log(value))
    return value


# --------------------------------------------------------------------------------------------
# Fréchet distance
# --------------------------------------------------------------------------------------------


def _sqrt_psd(matrix):
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition."""
    eigvals, eigvecs = np.linalg.eigh(matrix)
    # Covariances estimated from finite samples are PSD only up to rounding: clip the tiny
    # negative eigenvalues instead of letting sqrt produce NaN or complex numbers.
    eigvals = np.clip(eigvals, 0.0, None)
    return (eigvecs * np.sqrt(eigvals)) @ eigvecs.T


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2):
    r"""Fréchet distance between two Gaussians given their means and covariances.

    .. math::

        \mathrm{FD} = \lVert \mu_1 - \mu_2 \rVert_2^2
            + \operatorname{Tr}\bigl(\Sigma_1 + \Sigma_2
            - 2 (\Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2})^{1/2}\bigr)

    The trace of the matrix square root equals
    :math:`\operatorname{Tr}\sqrt{\Sigma_1\Sigma_2}` of the usual formula [Dowson1982]_, but is
    computed on a *symmetric* positive semi-definite matrix: both square roots come from a
    symmetric eigendecomposition (:func:`numpy.linalg.eigh`) with tiny negative eigenvalues
    clipped to zero.  This avoids the complex results and instabilities of a general ``sqrtm``
    on nearly singular covariances (for example fewer samples than dimensions).

    Parameters
    ----------
    mu1, mu2 : array-like of shape (d,)
        Means.
    sigma1, sigma2 : array-like of shape (d, d)
        Covariance matrices (symmetric positive semi-definite).

    Returns
    -------
    float
        The distance, clipped at 0 (rounding can make an exact 0 slightly negative).

    References
    ----------
    .. [Dowson1982] D. C. Dowson and B. V. Landau, "The Fréchet distance between multivariate
       normal distributions", Journal of Multivariate Analysis 12(3), 1982.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,):
        raise ValueError(f"mu1 and mu2 must both have shape (d,), got {mu1.shape}, {mu2.shape}")
    if sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"sigma1 and sigma2 must have shape ({d}, {d}), got {sigma1.shape}, {sigma2.shape}"
        )
    # Symmetrise: np.cov is symmetric only up to rounding and eigh reads one triangle.
    sigma1 = (sigma1 + sigma1.T) / 2.0
    sigma2 = (sigma2 + sigma2.T) / 2.0
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    middle = (middle + middle.T) / 2.0
    eigvals = np.clip(np.linalg.eigvalsh(middle), 0.0, None)
    trace_sqrt = float(np.sum(np.sqrt(eigvals)))
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)
    return max(value, 0.0)


def frechet_distance(real, fake):
    r"""Fréchet distance (FD, the "FID" formula) between Gaussian fits of two feature sets.

    Each set is summarised by its mean :math:`\mu` and unbiased covariance :math:`\Sigma`
    (``ddof=1``), and

    .. math::

        \mathrm{FD} = \lVert \mu_r - \mu_f \rVert_2^2
            + \operatorname{Tr}\bigl(\Sigma_r + \Sigma_f
            - 2 (\Sigma_r^{1/2} \Sigma_f \Sigma_r^{1/2})^{1/2}\bigr)

    (see :func:`frechet_distance_from_stats` for the numerically stable evaluation).  Lower is
    better; identical sets give 0, and two Gaussians with equal covariance whose means differ by
    a vector :math:`\delta` give :math:`\lVert\delta\rVert^2`.

    FD is biased in the sample size: compare only at equal sizes, against a real-vs-real floor.

    Parameters
    ----------
    real : array-like of shape (n, d)
        Features of real samples (``n >= 2``).
    fake : array-like of shape (m, d)
        Features of generated samples (``m >= 2``).

    Returns
    -------
    float

    References
    ----------
    .. [Heusel2017] M. Heusel et al., "GANs trained by a two time-scale update rule converge to
       a local Nash equilibrium", NeurIPS 2017.
    """
    real, fake = _check_pair(real, fake, min_samples=2)
    return frechet_distance_from_stats(
        real.mean(axis=0),
        np.cov(real, rowvar=False, ddof=1),
        fake.mean(axis=0),
        np.cov(fake, rowvar=False, ddof=1),
    )


# --------------------------------------------------------------------------------------------
# Kernel inception distance
# --------------------------------------------------------------------------------------------


class KIDResult(NamedTuple):
    """Mean and standard deviation of the KID estimate over random subsets."""

    mean: float
    std: float


def kid(real, fake, *, n_subsets=100, subset_size=1000, random_state=0):
    r"""Kernel Inception Distance: unbiased squared MMD with a cubic polynomial kernel.

    With the kernel :math:`k(x, y) = (x^\top y / d + 1)^3` and two subsets
    :math:`\{x_i\}_{i=1}^s` (real) and :math:`\{y_j\}_{j=1}^s` (fake) of equal size :math:`s`,

    .. math::

        \widehat{\mathrm{MMD}}^2_u = \frac{1}{s(s-1)} \sum_{i \ne j} k(x_i, x_j)
            + \frac{1}{s(s-1)} \sum_{i \ne j} k(y_i, y_j)
            - \frac{2}{s^2} \sum_{i, j} k(x_i, y_j)

    is averaged over ``n_subsets`` random subsets drawn without replacement from each set
    ([Binkowski2018]_, [Gretton2012]_).  The estimator is unbiased, so it can be slightly
    negative when the two distributions are equal; lower is better.  Unlike FD, KID's expectation
    does not depend on the sample size.

    The kernel matrices are computed once on the full sets; each subset's sums are then read off
    them with indicator vectors, so the cost is that of one full MMD plus a few matrix products.

    Parameters
    ----------
    real : array-like of shape (n, d)
        Features of real samples.
    fake : array-like of shape (m, d)
        Features of generated samples.
    n_subsets : int, default=100
        Number of random subset pairs.  When ``subset_size >= min(n, m)`` every subset of the
        smaller set is the whole set, so the standard deviation only reflects the larger one;
        when moreover ``n == m``, the single full-set estimate is returned (std 0).
    subset_size : int, default=1000
        Size :math:`s` of each subset, capped at ``min(n, m)`` (which must be at least 2).
    random_state : int, RandomState instance or None, default=0
        Seeds the choice of subsets.

    Returns
    -------
    KIDResult
        Named tuple ``(mean, std)`` over the subsets.

    References
    ----------
    .. [Binkowski2018] M. Bińkowski et al., "Demystifying MMD GANs", ICLR 2018.
    .. [Gretton2012] A. Gretton et al., "A kernel two-sample test", JMLR 13, 2012.
    """
    real, fake = _check_pair(real, fake, min_samples=2)
    if not isinstance(n_subsets, (int, np.integer)) or n_subsets < 1:
        raise ValueError(f"n_subsets must be a positive integer, got {n_subsets!r}")
    if not isinstance(subset_size, (int, np.integer)) or subset_size < 2:
        raise ValueError(f"subset_size must be an integer >= 2, got {subset_size!r}")
    n, m = real.shape[0], fake.shape[0]
    d = real.shape[1]
    s = int(min(subset_size, n, m))
    rng = check_random_state(random_state)
    if s == n and s == m:
        # Every subset would be both whole sets: one evaluation gives the same mean (std 0).
        n_subsets = 1

    def kernel(a, b):
        return (a @ b.T / d + 1.0) ** 3

    k_rr = kernel(real, real)
    k_ff = kernel(fake, fake)
    k_rf = kernel(real, fake)

    # Indicator matrices, one column per subset.
    v_r = np.zeros((n, n_subsets))
    v_f = np.zeros((m, n_subsets))
    for t in range(n_subsets):
        v_r[rng.choice(n, s, replace=False) if s < n else slice(None), t] = 1.0
        v_f[rng.choice(m, s, replace=False) if s < m else slice(None), t] = 1.0

    sum_rr = np.einsum("it,it->t", v_r, k_rr @ v_r) - v_r.T @ np.diag(k_rr)
    sum_ff = np.einsum("it,it->t", v_f, k_ff @ v_f) - v_f.T @ np.diag(k_ff)
    sum_rf = np.einsum("it,it->t", v_r, k_rf @ v_f)
    mmd2 = (sum_rr + sum_ff) / (s * (s - 1)) - 2.0 * sum_rf / (s * s)
    return KIDResult(float(np.mean(mmd2)), float(np.std(mmd2)))


# --------------------------------------------------------------------------------------------
# Everything at once
# --------------------------------------------------------------------------------------------


def compute_metrics(
    real,
    fake,
    metrics=None,
    *,
    pr_k=3,
    dc_k=5,
    duplicate_quantile=0.01,
    kid_subsets=100,
    kid_subset_size=1000,
    random_state=0,
):
    """Compute several metrics at once, sharing the k-NN and distance computations.

    Parameters
    ----------
    real : array-like of shape (n, d)
        Real features.
    fake : array-like of shape (m, d)
        Generated features.
    metrics : iterable of str or None, default=None
        Names from :data:`METRIC_NAMES`: ``"fd"``, ``"kid"`` (the KID mean; ``"kid_std"`` is
        added alongside), ``"precision"``, ``"recall"``, ``"density"``, ``"coverage"``,
        ``"duplicate_fraction"``, ``"diversity"``.  ``None`` computes all of them.
    pr_k : int, default=3
        ``k`` of :func:`precision_recall`.
    dc_k : int, default=5
        ``k`` of :func:`density_coverage`.
    duplicate_quantile : float, default=0.01
        ``quantile`` of :func:`duplicate_fraction`.
    kid_subsets, kid_subset_size : int, default=100, 1000
        ``n_subsets`` and ``subset_size`` of :func:`kid`.
    random_state : int, RandomState instance or None, default=0
        Seeds KID's subsets and the diversity subsampling.

    Returns
    -------
    dict
        Metric name -> float, in the paper's sign convention (see the individual functions).
    """
    names = list(METRIC_NAMES) if metrics is None else _check_metric_names(metrics)
    real, fake = _check_pair(real, fake, min_samples=2)
    rng = check_random_state(random_state)
    out = {}
    if "fd" in names:
        out["fd"] = frechet_distance(real, fake)
    if "kid" in names:
        result = kid(
            real,
            fake,
            n_subsets=kid_subsets,
            subset_size=kid_subset_size,
            random_state=rng,
        )
        out["kid"], out["kid_std"] = result.mean, result.std

    wants_dc = "density" in names or "coverage" in names
    wants_dup = "duplicate_fraction" in names
    real_ball_ks = ({pr_k} if "precision" in names else set()) | ({dc_k} if wants_dc else set())
    fake_ball_ks = {pr_k} if "recall" in names else set()
    for k in real_ball_ks:
        _check_k(k, real.shape[0], "real")
    for k in fake_ball_ks:
        _check_k(k, fake.shape[0], "fake")
    real_ks = real_ball_ks
    fake_ks = fake_ball_ks | ({1} if wants_dup else set())
    real_radii = _knn_radii(real, sorted(real_ks)) if real_ks else {}
    fake_radii = _knn_radii(fake, sorted(fake_ks)) if fake_ks else {}
    if real_ball_ks or fake_ball_ks:
        counts = _manifold_counts(
            real,
            fake,
            {k: real_radii[k] for k in real_ball_ks},
            {k: fake_radii[k] for k in fake_ball_ks},
        )
        if "precision" in names:
            out["precision"] = float(counts["in_any_ball", pr_k].mean())
        if "recall" in names:
            out["recall"] = float(counts["recalled", pr_k].mean())
        if "density" in names:
            out["density"] = float(counts["n_balls", dc_k].mean() / dc_k)
        if "coverage" in names:
            out["coverage"] = float(counts["covered", dc_k].mean())
    if "duplicate_fraction" in names:
        if not 0.0 <= duplicate_quantile <= 1.0:
            raise ValueError(f"duplicate_quantile must be in [0, 1], got {duplicate_quantile!r}")
        threshold = _duplicate_threshold(real, duplicate_quantile)
        out["duplicate_fraction"] = _duplicate_fraction_from(fake_radii[1], threshold)
    if "diversity" in names:
        out["diversity"] = diversity_ratio(real, fake, random_state=rng)
    return out


def _check_metric_names(metrics):
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, Iterable):
        raise TypeError(f"metrics must be an iterable of names, got {type(metrics).__name__}")
    names = list(metrics)
    unknown = [m for m in names if m not in METRIC_NAMES]
    if unknown:
        raise ValueError(f"unknown metric name(s) {unknown}; expected names from {METRIC_NAMES}")
    return names
