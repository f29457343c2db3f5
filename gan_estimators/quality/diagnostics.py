"""Failure-mode diagnostics of GAN training.

After ``fit``, a generative estimator of this package inspects its loss history and a sample of
its output for the three classic failure modes (:doc:`/user_guide/failure_modes`) and stores a
:class:`DiagnosticsReport` as ``diagnostics_``; each mode that trips is also reported with a
:class:`GANTrainingWarning`.  :func:`diagnose` can be called directly on any history and feature
arrays.  NumPy only: importing this module never starts TensorFlow.

Failure modes and their tests (all thresholds are fields of :class:`Thresholds`)
--------------------------------------------------------------------------------
The history checks use the *tail* of the run (its last ``tail_fraction`` = 25 % of generator
iterations, at least ``min_tail`` = 5) and need ``min_steps`` = 100 iterations; shorter runs are
reported as not assessed (``flagged=None``): the first iterations of every GAN are a transient
(the critic learns to separate, the generator's loss climbs) that says nothing about failure,
and the samples of a barely trained generator are near-identical by construction, so the
sample checks wait for ``min_steps`` too when a history is given.  A series is *flat* when the
standard deviation of its tail is below ``flat_ratio`` = 0.1 of its standard deviation over the
whole run (it stopped moving) or below ``flat_level`` = 0.001 of the tail's median magnitude
(it barely moves at all).

Vanishing gradients
    The critic wins so completely that the generator stops receiving a signal.  Flagged when
    all three hold: the generator's gradient norm has collapsed (tail median below
    ``grad_collapse_ratio`` = 1 % of the largest median over ten equal windows of the run);
    the generator loss is flat; and the critic loss is saturated -- flat and within
    ``saturation_position`` = 10 % of the bottom of its range over the run (for ``"gan"``
    losses: tail median critic loss below ``bce_saturated_loss`` = 0.1, a near-perfect
    discriminator).
Mode collapse
    The generator covers few modes of the data.  From a sample of ``n`` generated and ``n``
    real training samples in the estimator's feature space: flagged when the duplicate
    fraction (:func:`gan_estimators.quality.metrics.duplicate_fraction`) is at least
    ``duplicate_fraction`` = 0.5 *and* coverage is below ``collapse_coverage`` = 0.5 *and*
    the duplicates are either real-looking (precision at least ``poor_precision`` = 10 %) or
    alike (diversity ratio below ``duplicate_diversity`` = 0.8); or when the diversity ratio is
    below ``collapse_diversity`` = 0.4.  Requiring low coverage keeps samples that are merely
    smooth (blurred images are closer to each other than real ones, hence many
    "near-duplicates", but still cover the data) from tripping the flag; requiring precision or
    low diversity keeps a varied but still unlearned generator -- noise-like samples, far from
    the data and hence "covering" nothing -- from being called collapsed.  Needs
    ``min_samples`` = 20 samples.
Failure to converge
    One player outruns the other.  Flagged on either

    - *sustained divergence*: over the last half of the run, split into
      ``divergence_windows`` = 4 windows, the medians of the generator loss rise in every
      window, in total by more than ``divergence_noise`` = 3 times the typical within-window
      standard deviation and by more than ``divergence_min_rise`` = 10 % of the loss's range
      over the run, while the median critic loss falls by more than ``critic_fall_noise`` = 1
      within-window standard deviation (the critic keeps winning).  Requiring the critic to
      win as well ignores the harmless drift of a Wasserstein generator loss, whose offset is
      arbitrary; or
    - *a critic at chance with poor samples*: for ``"gan"`` losses the tail medians of the
      critic's real and fake losses are both within ``chance_bce_tolerance`` = 0.1 of
      :math:`\\ln 2` (outputs ≈ 0.5); for Wasserstein losses the tail median of the estimated
      distance :math:`-(\\text{critic\\_real} + \\text{critic\\_fake})` is below
      ``chance_wasserstein_ratio`` = 5 % of its peak over the run.  A critic that cannot
      tell real from fake is also what a *converged* GAN looks like, so this only counts
      when fewer than ``poor_precision`` = 10 % of the generated samples fall on the real
      data manifold (improved precision, k = 3).

Checks of a conditional model (fitted with class labels), from the real training samples and
the samples requested of each class, in the same feature space:

Mode collapse per class (``mode_collapse_per_class``)
    The mode-collapse test above, applied to each class's samples against that class's real
    samples; flagged when any class collapsed.  A conditional generator can collapse within a
    class while its pooled samples, spread over the classes, look varied.
Class leakage (``class_leakage``)
    The share of the samples requested of a class that the feature space places in another
    class: nearer to another class's centroid (the mean features of its real samples) than to
    their own class's.  The same rule on the real samples gives the leakage of real data, the
    floor.  Centroids rather than nearest neighbours because the samples of a poor generator
    lie off the data: their nearest real neighbours are an accident of which class is densest
    near them, while the centroids still say which class they resemble.
    A generator that ignores the label leaks ``1 - prior`` of a class's samples (its *chance*
    leakage); a class is flagged when its leakage is above ``leakage_of_chance`` = 0.5 of its
    chance leakage and above its real leakage, and the mode when any class is.  Both wait for
    ``min_steps`` like the sample checks.

Evidence numbers are stored with each mode in the report, so thresholds can be re-applied by
hand; pass a :class:`Thresholds` with other values to :func:`diagnose` to change them.
"""

