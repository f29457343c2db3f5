"""The configurations a search starts from (its ``initial_population``).

The first generation of :class:`~gan_estimators.EvolutionarySearchCV` holds these
configurations, then random ones up to ``population_size``:

- ``initial_population=None``: the estimator's own configuration, its parameters projected into
  the space (a value outside a dimension's range clipped to it, the nearest category; a
  dimension whose value has no nearest value, such as None for a number, gets a random gene),
  so the best found is never worse, on the search's own score, than where the user started;
- a list of parameter dicts: exactly those, each value a value of its dimension (parameters a
  dict leaves out take the estimator's own, projected), all of them even beyond
  ``population_size``.
"""

from collections.abc import Mapping


def seeds(space, estimator, initial_population, rng):
    """``(genes, params, key)`` of each configuration the first generation starts with.

    Parameters
    ----------
    space : gan_estimators.search.space.SearchSpace
    estimator : estimator object
        Its ``get_params(deep=True)`` gives the values of the dimensions a dict leaves out.
    initial_population : list of dict or None
        As in :class:`~gan_estimators.EvolutionarySearchCV`.
    rng : numpy.random.Generator
        Draws genes for dimensions without a value.

    Raises
    ------
    TypeError
        If an entry is not a dict.
    ValueError
        If a dict names a parameter outside the space or a value outside its dimension.
    """
    own = estimator.get_params(deep=True)
    if initial_population is None:
        return [space.configuration(own, rng)]
    configurations = []
    for index, entry in enumerate(initial_population):
        if not isinstance(entry, Mapping):
            raise TypeError(
                f"initial_population must be a list of parameter dicts, got {entry!r} at "
                f"position {index}"
            )
        unknown = sorted(set(entry) - set(space.names))
        if unknown:
            raise ValueError(
                f"initial_population[{index}] names {unknown}, which param_space does not "
                f"search; searched parameters are {space.names}"
            )
        try:
            configurations.append(space.configuration({**own, **entry}, rng, strict=set(entry)))
        except ValueError as exc:
            raise ValueError(f"initial_population[{index}]: {exc}") from None
    return configurations
