"""The steady-state genetic algorithm: candidates bred and dispatched as workers free up.

The generational algorithms evaluate a generation at a time through scikit-learn's
``evaluate_candidates``, which returns when its slowest fit ends, so every worker waits at each
generation's end. ``algorithm="steady_state"`` has no such barrier. It runs its own joblib
``Parallel(return_as="generator_unordered", batch_size=1)`` over a lazy stream of
(configuration, split) tasks: whenever joblib has a free worker it takes the next task from the
stream, and when a configuration's splits are all dispatched the stream breeds the next
configuration from what has been evaluated so far. Results are consumed as they complete, in
any order; a configuration is *complete* when all its splits are back. The same code runs on
loky, threads or a Dask cluster (``joblib.parallel_config(backend="dask")``).

Breeding
    The first configurations are the first generation of the genetic algorithm (the seeds of
    ``initial_population``, then random ones). Then each child comes from two parents picked
    by tournament from the population, crossed over and mutated with the genetic algorithm's
    probabilities and operators, and mutated again while it decodes to a configuration already
    bred (cache hits are counted when that fails). While nothing is complete yet, children are
    random. The population holds the best ``population_size`` configurations completed so far:
    a completed one joins while there is room, then replaces the worst when it ranks at least
    as high.
Budget
    ``population_size * (generations - 1)`` children after the first generation, as many as the
    generational algorithm assesses; ``max_fits`` stops dispatching before the budget would be
    exceeded, ``max_time`` stops breeding (running fits finish), ``patience`` counts
    ``patience * population_size`` completed evaluations without a better best score, a
    callback returning True stops breeding.
Multi-fidelity (``resource``)
    Asynchronous successive halving: when a worker frees, a configuration that is in the best
    ``floor(n / factor)`` of the ``n`` scored at its rung so far, and not yet promoted, is
    promoted to the next budget (highest rungs first) before any new child is bred. Once the
    budget of children is spent and all fits are back, the best ``ceil(n / factor)`` are
    promoted as in the generational scheme, so the top budget is reached.

Every completed evaluation (or one restored from ``memory``) becomes a row at once (a
:class:`~gan_estimators.search.results.StoredRow`: scikit-learn never holds this algorithm's
records; the search formats them all at the end, picks the best and refits as for a run restored
from ``memory``), one logbook record and one callback call. Its ``generation`` column is the
generation the configuration was born in (``population_size`` children per generation).

Reproducibility: with ``n_jobs=1`` each task runs when it is taken from the stream, so every
child is bred after all earlier configurations completed and ``random_state`` fixes the run.
With ``n_jobs > 1`` which results a child sees depends on which fits finished first, so the
evaluated configurations depend on timing; joblib takes tasks a few ahead of the free workers
(``pre_dispatch``), so a child may miss the last few results.
"""

import collections
import math
import threading
import time
from dataclasses import dataclass, field

import joblib
from sklearn.base import clone
from sklearn.model_selection._validation import _warn_or_raise_about_fit_failures

from gan_estimators.search import evolution as _evolution
from gan_estimators.search import fidelity as _fidelity
from gan_estimators.search import own_fits as _own_fits
from gan_estimators.search import results as _results
from gan_estimators.search import store as _store


@dataclass
class Evaluation:
    """One configuration at one budget, from its dispatch to its completion."""

    number: int
    individual: _evolution.Individual
    rung: int | None
    generation: int
    candidate: dict
    memory_key: object
    records: list = field(default_factory=list)
    remaining: int = 0


