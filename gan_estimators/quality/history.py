"""The training history of a GAN estimator (``history_``): its keys and the min–max
normalised loss curves of the reference fitness.

TensorFlow-free, so diagnostics, scorers and plots read a history without training code.
"""

import numpy as np

#: Per-iteration numbers of the compiled train step, in ``history_`` order.
STEP_KEYS = (
    "critic_loss",
    "critic_real",
    "critic_fake",
    "generator_loss",
    "gradient_penalty",
    "critic_grad_norm",
    "generator_grad_norm",
)

#: The keys of every ``history_``, one entry per iteration: the iteration number, the step's
#: numbers, and the seconds elapsed since the fit began (see also :data:`VALIDATION_KEYS`).
HISTORY_KEYS = ("step", *STEP_KEYS, "elapsed")

#: Keys of the held-out scores computed while training (``validation_data``,
#: ``validation_fraction``): the step of each evaluation and its score.  Their lists have one
#: entry per evaluation, not per iteration, and exist only in histories of fits that scored.
VALIDATION_KEYS = ("val_step", "val_score")

#: The losses the reference fitness normalises and averages.
NORMALIZED_KEYS = ("critic_real", "critic_fake", "generator_loss")


def normalized_losses(history):
    """Min–max normalised loss curves of a history, and their per-step mean.

    Each of :data:`NORMALIZED_KEYS` is rescaled to [0, 1] by the smallest and largest of its
    finite values (a constant series becomes 0); a non-finite value (a diverged step) becomes
    NaN, and so does the mean of its step.

    Parameters
    ----------
    history : dict of str to sequence
        An estimator's ``history_``.

    Returns
    -------
    dict of str to ndarray
        The keys of :data:`NORMALIZED_KEYS` and ``"mean"``, each as long as the history.

    Raises
    ------
    KeyError
        If ``history`` lacks one of :data:`NORMALIZED_KEYS`.
    """
    result = {}
    for key in NORMALIZED_KEYS:
        if key not in history:
            raise KeyError(f"history has no {key!r} entry")
        values = np.asarray(history[key], dtype=np.float64)
        finite = np.isfinite(values)
        low, high = (values[finite].min(), values[finite].max()) if finite.any() else (0.0, 0.0)
        scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
        result[key] = np.where(finite, scaled, np.nan)
    result["mean"] = sum(result[key] for key in NORMALIZED_KEYS) / len(NORMALIZED_KEYS)
    return result
