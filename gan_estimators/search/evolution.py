"""The genetic algorithm behind :class:`~gan_estimators.EvolutionarySearchCV`, on DEAP.

DEAP supplies the data structures (``base.Fitness``, ``base.Toolbox``, ``tools.HallOfFame``,
``tools.Logbook``); the operators are written here because DEAP's own draw from Python's global
``random`` module, and the search must take all its randomness from a private generator seeded by
``random_state``. Classes are defined at module level instead of through ``deap.creator``: the
``creator`` registers classes as globals of the ``deap.creator`` module, which two searches in one
process overwrite and worker processes cannot unpickle. Individuals never leave the parent
process anyway: workers receive plain parameter dicts.

Every operator keeps genes in [0, 1]:

- selection: tournaments of ``tournament_size`` individuals drawn with replacement;
- crossover: per gene, a blend (BLX-0.5) of the parents' values clipped to [0, 1] for ordered
  dimensions, a swap with probability 1/2 for categorical ones;
- mutation: each gene with probability ``1 / n_genes`` (at least one gene), a Gaussian step of
  standard deviation 0.1 (at least one bin of an integer dimension) clipped to [0, 1] for ordered
  dimensions, which for ``Real(log=True)`` is a step in log space; a different, uniformly drawn
  choice for categorical ones;
- elitism: the best ``hall_of_fame_size`` configurations ever evaluated replace the worst
  individuals of the next population when they are not already in it.
"""

import math

import numpy as np
from deap import base, tools

# Gaussian mutation step, in gene units (a tenth of the range, or of the log-range).
MUTATION_SIGMA = 0.1
# BLX-alpha: children may land up to alpha * |x1 - x2| outside the parents' interval.
BLEND_ALPHA = 0.5
# How many times a child that decodes to an already known configuration is mutated again
# before the search accepts the cache hit.
MAX_REVARIATIONS = 10

LOGBOOK_HEADER = [
    "gen",
    "nevals",
    "restored",
    "cache_hits",
    "revaried",
    "min",
    "max",
    "mean",
    "std",
    "best",
    "elapsed",
]


class FitnessMax(base.Fitness):
    """Single-objective fitness, maximised (scikit-learn scores are greater-is-better)."""

    weights = (1.0,)


class Individual(list):
    """A gene vector with its fitness, the configuration key it decodes to and its raw score.

    ``score`` is the cross-validated score (possibly NaN) at the highest budget ``rung`` the
    configuration reached (always 0 without multi-fidelity); the DEAP fitness holds ``-inf``
    for a NaN score so that it ranks below every real score in selection.
    """

    def __init__(self, genes=()):
        super().__init__(genes)
        self.fitness = FitnessMax()
        self.key = None
        self.params = None
        self.score = math.nan
        self.rung = 0


def rank(individual):
    """What selection compares: the rung reached first, so scores at different budgets are
    never compared, then the fitness."""
    return (individual.rung, individual.fitness)


def _same_configuration(first, second):
    return first.key == second.key


def is_finite(individual):
    return individual.fitness.valid and math.isfinite(individual.fitness.values[0])


