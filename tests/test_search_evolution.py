"""The genetic operators behind EvolutionarySearchCV (gan_estimators.search.evolution)."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_estimators import Categorical, Integer, Real
from gan_estimators.search import evolution as _evolution
from gan_estimators.search.space import SearchSpace

SPACE = SearchSpace(
    {
        "lr": Real(1e-8, 1e-4, log=True),
        "alpha": Real(0.05, 0.5),
        "n": Integer(1, 10),
        "kind": Categorical(["a", "b", "c"]),
    }
)


def make_evolution(seed=0, known=(), **kwargs):
    settings_ = {"population_size": 8, "crossover_probability": 0.5, "mutation_probability": 0.5}
    settings_ |= {"tournament_size": 3, "hall_of_fame_size": 1, "algorithm": "simple"}
    settings_ |= {"gene_precision": None, **kwargs}
    return _evolution.Evolution(
        SPACE, np.random.default_rng(seed), is_known=set(known).__contains__, **settings_
    )


def with_fitness(individual, value):
    individual.score = value
    individual.fitness.values = (value if math.isfinite(value) else -math.inf,)
    return individual


gene_vectors = st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4)


@given(gene_vectors, gene_vectors, st.integers(0, 2**32 - 1))
@settings(deadline=None, max_examples=200)
def test_crossover_and_mutation_keep_genes_in_the_unit_interval(first, second, seed):
    evolution = make_evolution(seed)
    a, b = _evolution.Individual(first), _evolution.Individual(second)
    evolution.toolbox.mate(a, b)
    evolution.toolbox.mutate(a)
    for individual in (a, b):
        assert all(0.0 <= gene <= 1.0 for gene in individual)
        params, key = SPACE.decode(individual)
        assert individual.params == params and individual.key == key


def test_mutation_takes_small_steps_on_ordered_genes_and_redraws_categories():
    evolution = make_evolution()
    steps, ratios, changed_kind = [], [], []
    for _ in range(2000):
        individual = _evolution.Individual([0.5, 0.5, 0.5, 0.5])
        evolution.toolbox.mutate(individual)
        if individual[0] != 0.5:
            steps.append(abs(individual[0] - 0.5))
            ratios.append(individual.params["lr"] / 1e-6)
        changed_kind.append(individual.params["kind"] != "b" or individual[3] == 0.5)
    # a Gaussian step of sigma 0.1 (mean |step| 0.08), not a fresh uniform draw (0.25)
    assert 0.05 < np.mean(steps) < 0.11
    # in log space: the learning rate moves by factors, symmetric around 1e-6
    assert abs(np.median(np.log10(ratios))) < 0.05
    assert 0.2 < np.median(np.abs(np.log10(ratios))) < 0.4  # 4 decades * 0.1 * 0.674
    assert all(changed_kind)  # a mutated category is always a different one


def test_at_least_one_gene_mutates():
    evolution = make_evolution()
    for _ in range(200):
        individual = _evolution.Individual([0.31, 0.52, 0.55, 0.5])
        before = list(individual)
        evolution.toolbox.mutate(individual)
        assert individual != before


def test_tournament_prefers_fitter_individuals_and_ranks_nan_last():
    evolution = make_evolution()
    population = [
        with_fitness(evolution.toolbox.individual(), value)
        for value in [math.nan, 0.1, 0.2, 0.3, 0.9, math.nan, 0.0, 0.5]
    ]
    chosen = evolution.toolbox.select(population, 2000)
    scores = np.array([ind.score for ind in chosen])
    assert np.mean(scores == 0.9) > 0.25  # 1 - (7/8)**3 = 0.33 in expectation
    assert np.mean(np.isnan(scores)) < 0.05  # NaN wins only tournaments of NaNs


def test_elitism_puts_the_best_back_and_nan_never_enters_the_hall_of_fame():
    evolution = make_evolution(hall_of_fame_size=2)
    parents = [
        with_fitness(evolution.toolbox.individual(), value)
        for value in [0.1, 0.9, math.nan, 0.4, 0.2, 0.3, 0.0, 0.5]
    ]
    evolution.update_hall_of_fame(parents)
    assert [ind.score for ind in evolution.hall_of_fame] == [0.9, 0.5]
    offspring = [with_fitness(evolution.toolbox.individual(), 0.05) for _ in range(8)]
    survivors = evolution.survivors(parents, offspring)
    assert len(survivors) == 8
    assert sorted(ind.score for ind in survivors)[-2:] == [0.5, 0.9]
    nan_only = make_evolution()
    nan_only.update_hall_of_fame([with_fitness(nan_only.toolbox.individual(), math.nan)])
    assert len(nan_only.hall_of_fame) == 0 and nan_only.best is None


def test_mu_plus_lambda_keeps_population_size_and_known_children_are_varied_again():
    evolution = make_evolution(algorithm="mu_plus_lambda", crossover_probability=0.4)
    population = [
        with_fitness(ind, float(i)) for i, ind in enumerate(evolution.initial_population())
    ]
    known = {ind.key for ind in population}
    evolution.is_known = known.__contains__
    children = evolution.offspring(population)
    assert len(children) == 8
    new_children = [child for child in children if not child.fitness.valid]
    assert all(child.key not in known for child in new_children)
    assert len({child.key for child in new_children}) == len(new_children)
    assert evolution.n_revaried >= 0
    survivors = evolution.survivors(population, [with_fitness(c, -1.0) for c in new_children])
    assert len(survivors) == 8


def test_same_seed_same_evolution():
    runs = []
    for _ in range(2):
        evolution = make_evolution(seed=42)
        population = [
            with_fitness(ind, ind[1]) for ind in evolution.initial_population()
        ]  # fitness = alpha gene
        for _ in range(3):
            children = evolution.offspring(population)
            population = evolution.survivors(
                population, [c if c.fitness.valid else with_fitness(c, c[1]) for c in children]
            )
        runs.append([tuple(ind) for ind in population])
    assert runs[0] == runs[1]
