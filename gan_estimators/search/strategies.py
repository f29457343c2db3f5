"""Evolution strategies beside the genetic algorithm: CMA-ES and differential evolution.

Both breed gene vectors in [0, 1] like :class:`~gan_estimators.search.evolution.Evolution`
(whose bookkeeping they inherit: the first generation, the hall of fame, decoding, the rung-first
ranking of multi-fidelity) and differ in :meth:`offspring` and :meth:`survivors`. Categorical
genes take part in the arithmetic like the others and decode to the category of their bin.
Neither re-varies a child that decodes to an already evaluated configuration (that would bend
the distribution it samples): such a child is a cache hit, scored without a fit.

- :class:`CMAEvolution`: DEAP's ``cma.Strategy``, started at the best individual of the first
  generation with step size ``sigma`` and ``population_size`` samples per generation (the best
  half recombined). DEAP samples with NumPy's global generator, so the samples are drawn here
  from the search's private generator, the way ``Strategy.generate`` draws them. Samples outside
  [0, 1] are *repaired*: clipped into the box, and the clipped vector is the individual that is
  scored and that updates the strategy.
- :class:`DifferentialEvolution`: DE/rand/1/bin. For every target of the population, three other
  individuals ``a, b, c`` give the mutant ``a + F (b - c)``; each gene of the trial comes from
  the mutant with probability ``CR`` (one chosen gene always does), clipped into [0, 1]; a trial
  replaces its target when it ranks at least as high.
"""

import numpy as np
from deap import cma

from gan_estimators.search.evolution import Evolution, Individual, rank


class _Ranked(list):
    """A gene vector whose ``fitness`` is the rung-first rank of an individual, for DEAP's
    ``Strategy.update``, which sorts by ``fitness``."""

    def __init__(self, individual):
        super().__init__(individual)
        self.fitness = rank(individual)


class CMAEvolution(Evolution):
    """CMA-ES on the gene vector (see the module docstring).

    Parameters
    ----------
    sigma : float
        The initial step size, in gene units.
    **kwargs
        As for :class:`~gan_estimators.search.evolution.Evolution`.
    """

    def __init__(self, space, rng, *, sigma, **kwargs):
        super().__init__(space, rng, **kwargs)
        self.sigma = sigma
        self.strategy = None

    def offspring(self, population):
        """``population_size`` samples of the strategy, repaired into [0, 1]."""
        if self.strategy is None:
            start = max(population, key=rank)
            self.strategy = cma.Strategy(
                centroid=list(start), sigma=self.sigma, lambda_=self.population_size
            )
        strategy = self.strategy
        normal = self.rng.standard_normal((strategy.lambda_, strategy.dim))
        samples = strategy.centroid + strategy.sigma * normal @ strategy.BD.T
        return [self._decode(Individual(np.clip(sample, 0.0, 1.0).tolist())) for sample in samples]

    def survivors(self, population, offspring):
        """The evaluated offspring, which also update the strategy (when at least the
        recombined half of them was evaluated); elites kept as in the genetic algorithm."""
        if self.strategy is not None and len(offspring) >= self.strategy.mu:
            self.strategy.update([_Ranked(ind) for ind in offspring])
        return self._keep_elites(list(offspring))


class DifferentialEvolution(Evolution):
    """DE/rand/1/bin on the gene vector (see the module docstring).

    Parameters
    ----------
    differential_weight : float
        ``F``, the weight of the difference vector.
    crossover_rate : float
        ``CR``, the probability that a gene of the trial comes from the mutant.
    **kwargs
        As for :class:`~gan_estimators.search.evolution.Evolution`.
    """

    def __init__(self, space, rng, *, differential_weight, crossover_rate, **kwargs):
        super().__init__(space, rng, **kwargs)
        self.differential_weight = differential_weight
        self.crossover_rate = crossover_rate
        self.targets, self.trials = [], []

    def offspring(self, population):
        """One trial per target of ``population``, in the population's order."""
        self.targets = list(population)
        n_targets, n_genes = len(population), len(self.space.dimensions)
        trials = []
        for index, target in enumerate(population):
            others = [other for other in range(n_targets) if other != index] or [index]
            a, b, c = self.rng.choice(others, size=3, replace=len(others) < 3)
            mutant = np.asarray(population[a]) + self.differential_weight * (
                np.asarray(population[b]) - np.asarray(population[c])
            )
            crossed = self.rng.random(n_genes) < self.crossover_rate
            crossed[self.rng.integers(n_genes)] = True
            genes = np.clip(np.where(crossed, mutant, np.asarray(target)), 0.0, 1.0)
            trials.append(self._decode(Individual(genes.tolist())))
        self.trials = trials
        return trials

    def survivors(self, population, offspring):
        """Each target or its trial, whichever ranks higher (the trial on ties); the first
        generation keeps its best ``population_size`` individuals."""
        if not self.targets:
            ranked = sorted(offspring, key=rank, reverse=True)
            return [self._clone(ind) for ind in ranked[: self.population_size]]
        scored = {id(ind) for ind in offspring}
        survivors = [
            trial if id(trial) in scored and rank(trial) >= rank(target) else target
            for target, trial in zip(self.targets, self.trials, strict=True)
        ]
        return [self._clone(ind) for ind in survivors]
