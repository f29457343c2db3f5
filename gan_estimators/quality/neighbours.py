"""Sample-quality metrics from distances between samples.

Improved precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al.
2020), built on k-NN balls around the samples; the fraction of near-duplicate samples; and the
diversity ratio.
Like :mod:`.metrics`, every function compares a real feature array ``(n, d)`` with a fake one
``(m, d)``; all are re-exported there.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils import check_random_state

from gan_estimators.quality.feature_base import _check_pair

__all__ = [
    "coverage",
    "density",
    "density_coverage",
    "diversity_ratio",
    "duplicate_fraction",
    "precision",
    "precision_recall",
    "recall",
]

# Rows per block when computing distance matrices, so that n x m matrices for large n never
# have to exist at once (2048 x 10,000 float64 is 160 MB at most).
_CHUNK_ROWS = 2048


def _check_k(k, n, name):
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if n <= k:
        raise ValueError(f"{name} needs more than k={k} samples for k-NN radii, got {n}")


# --------------------------------------------------------------------------------------------
# k-NN manifold metrics
# --------------------------------------------------------------------------------------------


def _iter_distance_blocks(A, B):
    """Yield ``(start, D)`` with ``D`` the Euclidean distances of a row block of A to all of B."""
    b_sq = np.einsum("ij,ij->i", B, B)
    for start in range(0, A.shape[0], _CHUNK_ROWS):
        block = A[start : start + _CHUNK_ROWS]
        yield start, euclidean_distances(block, B, Y_norm_squared=b_sq[np.newaxis, :])


def _knn_radii(X, ks):
    """Distance from every row of X to its k-th nearest *other* row, for each k in ``ks``.

    Returns a dict ``k -> array (n,)``.  Column 0 of the sorted distances is the point itself.
    """
    n = X.shape[0]
    kmax = max(ks)
    radii = {k: np.empty(n) for k in ks}
    for start, D in _iter_distance_blocks(X, X):
        rows = np.arange(D.shape[0])
        # The expansion formula leaves ~1e-8 on the diagonal: force the self-distance to 0 so
        # that it always sorts first and is the one dropped.
        D[rows, start + rows] = 0.0
        part = np.partition(D, kmax, axis=1)[:, : kmax + 1]
        part.sort(axis=1)
        for k in ks:
            radii[k][start : start + D.shape[0]] = part[:, k]
    return radii


def _manifold_counts(real, fake, real_radii, fake_radii):
    """One pass over the fake-to-real distances for all k-NN-ball metrics.

    ``real_radii`` and ``fake_radii`` map ``k`` to the k-NN radii of each set (either may be
    empty).  Returns a dict keyed by ``(name, k)``: per fake sample ``in_any_ball`` (inside at
    least one real ball) and ``n_balls`` (number of real balls containing it); per real sample
    ``covered`` (some fake lies inside its ball) and ``recalled`` (it lies inside some fake's
    ball).
    """
    n, m = real.shape[0], fake.shape[0]
    out = {}
    for k in real_radii:
        out["in_any_ball", k] = np.zeros(m, dtype=bool)
        out["n_balls", k] = np.zeros(m, dtype=np.int64)
        out["covered", k] = np.zeros(n, dtype=bool)
    for k in fake_radii:
        out["recalled", k] = np.zeros(n, dtype=bool)
    for start, D in _iter_distance_blocks(fake, real):
        stop = start + D.shape[0]
        for k, radius in real_radii.items():
            inside = D <= radius[np.newaxis, :]
            out["in_any_ball", k][start:stop] = inside.any(axis=1)
            out["n_balls", k][start:stop] = inside.sum(axis=1)
            out["covered", k] |= inside.any(axis=0)
        for k, radius in fake_radii.items():
            out["recalled", k] |= (D <= radius[start:stop, np.newaxis]).any(axis=0)
    return out


def precision_recall(real, fake, *, k=3):
    r"""Improved precision and recall with k-NN balls [Kynkaanniemi2019]_.

    Let :math:`\mathrm{NND}_k(u; S)` be the distance from :math:`u` to its k-th nearest
    neighbour in :math:`S \setminus \{u\}`.  The real manifold is the union of the closed balls
    :math:`B(x_i, \mathrm{NND}_k(x_i; X))` around the real samples; the fake manifold likewise.

    .. math::

        \mathrm{precision} = \frac{1}{m} \sum_{j=1}^m
            \mathbb{1}\bigl[\exists i: \lVert y_j - x_i \rVert \le \mathrm{NND}_k(x_i; X)\bigr]

        \mathrm{recall} = \frac{1}{n} \sum_{i=1}^n
            \mathbb{1}\bigl[\exists j: \lVert x_i - y_j \rVert \le \mathrm{NND}_k(y_j; Y)\bigr]

    Precision is the fraction of fakes that look real (fidelity); recall the fraction of reals
    the generator can produce (diversity).  A generator that repeats one sample has recall 0:
    its balls have radius 0.  Closed balls (``<=``) follow the paper and keep discrete data
    inside its own manifold.

    Parameters
    ----------
    real : array-like of shape (n, d)
    fake : array-like of shape (m, d)
    k : int, default=3
        Neighbourhood size (the paper's default is 3); both sets need more than ``k`` samples.

    Returns
    -------
    precision, recall : float
        Both in [0, 1], higher is better.

    References
    ----------
    .. [Kynkaanniemi2019] T. Kynkäänniemi et al., "Improved precision and recall metric for
       assessing generative models", NeurIPS 2019.
    """
    real, fake = _check_pair(real, fake)
    _check_k(k, real.shape[0], "real")
    _check_k(k, fake.shape[0], "fake")
    counts = _manifold_counts(real, fake, _knn_radii(real, [k]), _knn_radii(fake, [k]))
    return float(counts["in_any_ball", k].mean()), float(counts["recalled", k].mean())


def precision(real, fake, *, k=3):
    """Improved precision (Kynkäänniemi et al. 2019); see :func:`precision_recall`."""
    real, fake = _check_pair(real, fake)
    _check_k(k, real.shape[0], "real")
    counts = _manifold_counts(real, fake, _knn_radii(real, [k]), {})
    return float(counts["in_any_ball", k].mean())


def recall(real, fake, *, k=3):
    """Improved recall (Kynkäänniemi et al. 2019); see :func:`precision_recall`."""
    real, fake = _check_pair(real, fake)
    _check_k(k, fake.shape[0], "fake")
    counts = _manifold_counts(real, fake, {}, _knn_radii(fake, [k]))
    return float(counts["recalled", k].mean())


def density_coverage(real, fake, *, k=5):
    r"""Density and coverage [Naeem2020]_.

    With the real k-NN balls :math:`B(x_i, \mathrm{NND}_k(x_i; X))` (see
    :func:`precision_recall`),

    .. math::

        \mathrm{density} = \frac{1}{k m} \sum_{j=1}^m \sum_{i=1}^n
            \mathbb{1}\bigl[y_j \in B(x_i, \mathrm{NND}_k(x_i; X))\bigr]

        \mathrm{coverage} = \frac{1}{n} \sum_{i=1}^n
            \mathbb{1}\bigl[\exists j: y_j \in B(x_i, \mathrm{NND}_k(x_i; X))\bigr]

    Density counts how many real neighbourhoods each fake falls into (fidelity, robust to real
    outliers; about 1 for identical distributions and unbounded above).  Coverage is the
    fraction of real neighbourhoods that contain at least one fake: it only uses balls around
    *real* samples, so it is robust to fake outliers and is the most reliable signal of mode
    dropping.  For identical distributions and ``n = m`` its expectation is
    :math:`1 - \prod_{i=1}^{k} \frac{n - i}{2n - i} \approx 1 - 2^{-k}` (Lemma 2 of the paper).

    Parameters
    ----------
    real : array-like of shape (n, d)
    fake : array-like of shape (m, d)
    k : int, default=5
        Neighbourhood size (the paper's recommendation); ``real`` needs more than ``k`` samples.

    Returns
    -------
    density, coverage : float
        Higher is better; coverage is in [0, 1].

    References
    ----------
    .. [Naeem2020] M. F. Naeem et al., "Reliable fidelity and diversity metrics for generative
       models", ICML 2020.
    """
    real, fake = _check_pair(real, fake)
    _check_k(k, real.shape[0], "real")
    counts = _manifold_counts(real, fake, _knn_radii(real, [k]), {})
    return float(counts["n_balls", k].mean() / k), float(counts["covered", k].mean())


def density(real, fake, *, k=5):
    """Density (Naeem et al. 2020); see :func:`density_coverage`."""
    return density_coverage(real, fake, k=k)[0]


def coverage(real, fake, *, k=5):
    """Coverage (Naeem et al. 2020); see :func:`density_coverage`."""
    return density_coverage(real, fake, k=k)[1]


# --------------------------------------------------------------------------------------------
# Collapse diagnostics
# --------------------------------------------------------------------------------------------


def _duplicate_threshold(real, quantile):
    # Distances between *distinct* real samples set the scale: exact copies in the real data
    # (a small or repeated training set) would otherwise drive the threshold to 0.
    distinct = np.unique(real, axis=0)
    if distinct.shape[0] < 2:
        return 0.0
    nn = _knn_radii(distinct, [1])[1]
    return float(np.quantile(nn, quantile))


def _duplicate_fraction_from(fake_nn, threshold):
    return float(np.mean(fake_nn <= threshold))


def duplicate_fraction(real, fake, *, quantile=0.01):
    r"""Fraction of generated samples that are near-duplicates of another generated sample.

    A fake :math:`y_j` is a near-duplicate when its nearest *other* fake is closer than
    :math:`\tau`, the ``quantile`` of the nearest-neighbour distances between the distinct
    real samples (exact copies in the real data are merged first):

    .. math::

        \tau = Q_q\bigl(\{\mathrm{NND}_1(x_i; X)\}_i\bigr), \qquad
        \mathrm{dup} = \frac{1}{m} \sum_{j=1}^m
            \mathbb{1}\bigl[\mathrm{NND}_1(y_j; Y) \le \tau\bigr]

    So a real-like sample of the same size scores about ``quantile`` (1 % by default), and a
    generator that emits one output over and over scores 1.  It is a direct symptom of mode
    collapse (Naeem et al. 2020, see :func:`density_coverage`, discuss the related failure of
    precision/recall on repeated samples).  Compare at equal sizes: nearest-neighbour distances
    shrink as sets grow.

    Parameters
    ----------
    real : array-like of shape (n, d)
        Reference real features (``n >= 2``), which set the distance scale.
    fake : array-like of shape (m, d)
        Generated features (``m >= 2``).
    quantile : float, default=0.01
        Quantile of the real nearest-neighbour distances used as threshold, in [0, 1].

    Returns
    -------
    float
        In [0, 1]; lower is better.
    """
    real, fake = _check_pair(real, fake, min_samples=2)
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], got {quantile!r}")
    return _duplicate_fraction_from(_knn_radii(fake, [1])[1], _duplicate_threshold(real, quantile))


def _mean_pairwise_distance(X, max_samples, rng):
    if max_samples is not None and X.shape[0] > max_samples:
        X = X[rng.choice(X.shape[0], max_samples, replace=False)]
    n = X.shape[0]
    total = 0.0
    for _, D in _iter_distance_blocks(X, X):
        total += float(D.sum())
    # The diagonal is ~0 (rounding aside); average over the n(n-1) off-diagonal pairs.
    return total / (n * (n - 1))


def diversity_ratio(real, fake, *, max_samples=2000, random_state=0):
    r"""Feature diversity of the fakes relative to the reals.

    .. math::

        \mathrm{diversity} = \frac{\frac{1}{m(m-1)} \sum_{j \ne l} \lVert y_j - y_l \rVert}
                                  {\frac{1}{n(n-1)} \sum_{i \ne k} \lVert x_i - x_k \rVert}

    About 1 when the generated samples are as spread out as the real ones; much below 1 under
    mode collapse (0 when all fakes are identical), above 1 for samples more spread than the
    data (noise).  Closer to 1 is better.

    Parameters
    ----------
    real : array-like of shape (n, d)
    fake : array-like of shape (m, d)
        Both need at least 2 samples.
    max_samples : int or None, default=2000
        Each set is randomly subsampled to at most this many rows (the cost is quadratic).
    random_state : int, RandomState instance or None, default=0
        Seeds the subsampling.

    Returns
    -------
    float
        Non-negative; ``inf`` if every real sample is identical.
    """
    real, fake = _check_pair(real, fake, min_samples=2)
    rng = check_random_state(random_state)
    real_div = _mean_pairwise_distance(real, max_samples, rng)
    fake_div = _mean_pairwise_distance(fake, max_samples, rng)
    if real_div == 0.0:
        return 0.0 if fake_div == 0.0 else float("inf")
    return fake_div / real_div