from __future__ import annotations

import math

import numpy as np

from gan_estimators.quality.metrics import compute_metrics
from gan_estimators.quality.report import (
    CLASS_MODES,
    FAILURE_MODES,
    DiagnosticsReport,
    FailureMode,
    Thresholds,
)

__all__ = [
    "CLASS_MODES",
    "FAILURE_MODES",
    "DiagnosticsReport",
    "FailureMode",
    "GANTrainingWarning",
    "Thresholds",
    "diagnose",
]

_REMEDIES = {
    "vanishing_gradients": (
        "Keep the critic from saturating: use loss='wgan-gp', lower the critic's learning "
        "rate or n_critic, or add label noise (label_noise=0.2) for loss='gan'."
    ),
    "mode_collapse": (
        "Use loss='wgan-gp' (or label noise for loss='gan'), let the critic keep up "
        "(raise n_critic or its learning rate), or lower the generator's learning rate."
    ),
    "failure_to_converge": (
        "Rebalance the players: lower the faster side's learning rate "
        "(critic_learning_rate / generator_learning_rate), adjust n_critic / n_gen, or use "
        "loss='wgan-gp' with Adam (learning_rate=1e-4, beta_1=0.5, beta_2=0.9)."
    ),
    "class_leakage": (
        "Train longer (the label's effect grows with training), or use loss='gan' or "
        "'wgan-gp', whose projection critic learns the classes faster than clipped weights."
    ),
}
_REMEDIES["mode_collapse_per_class"] = _REMEDIES["mode_collapse"]

_LN2 = math.log(2.0)


class GANTrainingWarning(UserWarning):
    """Warning emitted after ``fit`` when a failure mode of GAN training is detected.

    The full evidence is in the estimator's ``diagnostics_`` report.  Silence it with
    ``warnings.simplefilter("ignore", GANTrainingWarning)``, or turn it into an error with
    ``"error"`` to stop a search at the first failing candidate.
    """


# --------------------------------------------------------------------------------------------
# History helpers
# --------------------------------------------------------------------------------------------


def _series(history, key):
    if history is None or key not in history:
        return None
    values = np.asarray(history[key], dtype=np.float64).ravel()
    return values if values.size else None


def _tail_length(n, thresholds):
    return max(int(thresholds.min_tail), math.ceil(thresholds.tail_fraction * n))


def _flatness(values, tail):
    """(std(tail) / std(run), std(tail) / |median(tail)|), each 0 for a constant series."""
    tail_std = float(np.std(values[-tail:]))
    total = float(np.std(values))
    level = abs(float(np.median(values[-tail:])))
    tiny = 1e-12 * max(1.0, float(np.max(np.abs(values))))
    relative_to_run = 0.0 if total <= tiny else tail_std / total
    relative_to_level = 0.0 if tail_std <= tiny else tail_std / max(level, tiny)
    return relative_to_run, relative_to_level


def _is_flat(flatness, th):
    return flatness[0] < th.flat_ratio or flatness[1] < th.flat_level


def _window_medians(values, n_windows):
    return np.array([np.median(w) for w in np.array_split(values, n_windows) if w.size])


def _n_steps(history):
    """Length of the history, or None when there is no usable history."""
    lengths = [
        len(values)
        for key in ("generator_loss", "critic_loss", "step")
        if (values := _series(history, key)) is not None
    ]
    return max(lengths) if lengths else None