class Evolution:
    """Population bookkeeping and variation of one search.

    Parameters
    ----------
    space : gan_estimators.search.space.SearchSpace
    rng : numpy.random.Generator
        The search's private generator; the only source of randomness.
    population_size, crossover_probability, mutation_probability, tournament_size,
    hall_of_fame_size, algorithm, gene_precision :
        As in :class:`~gan_estimators.EvolutionarySearchCV`.
    is_known : callable
        ``is_known(key)`` is True for configurations already evaluated in this search; children
        that decode to one are mutated again, up to ``MAX_REVARIATIONS`` times.
    top_rung : int, default=0
        The rung of the top budget: only individuals scored there enter the hall of fame.
    """

    def __init__(
        self,
        space,
        rng,
        *,
        population_size,
        crossover_probability,
        mutation_probability,
        tournament_size,
        hall_of_fame_size,
        algorithm,
        gene_precision,
        is_known,
        top_rung=0,
    ):
        self.space, self.rng = space, rng
        self.population_size = population_size
        self.crossover_probability = crossover_probability
        self.mutation_probability = mutation_probability
        self.algorithm, self.gene_precision = algorithm, gene_precision
        self.n_elites = hall_of_fame_size
        self.is_known, self.top_rung = is_known, top_rung
        # children that decoded to a known configuration and were varied again (or redrawn)
        self.n_revaried = 0
        self.sigmas = [
            max(MUTATION_SIGMA, 1.0 / dim.n_values) if dim.n_values else MUTATION_SIGMA
            for dim in space.dimensions
        ]
        # the best configuration is always tracked, even without elitism
        self.hall_of_fame = tools.HallOfFame(max(1, hall_of_fame_size), similar=_same_configuration)
        self.toolbox = base.Toolbox()
        self.toolbox.register("individual", self._random_individual)
        self.toolbox.register("mate", self._mate)
        self.toolbox.register("mutate", self._mutate)
        self.toolbox.register("select", self._select_tournament, tournament_size=tournament_size)

    # -- individuals -------------------------------------------------------------------------

    def _decode(self, individual):
        individual.params, individual.key = self.space.decode(individual, self.gene_precision)
        return individual

    def _random_individual(self):
        return self._decode(Individual(self.space.random_genes(self.rng)))

    def _clone(self, individual):
        child = Individual(individual)
        child.key, child.params, child.score = individual.key, individual.params, individual.score
        child.rung = individual.rung
        if individual.fitness.valid:
            child.fitness.values = individual.fitness.values
        return child

    # -- operators ---------------------------------------------------------------------------

    def _select_tournament(self, individuals, k, tournament_size):
        chosen = []
        for _ in range(k):
            aspirants = self.rng.integers(0, len(individuals), size=tournament_size)
            # max() keeps the first of equal fitnesses, so ties resolve deterministically
            chosen.append(max((individuals[i] for i in aspirants), key=rank))
        return chosen

    def _mate(self, first, second):
        for i, dim in enumerate(self.space.dimensions):
            if dim.categorical:
                if self.rng.random() < 0.5:
                    first[i], second[i] = second[i], first[i]
                continue
            gamma = (1.0 + 2.0 * BLEND_ALPHA) * self.rng.random() - BLEND_ALPHA
            x1, x2 = first[i], second[i]
            first[i] = min(max((1.0 - gamma) * x1 + gamma * x2, 0.0), 1.0)
            second[i] = min(max(gamma * x1 + (1.0 - gamma) * x2, 0.0), 1.0)
        return self._decode(first), self._decode(second)

    def _mutate(self, individual):
        n_genes = len(individual)
        chosen = self.rng.random(n_genes) < 1.0 / n_genes
        if not chosen.any():
            chosen[self.rng.integers(n_genes)] = True
        for i in np.flatnonzero(chosen):
            dim = self.space.dimensions[i]
            if dim.categorical:
                n_choices = dim.n_values
                if n_choices < 2:
                    continue
                current = min(int(individual[i] * n_choices), n_choices - 1)
                other = int(self.rng.integers(n_choices - 1))
                other += other >= current
                individual[i] = (other + 0.5) / n_choices
            else:
                step = self.rng.normal(0.0, self.sigmas[i])
                individual[i] = min(max(individual[i] + step, 0.0), 1.0)
        return (self._decode(individual),)

    # -- generations -------------------------------------------------------------------------

    def initial_population(self, seeds=()):
        """The ``seeds``, then random individuals up to ``population_size``.

        ``seeds`` are ``(genes, params, key)`` triples (see
        :meth:`~gan_estimators.search.space.SearchSpace.configuration`), all kept even beyond
        ``population_size``; random individuals that repeat a configuration are redrawn a
        bounded number of times.
        """
        population = []
        for genes, params, key in seeds:
            individual = Individual(genes)
            individual.params, individual.key = params, key
            population.append(individual)
        seen = {individual.key for individual in population}
        for _ in range(self.population_size - len(population)):
            individual = self.toolbox.individual()
            for attempt in range(MAX_REVARIATIONS):
                if individual.key not in seen and not self.is_known(individual.key):
                    break
                self.n_revaried += attempt == 0
                individual = self.toolbox.individual()
            seen.add(individual.key)
            population.append(individual)
        return population

    def offspring(self, population):
        """Vary ``population`` into the next generation's offspring.

        ``"simple"`` (DEAP's ``eaSimple``/``varAnd``): a tournament picks ``population_size``
        parents (fewer if the population is smaller); consecutive pairs cross over with
        ``crossover_probability`` and each child mutates with ``mutation_probability``.
        ``"mu_plus_lambda"`` (``varOr``): each of ``population_size`` children comes from a
        crossover, a mutation or a copy. Children left unchanged keep their fitness; changed
        ones that decode to a known configuration (or to one another) are mutated again.
        """
        if self.algorithm == "simple":
            n_parents = min(len(population), self.population_size)
            children = self._vary_and(self.toolbox.select(population, n_parents))
        else:
            children = self._vary_or(population)
        self._revary_known(children)
        return children

    def _vary_and(self, parents):
        children = [self._clone(ind) for ind in parents]
        for i in range(1, len(children), 2):
            if self.rng.random() < self.crossover_probability:
                self.toolbox.mate(children[i - 1], children[i])
                del children[i - 1].fitness.values, children[i].fitness.values
        for child in children:
            if self.rng.random() < self.mutation_probability:
                self.toolbox.mutate(child)
                del child.fitness.values
        return children

    def _vary_or(self, population):
        children = []
        for _ in range(self.population_size):
            draw = self.rng.random()
            if draw < self.crossover_probability and len(population) > 1:
                i, j = self.rng.choice(len(population), size=2, replace=False)
                child, _ = self.toolbox.mate(self._clone(population[i]), self._clone(population[j]))
                del child.fitness.values
            elif draw < self.crossover_probability + self.mutation_probability:
                (child,) = self.toolbox.mutate(
                    self._clone(population[self.rng.integers(len(population))])
                )
                del child.fitness.values
            else:
                child = self._clone(population[self.rng.integers(len(population))])
            children.append(child)
        return children

    def _revary_known(self, children):
        claimed = set()
        for child in children:
            if child.fitness.valid:
                continue
            for attempt in range(MAX_REVARIATIONS):
                if child.key not in claimed and not self.is_known(child.key):
                    break
                self.n_revaried += attempt == 0
                self.toolbox.mutate(child)
            claimed.add(child.key)

    def survivors(self, population, offspring):
        """The next population: offspring (``"simple"``) or the best of both (``"mu+lambda"``)."""
        if self.algorithm == "simple" or not population:
            survivors = list(offspring)
        else:
            survivors = self.toolbox.select(population + offspring, self.population_size)
            survivors = [self._clone(ind) for ind in survivors]
        return self._keep_elites(survivors)

    def _keep_elites(self, population):
        if not population:
            return population
        present = {ind.key for ind in population}
        for elite in list(self.hall_of_fame)[: self.n_elites]:
            if elite.key in present:
                continue
            worst = min(range(len(population)), key=lambda i: rank(population[i]))
            population[worst] = self._clone(elite)
            present.add(elite.key)
        return population

    def update_hall_of_fame(self, individuals):
        """Add evaluated individuals with a finite score at the top rung (NaN never enters)."""
        finite = [ind for ind in individuals if is_finite(ind) and ind.rung == self.top_rung]
        if finite:
            self.hall_of_fame.update(finite)

    @property
    def best(self):
        """Best individual evaluated so far, or None."""
        return self.hall_of_fame[0] if len(self.hall_of_fame) else None


def unassessed(offspring, is_known):
    """The individuals of ``offspring`` without fitness: ``new`` (key -> individuals, in order
    of first appearance) for unknown configurations, ``known`` for the others."""
    new, known = {}, []
    for ind in offspring:
        if ind.fitness.valid:
            continue
        if is_known(ind.key):
            known.append(ind)
        else:
            new.setdefault(ind.key, []).append(ind)
    return new, known


def set_fitness(individual, score, rung=0):
    """Give ``individual`` its score at the budget ``rung`` (0 without multi-fidelity)."""
    individual.rung = rung
    individual.score = score
    individual.fitness.values = (score if math.isfinite(score) else -math.inf,)


def fitness_statistics(population):
    """min, max, mean and std of the finite fitnesses of ``population`` (NaN where none)."""
    values = np.array(
        [ind.fitness.values[0] for ind in population if is_finite(ind)], dtype=np.float64
    )
    if values.size == 0:
        return {"min": math.nan, "max": math.nan, "mean": math.nan, "std": math.nan}
    return {
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": float(values.mean()),
        "std": float(values.std()),
    }


def new_logbook():
    logbook = tools.Logbook()
    logbook.header = list(LOGBOOK_HEADER)
    return logbook