class SteadyState:
    """One steady-state run of a search (see the module docstring).

    Parameters
    ----------
    search : EvolutionarySearchCV
        The search being fitted (its settings, scorers and routed parameters).
    run : gan_estimators.search.run.SearchRun
        The run's state, with ``fit_data`` (X, y, fit parameters) and the evolution set.
    """

    def __init__(self, search, run):
        self.search, self.run = search, run
        setup = _own_fits.prepare(search, run)
        self.X, self.y, self.splits = setup.X, setup.y, setup.splits
        self.fit_and_score_kwargs = setup.fit_and_score_kwargs
        n_rungs = len(self.splits)
        self.base_estimator = clone(search.estimator)
        self.lock = threading.RLock()
        self.owner = threading.current_thread()
        self.evolution = run.evolution
        self.population_size = search.population_size
        self.known = set()
        self.evolution.is_known = self.known.__contains__
        self.first = collections.deque(self.evolution.initial_population(run.seeds))
        self.n_first = len(self.first)
        self.budget = self.n_first + search.population_size * (search.generations - 1)
        self.n_bred = 0
        self.individuals = {}  # key -> individual
        self.population = []
        self.in_flight = {}  # evaluation number -> Evaluation
        self.n_dispatched = 0
        self.planned_fits = run.fits_used
        self.scores = [[] for _ in range(n_rungs)]  # per rung, (key, score) as completed
        self.promoted = [set() for _ in range(n_rungs)]
        self.final = False  # every child bred and every fit back: promote as in generations
        self.hits = 0  # cache hits since the last record
        self.pending = []  # logbook counts not yet recorded (recorded in the owner thread)
        self.n_records = 0
        self.stop = None

    # -- the run -----------------------------------------------------------------------------

    def run_search(self):
        """Evaluate until the budget is spent or a stopping rule holds; return the reason."""
        search = self.search
        parallel = joblib.Parallel(
            n_jobs=search.n_jobs,
            pre_dispatch=search.pre_dispatch,
            batch_size=1,
            return_as="generator_unordered",
        )
        try:
            while True:
                for tag, record in parallel(self.tasks()):
                    self.receive(tag, record)
                self.flush()
                if self.stop is not None:
                    break
                with self.lock:
                    self.final = True
                    if self.promotion(take=False) is None:
                        break
        except KeyboardInterrupt:
            self.stop = "interrupt"
        self.flush()
        records = self.run.all_records()
        failed = sum(record.get("fit_error") is not None for record in records)
        if 0 < failed < len(records):
            _warn_or_raise_about_fit_failures(records, search.error_score)
        return self.stop or ("max_fits" if self.run.truncated else "generations")

    def tasks(self):
        """The lazy stream of joblib tasks: one per split of each evaluation, bred on demand."""
        while True:
            with self.lock:
                evaluation = self.next_evaluation()
            if evaluation is None:
                return
            splits = self.splits[evaluation.rung or 0]
            for index, (train, test) in enumerate(splits):
                yield joblib.delayed(_own_fits.evaluate_split)(
                    clone(self.base_estimator),
                    self.X,
                    self.y,
                    train,
                    test,
                    evaluation.candidate,
                    self.fit_and_score_kwargs,
                    (evaluation.number, index),
                )

    def receive(self, tag, record):
        """Take one split's record; complete its evaluation when it was the last one."""
        number, index = tag
        with self.lock:
            evaluation = self.in_flight[number]
            evaluation.records[index] = record
            evaluation.remaining -= 1
            if evaluation.remaining == 0:
                del self.in_flight[number]
                self.complete(evaluation, evaluation.records, restored=False)

    # -- what to evaluate next ---------------------------------------------------------------

    def next_evaluation(self):
        """The next evaluation to dispatch, or None when there is none now."""
        run, search = self.run, self.search
        while self.stop is None:
            if search.max_time is not None and time.perf_counter() - run.start >= search.max_time:
                self.stop = "max_time"
                return None
            promotion = self.promotion()
            if promotion is not None:
                key, rung = promotion
                evaluation = self.evaluation(self.individuals[key], rung)
            elif self.n_bred < self.budget:
                child = self.breed()
                if child is None:
                    continue
                evaluation = self.evaluation(child, None if run.schedule is None else 0)
            else:
                return None
            if run.max_fits is not None and self.planned_fits + run.n_splits > run.max_fits:
                run.truncated = True
                self.stop = "max_fits"
                return None
            self.planned_fits += run.n_splits
            stored = self.restore(evaluation)
            if stored is not None:
                self.complete(evaluation, stored, restored=True)
                continue
            evaluation.records = [None] * run.n_splits
            evaluation.remaining = run.n_splits
            self.in_flight[evaluation.number] = evaluation
            return evaluation
        return None

    def breed(self):
        """A new child, or None (counted as a cache hit) when it repeats a bred configuration."""
        evolution = self.evolution
        index = self.n_bred
        self.n_bred += 1
        if self.first:
            child = self.first.popleft()
        else:
            if not self.population:
                child = evolution.toolbox.individual()
            else:
                parents = evolution.toolbox.select(self.population, 2)
                child = evolution._vary_and(parents)[0]
                if child.fitness.valid:  # a copy of its parent: make it new
                    del child.fitness.values
            evolution._revary_known([child])
        if child.key in self.known:
            self.hits += 1
            self.run.n_hits += 1
            return None
        self.known.add(child.key)
        self.individuals[child.key] = child
        child.generation = (
            0 if index < self.n_first else 1 + (index - self.n_first) // (self.population_size)
        )
        return child

    def promotion(self, take=True):
        """``(key, rung)`` of the next configuration to promote, or None (see the module
        docstring); ``take=False`` only looks."""
        schedule = self.run.schedule
        if schedule is None:
            return None
        rounding = math.ceil if self.final else math.floor
        for rung in reversed(range(schedule.top)):
            for key in _fidelity.promoted(self.scores[rung], schedule.factor, rounding):
                if key not in self.promoted[rung]:
                    if take:
                        self.promoted[rung].add(key)
                    return key, rung + 1
        return None

    def evaluation(self, individual, rung):
        schedule = self.run.schedule
        params = individual.params
        self.n_dispatched += 1
        return Evaluation(
            number=self.n_dispatched,
            individual=individual,
            rung=rung,
            generation=individual.generation,
            candidate=params if rung is None else schedule.candidate(params, rung),
            memory_key=params if rung is None else schedule.memory_key(params, rung),
        )

    def restore(self, evaluation):
        """The records of ``evaluation`` stored in ``memory``, or None."""
        run = self.run
        if run.memory_context is None:
            return None
        evaluation.memory_key = _store.fingerprint(evaluation.memory_key)
        if evaluation.memory_key is None:
            return None
        return run.store.get(run.memory_context, evaluation.memory_key)

    # -- completion ------------------------------------------------------------------------

    def complete(self, evaluation, records, restored):
        """Make a row of a completed evaluation, score its individual and place it."""
        run, rung = self.run, evaluation.rung
        individual, key = evaluation.individual, evaluation.individual.key
        score = _results.fitness(records, run.refit)
        run.cache[key if rung is None else (key, rung)] = score
        more = run.more_columns(evaluation.generation, rung)
        run.stored_rows.append(_results.StoredRow(evaluation.candidate, records, more, 0))
        if not restored and run.memory_context is not None and evaluation.memory_key is not None:
            run.store.put(run.memory_context, evaluation.memory_key, records)
        run.fits_used += run.n_splits
        run.n_evaluated += not restored
        run.n_restored += restored
        _evolution.set_fitness(individual, score, rung or 0)
        if rung is not None:
            run.reached[key] = (rung, score)
            self.scores[rung].append((key, score))
        self.place(individual)
        self.evolution.update_hall_of_fame([individual])
        self.pending.append({"nevals": int(not restored), "restored": int(restored)})
        if threading.current_thread() is self.owner:
            self.flush()

    def place(self, individual):
        """Put a completed individual in the population (see the module docstring)."""
        population = self.population
        if any(member is individual for member in population):
            return
        if len(population) < self.population_size:
            population.append(individual)
            return
        worst = min(range(len(population)), key=lambda i: _evolution.rank(population[i]))
        if _evolution.rank(individual) >= _evolution.rank(population[worst]):
            population[worst] = individual

    def flush(self):
        """Record the completed evaluations not recorded yet: logbook, progress, callbacks
        and the stopping rules that read them (in the thread that runs the search)."""
        with self.lock:
            pending, self.pending = self.pending, []
            for counts in pending:
                counts["cache_hits"], self.hits = self.hits, 0
                self.run.record(self.n_records, counts, self.population)
                self.n_records += 1
                patience = self.search.patience
                if self.stop is not None:
                    continue
                if patience is not None and (
                    self.run.stale_generations >= patience * self.population_size
                ):
                    self.stop = "patience"
                elif self.run.stop_requested:
                    self.stop = "callback"