def _not_assessed(name, reason, evidence=None):
    return FailureMode(name, None, evidence or {}, reason, _REMEDIES[name])


def _infer_loss_kind(loss, history):
    if loss is not None:
        text = str(loss).lower()
        if "wgan" in text or "wasserstein" in text:
            return "wasserstein"
        if text in {"gan", "bce", "vanilla", "nsgan", "ns-gan", "binary_crossentropy"}:
            return "bce"
    values = [_series(history, k) for k in ("critic_real", "critic_fake")]
    values = [v for v in values if v is not None]
    if not values:
        return None
    # Binary cross-entropies are never negative; Wasserstein critic terms usually are.
    return "wasserstein" if any(np.any(v < 0) for v in values) else "bce"


# --------------------------------------------------------------------------------------------
# The three checks
# --------------------------------------------------------------------------------------------


def _check_vanishing(history, kind, th):
    name = "vanishing_gradients"
    grad = _series(history, "generator_grad_norm")
    gloss = _series(history, "generator_loss")
    closs = _series(history, "critic_loss")
    if grad is None or gloss is None or closs is None:
        return _not_assessed(
            name, "history lacks generator_grad_norm, generator_loss or critic_loss."
        )
    n = min(grad.size, gloss.size, closs.size)
    if n < th.min_steps:
        return _not_assessed(name, f"only {n} iterations (< {th.min_steps}).")
    grad, gloss, closs = grad[:n], gloss[:n], closs[:n]
    tail = _tail_length(n, th)
    peak = float(np.max(_window_medians(grad, 10)))
    tail_grad = float(np.median(grad[-tail:]))
    grad_ratio = tail_grad / peak if peak > 0 else 0.0
    gen_flatness = _flatness(gloss, tail)
    critic_flatness = _flatness(closs, tail)
    gen_flat = _is_flat(gen_flatness, th)
    critic_flat = _is_flat(critic_flatness, th)
    low, high = float(np.min(closs)), float(np.max(closs))
    tail_critic = float(np.median(closs[-tail:]))
    position = (tail_critic - low) / (high - low) if high > low else 0.0
    if kind == "bce":
        saturated = tail_critic < th.bce_saturated_loss
    else:
        saturated = critic_flat and position <= th.saturation_position
    collapsed = grad_ratio < th.grad_collapse_ratio
    flat = gen_flat
    evidence = {
        "generator_grad_ratio": grad_ratio,
        "generator_grad_tail": tail_grad,
        "generator_grad_peak": peak,
        "generator_loss_flatness": gen_flatness[0],
        "generator_loss_tail_variation": gen_flatness[1],
        "critic_loss_flatness": critic_flatness[0],
        "critic_loss_tail_variation": critic_flatness[1],
        "critic_loss_position": position,
        "critic_loss_tail": tail_critic,
        "tail_steps": tail,
    }
    flagged = bool(collapsed and flat and saturated)
    if flagged:
        reason = (
            f"generator gradient norm fell to {grad_ratio:.2g} of its peak, generator loss "
            f"flat and critic loss saturated at {tail_critic:.3g}."
        )
    else:
        parts = []
        parts.append(f"gradient ratio {grad_ratio:.2g}" + (" (collapsed)" if collapsed else ""))
        parts.append("generator loss flat" if flat else "generator loss moving")
        parts.append("critic saturated" if saturated else "critic not saturated")
        reason = ", ".join(parts) + "."
    return FailureMode(name, flagged, evidence, reason, _REMEDIES[name])


def _sample_metrics(real_features, fake_features):
    return compute_metrics(
        real_features,
        fake_features,
        ["precision", "coverage", "duplicate_fraction", "diversity"],
    )


