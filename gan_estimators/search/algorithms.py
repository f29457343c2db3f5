"""The algorithms of :class:`~gan_estimators.EvolutionarySearchCV`: names, own settings, and
the object that breeds each.

``algorithm`` names one of ``ALGORITHMS``; ``algorithm_params`` holds that algorithm's own
settings (``ALGORITHM_PARAMS`` gives, per algorithm, each accepted key with its default and
the range it must lie in). The generational algorithms breed through an
:class:`~gan_estimators.search.evolution.Evolution` (the genetic algorithms) or one of its
subclasses in :mod:`gan_estimators.search.strategies` (CMA-ES, differential evolution);
``"steady_state"`` breeds with the genetic algorithm's operators, one child at a time, in
:mod:`gan_estimators.search.steady_state`.
"""

import math
import numbers

from gan_estimators.search.evolution import Evolution
from gan_estimators.search.strategies import CMAEvolution, DifferentialEvolution

#: Each algorithm's own settings: key -> (default, lowest, highest, lowest included).
ALGORITHM_PARAMS = {
    "simple": {},
    "mu_plus_lambda": {},
    "cma-es": {"sigma": (0.3, 0.0, math.inf, False)},
    "de": {"F": (0.5, 0.0, 2.0, False), "CR": (0.9, 0.0, 1.0, True)},
    "steady_state": {},
}
ALGORITHMS = tuple(ALGORITHM_PARAMS)
#: Differential evolution draws three individuals other than the target.
DE_MIN_POPULATION = 4


def algorithm_settings(algorithm, algorithm_params):
    """The settings of ``algorithm``: its defaults updated with ``algorithm_params``.

    Raises
    ------
    ValueError
        If ``algorithm_params`` names a key ``algorithm`` does not accept (naming the accepted
        ones) or gives a value outside its range.
    TypeError
        If a value is not a real number.
    """
    accepted = ALGORITHM_PARAMS[algorithm]
    given = dict(algorithm_params or {})
    unknown = sorted(set(given) - set(accepted), key=str)
    if unknown:
        raise ValueError(
            f"algorithm_params has {unknown}, which algorithm={algorithm!r} does not accept; "
            f"accepted keys are {sorted(accepted) or 'none'}"
        )
    settings = {key: default for key, (default, *_) in accepted.items()}
    for key, value in given.items():
        _, low, high, low_included = accepted[key]
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"algorithm_params[{key!r}] must be a real number, got {value!r}")
        above = value >= low if low_included else value > low
        if not (above and value <= high and math.isfinite(value)):
            interval = f"{'[' if low_included else '('}{low}, {high}]"
            raise ValueError(f"algorithm_params[{key!r}] must be in {interval}, got {value!r}")
        settings[key] = float(value)
    return settings


def check_settings(search):
    """Check the combination of ``algorithm`` and the other settings of ``search``.

    Raises
    ------
    ValueError
        Before any fit, for settings the algorithm cannot run with.
    """
    algorithm_settings(search.algorithm, search.algorithm_params)
    if (
        search.algorithm == "mu_plus_lambda"
        and search.crossover_probability + search.mutation_probability > 1
    ):
        raise ValueError(
            "With algorithm='mu_plus_lambda' crossover_probability + mutation_probability "
            f"must be at most 1, got {search.crossover_probability} + "
            f"{search.mutation_probability}"
        )
    if search.algorithm == "de" and search.population_size < DE_MIN_POPULATION:
        raise ValueError(
            f"algorithm='de' needs population_size >= {DE_MIN_POPULATION} (each trial mixes "
            f"three individuals other than its target), got {search.population_size}"
        )


def make_evolution(search, space, rng, *, is_known, top_rung):
    """The object that breeds the individuals of ``search``'s algorithm."""
    common = {
        "population_size": search.population_size,
        "crossover_probability": search.crossover_probability,
        "mutation_probability": search.mutation_probability,
        "tournament_size": search.tournament_size,
        "hall_of_fame_size": search.hall_of_fame_size,
        "algorithm": search.algorithm,
        "gene_precision": search.gene_precision,
        "is_known": is_known,
        "top_rung": top_rung,
    }
    settings = algorithm_settings(search.algorithm, search.algorithm_params)
    if search.algorithm == "cma-es":
        return CMAEvolution(space, rng, sigma=settings["sigma"], **common)
    if search.algorithm == "de":
        return DifferentialEvolution(
            space, rng, differential_weight=settings["F"], crossover_rate=settings["CR"], **common
        )
    return Evolution(space, rng, **common)
