"""Seeds: the one place where the package turns ``random_state`` values into seeds.

scikit-learn conventions: an int gives the same stream every time, a ``RandomState`` or
``Generator`` instance is advanced, and None is fresh entropy.  None never draws from (and so
never disturbs) NumPy's global generator.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state

#: Exclusive upper bound of the seeds drawn here (seeds fit a signed 32-bit int, as
#: TensorFlow and Keras expect).
SEED_BOUND = 2**31 - 1


def derive_seed(*entropy, bits=31):
    """A seed derived from integers: the same integers give the same seed, different ones
    give independent streams (NumPy's ``SeedSequence``).

    Parameters
    ----------
    *entropy : int
        The integers to derive from (e.g. a master seed and a purpose tag).
    bits : {31, 32}, default=31
        Size of the seed; 31 bits fit a signed 32-bit int.

    Returns
    -------
    int
    """
    state = int(np.random.SeedSequence([int(e) for e in entropy]).generate_state(1)[0])
    return state >> (32 - bits)


def draw_seed(random_state):
    """An int seed in ``[0, SEED_BOUND)`` drawn from ``random_state``.

    An int always gives the same seed; a ``RandomState`` or ``Generator`` is advanced; None
    draws fresh entropy.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(SEED_BOUND))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(SEED_BOUND))
    return int(check_random_state(random_state).randint(SEED_BOUND))


def numpy_generator(random_state):
    """A NumPy ``Generator`` for ``random_state``: seeded by an int, fresh for None, the
    instance itself for a ``Generator``, and seeded by a draw from a ``RandomState``."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral):
        return np.random.default_rng(int(random_state))
    return np.random.default_rng(draw_seed(random_state))


def sampling_random_state(random_state):
    """A NumPy random generator for ``random_state``, as scikit-learn's
    ``check_random_state`` gives it, extended to ``Generator`` instances.

    An int gives a new ``RandomState`` seeded with it, a ``RandomState`` or ``Generator``
    instance is returned as is (and advanced by its use), and None gives a fresh unseeded
    ``Generator`` (never NumPy's global generator).
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    return check_random_state(random_state)
