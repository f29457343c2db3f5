"""``sample`` of a model fitted on a DataFrame, with ``conditions`` on discrete columns.

A table with discrete columns trains a generator conditioned on one (column, category)
condition per row (training-by-sampling: :mod:`gan_estimators.tables.encoding`); its
``classes_`` number the conditions of ``table_conditions`` and ``class_prior_`` is their
share in unconditional samples.  Each generated row has its
condition's column set to the condition's category.
"""

import numpy as np

from gan_estimators.gan.fitted_state import TABLE_ENCODER
from gan_estimators.gan.labels import sample_labels
from gan_estimators.tables.encoding import (
    DISCRETE,
    category_key,
    impose_conditions,
    table_conditions,
)

#: Rounds of draws for rows matching conditions beyond the one the generator is given.
MAX_CONDITION_ROUNDS = 50


def _condition_indices(estimator, conditions):
    """Indices into ``table_conditions`` of ``conditions`` (a dict), checked."""
    if not isinstance(conditions, dict) or not conditions:
        raise TypeError(
            "conditions must be a non-empty dict {column: value}, not "
            f"{type(conditions).__name__} {conditions!r}."
        )
    encoder = getattr(estimator, TABLE_ENCODER)
    known = table_conditions(encoder)
    indices = []
    for column, value in conditions.items():
        if column not in encoder.discrete_names:
            raise ValueError(
                f"conditions name {column!r}, which is not a discrete column of the training "
                f"table; discrete columns: {encoder.discrete_names!r}."
            )
        wanted = category_key(value)
        matches = [
            i
            for i, c in enumerate(known)
            if c.column == column and category_key(c.category) == wanted
        ]
        if not matches:
            categories = [c.category for c in known if c.column == column]
            raise ValueError(
                f"conditions ask column {column!r} for {value!r}, which it never held in "
                f"training; its values: {categories!r}."
            )
        indices.append(matches[0])
    return indices


def _draw_categories(encoded, spans, rng):
    """Replace, in place, each one-hot block's probabilities (``2p - 1``, the generator's
    inference output) by one category drawn from them, written -1 / +1."""
    for span in spans:
        if span.kind != DISCRETE:
            continue
        block = encoded[:, span.start : span.start + span.width]
        probabilities = np.clip((block.astype(np.float64) + 1.0) / 2.0, 1e-12, None)
        # The Gumbel-max trick: argmax of log p + Gumbel noise is a draw from p.
        chosen = np.argmax(np.log(probabilities) + rng.gumbel(size=block.shape), axis=1)
        block[:] = -1.0
        block[np.arange(len(block)), chosen] = 1.0
    return encoded


def _rows(estimator, z, indices, generate, rng):
    """Encoded rows from ``z``, categories drawn, with their conditions imposed
    (``indices`` None: none)."""
    encoder = getattr(estimator, TABLE_ENCODER)
    encoded = estimator._data_layout_.unscale(generate(estimator, z, indices))
    _draw_categories(encoded, encoder.spans, rng)
    if indices is not None:
        impose_conditions(encoded, table_conditions(encoder), indices)
    return encoded


def sample_table(estimator, n, conditions, rng, generate):
    """``n`` rows of the training table (a DataFrame), all meeting ``conditions``.

    ``generate(estimator, z, indices)`` runs the generator; ``rng`` is a RandomState.
    """
    encoder = getattr(estimator, TABLE_ENCODER)
    latent_dim = int(estimator.latent_dim)
    classes = getattr(estimator, "classes_", None)
    if conditions is None:
        z = rng.standard_normal((n, latent_dim)).astype(np.float32)
        indices = None
        if classes is not None:
            indices = sample_labels(None, n, classes, estimator.class_prior_, rng)
        return encoder.inverse_transform(_rows(estimator, z, indices, generate, rng))
    wanted = _condition_indices(estimator, conditions)
    if n == 0:
        return encoder.inverse_transform(np.zeros((0, encoder.width), np.float32))
    # The generator is given the rarest condition; rows are kept when they meet the others.
    given = min(wanted, key=lambda i: estimator.class_prior_[i])
    others = [i for i in wanted if i != given]
    known = table_conditions(encoder)
    kept, found = [], 0
    for _ in range(MAX_CONDITION_ROUNDS):
        if found >= n:
            break
        z = rng.standard_normal((max(n, 1), latent_dim)).astype(np.float32)
        encoded = _rows(estimator, z, np.full(len(z), given, dtype=np.int32), generate, rng)
        meets = np.ones(len(encoded), dtype=bool)
        for i in others:
            block = encoded[:, known[i].start : known[i].start + known[i].width]
            meets &= np.argmax(block, axis=1) == known[i].index
        kept.append(encoded[meets])
        found += int(meets.sum())
    if found < n:
        raise ValueError(
            f"only {found} of {n} rows drawn in {MAX_CONDITION_ROUNDS} rounds meet "
            f"conditions {conditions!r}: the model rarely generates that combination."
        )
    return encoder.inverse_transform(np.concatenate(kept)[:n])