def _check_collapse(sample, n_samples, n_steps, th):
    name = "mode_collapse"
    if n_steps is not None and n_steps < th.min_steps:
        return _not_assessed(
            name, f"only {n_steps} iterations (< {th.min_steps}): too early to judge samples."
        )
    if sample is None:
        if n_samples is None:
            return _not_assessed(name, "no real/generated features given.")
        return _not_assessed(name, f"only {n_samples} samples (< {th.min_samples}).")
    dup, cov, div = sample["duplicate_fraction"], sample["coverage"], sample["diversity"]
    precision = sample["precision"]
    evidence = {
        "duplicate_fraction": dup,
        "coverage": cov,
        "diversity": div,
        "precision": precision,
        "n_samples": n_samples,
    }
    duplicated = (
        dup >= th.duplicate_fraction
        and cov < th.collapse_coverage
        and (precision >= th.poor_precision or div < th.duplicate_diversity)
    )
    undiverse = div < th.collapse_diversity
    if duplicated:
        reason = (
            f"{dup:.0%} of samples are near-duplicates and they cover only {cov:.0%} of the "
            "real neighbourhoods."
        )
    elif undiverse:
        reason = f"samples are {div:.2f}x as spread out as the real data."
    else:
        reason = f"duplicate fraction {dup:.2f}, coverage {cov:.2f}, diversity ratio {div:.2f}."
    return FailureMode(name, bool(duplicated or undiverse), evidence, reason, _REMEDIES[name])


def _check_convergence(history, kind, sample, th):
    name = "failure_to_converge"
    gloss = _series(history, "generator_loss")
    closs = _series(history, "critic_loss")
    if gloss is None or closs is None:
        return _not_assessed(name, "history lacks generator_loss or critic_loss.")
    n = min(gloss.size, closs.size)
    if n < th.min_steps:
        return _not_assessed(name, f"only {n} iterations (< {th.min_steps}).")
    gloss, closs = gloss[:n], closs[:n]
    evidence = {}

    # Sustained divergence over the second half of the run.
    half_g, half_c = gloss[n // 2 :], closs[n // 2 :]
    windows = int(th.divergence_windows)
    g_parts = np.array_split(half_g, windows)
    c_parts = np.array_split(half_c, windows)
    g_med = np.array([np.median(p) for p in g_parts])
    c_med = np.array([np.median(p) for p in c_parts])
    g_noise = float(np.median([np.std(p) for p in g_parts]))
    c_noise = float(np.median([np.std(p) for p in c_parts]))
    g_rise = float(g_med[-1] - g_med[0])
    c_fall = float(c_med[0] - c_med[-1])
    monotone = bool(np.all(np.diff(g_med) > 0))
    scale = max(g_noise, 1e-12 * max(1.0, float(np.max(np.abs(half_g)))))
    g_range = float(np.max(gloss) - np.min(gloss))
    c_scale = max(c_noise, 1e-12 * max(1.0, float(np.max(np.abs(half_c)))))
    diverging = bool(
        monotone
        and g_rise > th.divergence_noise * scale
        and g_rise > th.divergence_min_rise * g_range
        and c_fall > th.critic_fall_noise * c_scale
    )
    evidence.update(
        {
            "generator_loss_rise": g_rise,
            "generator_loss_noise": g_noise,
            "generator_rise_in_noise_units": g_rise / scale,
            "generator_rise_of_range": g_rise / g_range if g_range > 0 else 0.0,
            "generator_loss_monotone": monotone,
            "critic_loss_fall": c_fall,
            "critic_loss_noise": c_noise,
        }
    )

    # Critic at chance.
    tail = _tail_length(n, th)
    at_chance = None
    real = _series(history, "critic_real")
    fake = _series(history, "critic_fake")
    if real is not None and fake is not None and kind is not None:
        m = min(real.size, fake.size, n)
        real, fake = real[:m], fake[:m]
        if kind == "bce":
            real_tail = float(np.median(real[-tail:]))
            fake_tail = float(np.median(fake[-tail:]))
            evidence["critic_real_tail"] = real_tail
            evidence["critic_fake_tail"] = fake_tail
            at_chance = bool(
                abs(real_tail - _LN2) <= th.chance_bce_tolerance
                and abs(fake_tail - _LN2) <= th.chance_bce_tolerance
            )
        else:
            distance = -(real + fake)
            peak = float(np.max(np.abs(_window_medians(distance, 10))))
            tail_distance = float(np.median(distance[-tail:]))
            ratio = abs(tail_distance) / peak if peak > 0 else 0.0
            evidence["critic_distance_tail"] = tail_distance
            evidence["critic_distance_peak"] = peak
            evidence["critic_distance_ratio"] = ratio
            at_chance = bool(ratio < th.chance_wasserstein_ratio)
    evidence["critic_at_chance"] = at_chance
    poor = None
    if sample is not None:
        evidence["precision"] = sample["precision"]
        poor = bool(sample["precision"] < th.poor_precision)
    evidence["poor_samples"] = poor
    chance_failure = bool(at_chance and poor)

    flagged = diverging or chance_failure
    if diverging:
        reason = (
            f"generator loss rose in each of the last {windows} windows "
            f"({g_rise / scale:.1f}x its noise) while the critic loss fell."
        )
    elif chance_failure:
        reason = (
            f"the critic is at chance while only {sample['precision']:.0%} of samples look real."
        )
    else:
        reason = "no sustained divergence" + (
            "; critic at chance but samples look real." if at_chance else "."
        )
    return FailureMode(name, flagged, evidence, reason, _REMEDIES[name])


def diagnose(
    history=None,
    *,
    real_features=None,
    fake_features=None,
    loss=None,
    thresholds=None,
    real_class_features=None,
    fake_class_features=None,
    class_prior=None,
):
    """Check a GAN run for vanishing gradients, mode collapse and failure to converge, and a
    conditional one for mode collapse per class and class leakage.

    Parameters
    ----------
    history : dict of str to sequence or None, default=None
        Per-iteration training history (the estimator's ``history_``): the keys used are
        ``generator_loss``, ``critic_loss``, ``critic_real``, ``critic_fake`` and
        ``generator_grad_norm``.  None skips the history checks.
    real_features, fake_features : array-like of shape (n, d) or None, default=None
        Features of real training samples and of generated samples (same feature map, ideally
        the same ``n``).  None skips the sample checks.
    loss : str or None, default=None
        The loss the run used (``"gan"``, ``"wgan"``, ``"wgan-gp"``), which decides how the
        critic's saturation and chance level are read.  None infers it: Wasserstein when a
        critic term is ever negative, binary cross-entropy otherwise.
    thresholds : Thresholds or None, default=None
        Thresholds to use; None uses the documented defaults.
    real_class_features, fake_class_features : dict of label to array-like or None, \
default=None
        For a conditional model: the features of real samples of each class and of samples
        requested of that class (the same labels in both).  None (either) skips the
        class-by-class checks, and the report holds the three modes only.
    class_prior : dict of label to float or None, default=None
        The share of each class in the training data, which sets the chance leakage; None
        means equal shares.

    Returns
    -------
    DiagnosticsReport
    """
    th = Thresholds() if thresholds is None else thresholds
    if not isinstance(th, Thresholds):
        raise TypeError(f"thresholds must be a Thresholds instance, got {type(th).__name__}")
    if history is not None and not hasattr(history, "keys"):
        raise TypeError(f"history must be a mapping of lists, got {type(history).__name__}")
    kind = _infer_loss_kind(loss, history)

    sample = None
    n_samples = None
    if real_features is not None and fake_features is not None:
        real = np.asarray(real_features, dtype=np.float64)
        fake = np.asarray(fake_features, dtype=np.float64)
        n_samples = int(min(real.shape[0], fake.shape[0]))
        if n_samples >= th.min_samples:
            sample = _sample_metrics(real, fake)

    class_modes = {}
    if real_class_features is not None and fake_class_features is not None:
        class_modes = _check_classes(
            real_class_features, fake_class_features, class_prior, _n_steps(history), th
        )
    return DiagnosticsReport(
        vanishing_gradients=_check_vanishing(history, kind, th),
        mode_collapse=_check_collapse(sample, n_samples, _n_steps(history), th),
        failure_to_converge=_check_convergence(history, kind, sample, th),
        thresholds=th,
        **class_modes,
    )


# --------------------------------------------------------------------------------------------
# The class-by-class checks of a conditional model
# --------------------------------------------------------------------------------------------


def _plain_label(label):
    return label.item() if isinstance(label, np.generic) else label


def _check_classes(real_by_class, fake_by_class, class_prior, n_steps, th):
    """``{"mode_collapse_per_class": ..., "class_leakage": ...}`` for features by class."""
    if set(real_by_class) != set(fake_by_class):
        raise ValueError(
            "real_class_features and fake_class_features must hold the same classes; got "
            f"{sorted(map(repr, real_by_class))} and {sorted(map(repr, fake_by_class))}"
        )
    classes = list(real_by_class)
    real = {c: np.asarray(real_by_class[c], dtype=np.float64) for c in classes}
    fake = {c: np.asarray(fake_by_class[c], dtype=np.float64) for c in classes}
    names = [_plain_label(c) for c in classes]
    if n_steps is not None and n_steps < th.min_steps:
        reason = f"only {n_steps} iterations (< {th.min_steps}): too early to judge samples."
        return {name: _not_assessed(name, reason, {"classes": names}) for name in CLASS_MODES}
    return {
        "mode_collapse_per_class": _collapse_per_class(names, real, fake, classes, n_steps, th),
        "class_leakage": _leakage(names, real, fake, classes, class_prior, th),
    }


def _collapse_per_class(names, real, fake, classes, n_steps, th):
    name = "mode_collapse_per_class"
    verdicts = []
    for c in classes:
        n = int(min(real[c].shape[0], fake[c].shape[0]))
        sample = _sample_metrics(real[c], fake[c]) if n >= th.min_samples else None
        verdicts.append(_check_collapse(sample, n, n_steps, th))
    keys = ("duplicate_fraction", "coverage", "diversity", "precision", "n_samples")
    evidence = {"classes": names, "collapsed": [v.flagged for v in verdicts]}
    evidence.update({k: [v.evidence.get(k, math.nan) for v in verdicts] for k in keys})
    collapsed = [label for label, v in zip(names, verdicts, strict=True) if v.flagged]
    if collapsed:
        first = verdicts[evidence["collapsed"].index(True)]
        reason = f"class(es) {', '.join(map(repr, collapsed))} collapsed; {first.reason}"
        return FailureMode(name, True, evidence, reason, _REMEDIES[name])
    if all(v.flagged is None for v in verdicts):
        return _not_assessed(name, f"every class: {verdicts[0].reason}", evidence)
    coverage = np.asarray(evidence["coverage"], dtype=np.float64)
    worst = int(np.nanargmin(coverage))
    reason = f"no class collapsed (lowest coverage {coverage[worst]:.2f}, class {names[worst]!r})."
    return FailureMode(name, False, evidence, reason, _REMEDIES[name])


def _nearest_centroid(features, centroids):
    """Index of the nearest centroid of each row of ``features``."""
    # |x - c|^2 without its |x|^2 term, which is the same for every centroid.
    return np.argmin((centroids**2).sum(axis=1) - 2.0 * features @ centroids.T, axis=1)


def _leakage(names, real, fake, classes, class_prior, th):
    name = "class_leakage"
    if any(real[c].shape[0] == 0 or fake[c].shape[0] == 0 for c in classes):
        return _not_assessed(name, "a class has no real or generated samples.", {"classes": names})
    centroids = np.stack([real[c].mean(axis=0) for c in classes])
    leakage, real_leakage, chance, flagged = [], [], [], []
    for i, c in enumerate(classes):
        leakage.append(float(np.mean(_nearest_centroid(fake[c], centroids) != i)))
        real_leakage.append(float(np.mean(_nearest_centroid(real[c], centroids) != i)))
        share = 1.0 / len(classes) if class_prior is None else float(class_prior[c])
        chance.append(1.0 - share)
        flagged.append(
            bool(leakage[i] > th.leakage_of_chance * chance[i] and leakage[i] > real_leakage[i])
        )
    sizes = np.array([fake[c].shape[0] for c in classes], dtype=np.float64)
    overall = float(np.dot(leakage, sizes) / sizes.sum())
    real_sizes = np.array([real[c].shape[0] for c in classes], dtype=np.float64)
    evidence = {
        "leakage": overall,
        "real_leakage": float(np.dot(real_leakage, real_sizes) / real_sizes.sum()),
        "classes": names,
        "per_class": leakage,
        "real_per_class": real_leakage,
        "chance_per_class": chance,
        "flagged_per_class": flagged,
        "n_samples_per_class": sizes.astype(int).tolist(),
    }
    leaky = [label for label, f in zip(names, flagged, strict=True) if f]
    worst = int(np.argmax(leakage))
    if leaky:
        reason = (
            f"{overall:.0%} of the samples land in another class than requested "
            f"(real data {evidence['real_leakage']:.0%}); worst class {names[worst]!r}: "
            f"{leakage[worst]:.0%} (chance {chance[worst]:.0%})."
        )
    else:
        reason = (
            f"{overall:.0%} of the samples land in another class than requested (real data "
            f"{evidence['real_leakage']:.0%}; worst class {names[worst]!r}: {leakage[worst]:.0%})."
        )
    return FailureMode(name, bool(leaky), evidence, reason, _REMEDIES[name])
