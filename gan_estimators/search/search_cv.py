"""Evolutionary hyperparameter search for any scikit-learn estimator.

:class:`EvolutionarySearchCV` is a sibling of :class:`~sklearn.model_selection.GridSearchCV` and
:class:`~sklearn.model_selection.RandomizedSearchCV`: it subclasses scikit-learn's
``BaseSearchCV`` and implements ``_run_search``, the hook through which
``HalvingRandomSearchCV`` schedules its rounds (it also overrides ``_format_results`` for rows
restored from ``memory`` and ``_select_best_index`` for the top budget of a multi-fidelity
search). Each generation of a DEAP genetic algorithm is one
call of scikit-learn's ``evaluate_candidates``, so cross-validation, scoring, parallelism
(candidates x folds through joblib), ``cv_results_``, ``best_*`` and refitting are scikit-learn's
own. The search knows nothing about GANs.

How results reach ``cv_results_``
---------------------------------
Each ``evaluate_candidates`` call passes its candidates' generation as ``more_results`` (as
``HalvingRandomSearchCV`` passes ``iter`` and ``n_resources``). Configurations whose records
scikit-learn does not hold -- restored from ``memory``, of a batch in which every fit failed, or
fitted by the search itself (``"steady_state"``, ``continue_promoted``) -- are stored rows
(:mod:`gan_estimators.search.results`) that the ``_format_results`` override places among
scikit-learn's, in the order first met, before its formatter ranks them all: they can be
``best_*`` and be refitted like fresh ones. When scikit-learn fitted nothing, ``BaseSearchCV.fit``
cannot finish, and :mod:`gan_estimators.search.ending` completes its steps (best index, refit,
scorer).
"""

import functools
import numbers
import os
import shutil
import tempfile
import time
import warnings
from typing import ClassVar

import numpy as np
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from gan_estimators._random import numpy_generator
from gan_estimators.search import algorithms as _algorithms
from gan_estimators.search import continuation as _continuation
from gan_estimators.search import ending as _ending
from gan_estimators.search import evolution as _evolution
from gan_estimators.search import fidelity as _fidelity
from gan_estimators.search import initial as _initial
from gan_estimators.search import quiet as _quiet
from gan_estimators.search import run as _run
from gan_estimators.search import steady_state as _steady_state
from gan_estimators.search import store as _store
from gan_estimators.search import workers as _workers
from gan_estimators.search.space import SearchSpace

__all__ = ["EvolutionarySearchCV"]


class EvolutionarySearchCV(BaseSearchCV):
    """Hyperparameter search by a genetic algorithm, with cross-validated fitness.

    Each individual is a gene vector in [0, 1] with one gene per hyperparameter; ``param_space``
    decodes it into parameters (see :mod:`gan_estimators.search.space`). A DEAP genetic algorithm
    evolves a population by tournament selection, crossover and bounded mutation, with elitism
    through a hall of fame. The fitness of a configuration is its mean cross-validated score,
    computed by scikit-learn's search machinery (this class subclasses ``BaseSearchCV``), so
    ``cv``, ``scoring``, ``refit``, ``error_score``, ``n_jobs``, ``cv_results_`` and ``best_*``
    behave exactly as in :class:`~sklearn.model_selection.RandomizedSearchCV`.

    Fitness is cached in the parent process by *decoded* configuration: each generation
    cross-validates only configurations never evaluated before (children that decode to a known
    one are mutated again, a bounded number of times); individuals that still repeat one are
    cache hits, which cost no fit and add no ``cv_results_`` row. ``memory`` persists
    evaluations across runs.

    Read more in :mod:`gan_estimators.search.search_cv`.

    Parameters
    ----------
    estimator : estimator object
        Any scikit-learn estimator. It is cloned, never modified.

    param_space : dict
        Parameter names (``"step__param"`` for nested estimators) mapped to
        :class:`~gan_estimators.Integer`, :class:`~gan_estimators.Real`,
        :class:`~gan_estimators.Categorical`, a list of values (shorthand for ``Categorical``)
        or a frozen ``scipy.stats`` distribution (decoded through its quantile function).
        Invalid spaces and names the estimator lacks raise before any fit.

    scoring : str, callable, list, tuple, dict or None, default=None
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`. With several metrics the
        genetic algorithm maximises the one named by ``refit`` (the first one when ``refit`` is
        a callable or False).

    cv : int, cross-validation generator, iterable or None, default=None
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`. Every generation is
        evaluated on ``cv.split`` anew: use a splitter that gives the same splits on every call
        (not shuffling, or with an integer ``random_state``) so fitnesses are comparable.

    population_size : int, default=10
        Individuals per generation (at least 2).

    generations : int, default=5
        Number of generations, the initial population (see ``initial_population``) counting
        as the first; each later generation assesses at most ``population_size`` new
        individuals (with ``resource`` set, each once per budget it reaches). With
        ``"steady_state"``, the search breeds as many children as these generations hold.

    crossover_probability : float, default=0.5
        Probability that a pair of parents is crossed over.

    mutation_probability : float, default=0.3
        Probability that a child is mutated. With ``algorithm="mu_plus_lambda"`` the two
        probabilities must sum to at most 1 (a child is made by one of crossover, mutation or
        copy).

    tournament_size : int, default=3
        Individuals per selection tournament.

    hall_of_fame_size : int, default=1
        Elitism: the best ``hall_of_fame_size`` configurations ever evaluated are put back into
        the next population when they are not in it. 0 disables elitism. Configurations with a
        NaN score never enter the hall of fame.

    algorithm : {"simple", "mu_plus_lambda", "cma-es", "de", "steady_state"}, default="simple"
        ``"simple"``: DEAP's ``eaSimple`` scheme, offspring replace the population.
        ``"mu_plus_lambda"``: ``eaMuPlusLambda``, ``population_size`` offspring compete with
        their parents for the next population. ``"cma-es"``: DEAP's CMA-ES on the gene
        vector, ``population_size`` samples per generation. ``"de"``: differential evolution
        (DE/rand/1/bin), one trial per individual (``population_size`` at least 4).
        ``"steady_state"``: an asynchronous genetic algorithm without generations: a child is
        bred and dispatched whenever a worker is free, from the best ``population_size``
        configurations completed so far; at ``n_jobs > 1`` what it evaluates depends on
        which fits finish first. See :mod:`gan_estimators.search.strategies` and
        :mod:`gan_estimators.search.steady_state`.

    algorithm_params : dict or None, default=None
        The algorithm's own settings: ``"cma-es"``: ``{"sigma": 0.3}``, the initial step
        size in gene units; ``"de"``: ``{"F": 0.5, "CR": 0.9}``, the differential weight in
        (0, 2] and the crossover rate in [0, 1]; the others accept none. Unknown keys raise
        a ValueError naming the accepted ones (:mod:`gan_estimators.search.algorithms`).

    initial_population : list of dict or None, default=None
        The configurations of the first generation, before random ones fill it up to
        ``population_size``. None: the estimator's own parameters, projected into the space
        (values outside a dimension clipped into it, the nearest category), so the best found
        is never worse, on the search's score, than the estimator as given. A list: exactly
        these parameter dicts (each value a value of its dimension; parameters a dict leaves
        out take the estimator's own), all evaluated in the first generation even when there
        are more than ``population_size``. See :mod:`gan_estimators.search.initial`.

    resource : str or None, default=None
        Multi-fidelity evolution (:mod:`gan_estimators.search.fidelity`): the name of an
        integer or real parameter of the estimator that sets a training budget (such as
        ``"n_steps"`` or ``"max_time"``), or ``"n_samples"``, the number of samples each
        split cross-validates on (subsampled as in
        :class:`~sklearn.model_selection.HalvingRandomSearchCV`). Each generation's new
        configurations are scored at ``min_resources``, the best ``1/factor`` of them
        promoted to ``factor`` times the budget, and so on up to ``max_resources``; only
        scores at the same budget are compared, and the hall of fame, ``best_*`` and the
        refit (with the resource at ``max_resources``) use the top budget's scores. Every
        (configuration, budget) is trained from scratch unless ``continue_promoted``. It must
        not be searched in ``param_space``. None scores every configuration as the estimator is.

    min_resources : int, float or None, default=None
        The lowest budget. None: ``max_resources / factor**2`` (rounded up for integer
        resources), three rungs.

    max_resources : int, float or None, default=None
        The top budget, the one ``best_*`` and the refit use. None: the estimator's own value
        of ``resource`` (the number of samples for ``"n_samples"``).

    factor : int or float, default=3
        The ratio of consecutive budgets, and one configuration in ``factor`` is promoted;
        greater than 1.

    continue_promoted : bool, default=False
        With ``resource`` an estimator parameter that budgets each ``fit`` / ``partial_fit``
        call (such as ``n_steps``), a configuration promoted from budget ``b`` to ``B``
        continues the estimators it was scored with at ``b`` (``resource=B - b``, then
        ``partial_fit`` on each split) instead of training anew; ``fit_time`` of such a row is
        the continuation's. Needs ``partial_fit``; not with ``"steady_state"``. False trains
        every (configuration, budget) from scratch. See
        :mod:`gan_estimators.search.continuation`.

    gene_precision : int or None, default=None
        Round genes to this many decimals before decoding, which makes the space a grid and
        near-duplicate configurations cache hits (the reference rounds to 1). None decodes
        genes exactly; the cache is exact on decoded parameters either way.

    max_fits : int or None, default=None
        Budget in model fits (configurations x cross-validation splits, scikit-learn's
        "totalling N fits"). The generation that would exceed it evaluates only the
        configurations that fit in it, and the search stops. Configurations restored from
        ``memory`` count as they did when they were fitted (so a rerun retraces the same
        search); cache hits and the final refit do not count.

    max_time : float or None, default=None
        Stop after the first generation that ends more than ``max_time`` seconds after the
        search started (a running generation is not cut short; ``"steady_state"`` breeds no
        child after ``max_time`` and lets the running fits finish).

    patience : int or None, default=None
        Stop after ``patience`` consecutive generations without a better best score
        (``"steady_state"``: ``patience * population_size`` completed evaluations).

    callbacks : callable, list of callables or None, default=None
        Called after each generation with its logbook entry (a dict with the keys of
        ``logbook_``), the generation that ends the search (``max_fits``, ``max_time``,
        ``patience`` or the last one) included; a callback returning True stops the search.
        ``"steady_state"`` calls them after each completed evaluation instead.

    memory : str, os.PathLike, joblib.Memory or None, default=None
        Where evaluations persist across runs, keyed by the data, the estimator's parameters,
        the cross-validation splitter, the scoring and the configuration: rerunning the same
        search on the same data restores every configuration instead of fitting it, with the
        same ``cv_results_`` rows. Failed evaluations are stored too; clear the memory to retry
        them. An entry that cannot be read (a truncated file) is fitted again once and
        replaced. The entries are pickles, which can run code when read: use only a folder you
        trust.

    refit_on_interrupt : bool, default=False
        What a ``KeyboardInterrupt`` during ``fit`` does. The running generation is discarded
        and ``cv_results_``, ``logbook_`` and ``best_*`` describe the completed generations.
        If False, the interrupt is re-raised after that, without a refit. If True, the search
        stops as if its budget were spent: the best configuration so far is refitted
        (``refit`` permitting) and ``fit`` returns normally. An interrupt during that final
        refit (with either setting) keeps ``cv_results_`` and ``best_*`` of the finished
        search, sets ``stop_reason_`` to ``"interrupt"``, leaves no ``best_estimator_`` and is
        re-raised.

    n_jobs : int or None, default=None
        Number of jobs running candidates x folds in parallel (joblib). Each worker process
        caps its TensorFlow and BLAS thread pools to its share of the cores (see
        :mod:`gan_estimators.search.workers`). Under ``joblib.parallel_config(backend="dask")`` the
        fits run on a Dask cluster.

    refit : bool, str or callable, default=True
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`. Configurations whose score
        is NaN rank below every real score and are never refitted; if no configuration has a
        finite score, ``fit`` raises instead of refitting.

    error_score : 'raise' or numeric, default=np.nan
        Score of a failed fit. A configuration whose every fold fails gets it too (the search
        catches scikit-learn's "All the N fits failed" and goes on). With ``'raise'`` the first
        failure is raised.

    return_train_score : bool, default=False
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.

    pre_dispatch : int or str, default='2*n_jobs'
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.

    verbose : int, default=0
        ``>= 1``: a tqdm progress bar over generations with the best and mean fitness, plus
        scikit-learn's messages; higher values as in scikit-learn.

    random_state : int, RandomState instance or None, default=None
        Seeds the search's private generator (0 is a seed like any other). Global random
        generators are never used or reseeded.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        One row per distinct configuration evaluated or restored (per configuration and
        budget with ``resource``), in the order they were first met, formatted by
        scikit-learn (loads into a ``pandas.DataFrame``). Besides RandomizedSearchCV's keys:
        ``n_warnings``, the warnings its fits raised (collected, not printed: see
        :mod:`gan_estimators.search.quiet`), ``first_warning`` (``"Category: message"`` or
        ""), ``generation``, the generation that first met it, and with ``resource``
        ``rung`` and ``n_resources``, its budget (as in ``HalvingRandomSearchCV``). Ranks
        compare all rows; ``best_*`` come from the top budget's rows.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, refit_time_,
    multimetric_, classes_, n_features_in_, feature_names_in_ :
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    n_candidates_evaluated_ : int
        Configurations cross-validated (fitted) by this ``fit``.
    n_candidates_restored_ : int
        Configurations restored from ``memory`` instead of fitted.
    cache_hits_ : int
        Individuals whose configuration had already been evaluated in this run: they cost no
        fit and added no row.
    logbook_ : deap.tools.Logbook
        One entry per completed generation: ``gen``, ``nevals`` (configurations fitted),
        ``restored`` (from ``memory``), ``cache_hits``, ``revaried`` (new individuals that
        decoded to an already evaluated configuration and were varied again instead of
        re-evaluated), ``min``/``max``/``mean``/``std`` of the population's finite fitnesses
        (with ``resource`` set, of those scored at the top budget),
        ``best`` (best fitness so far) and ``elapsed`` (seconds since the search started).
        ``"steady_state"``: one entry per completed evaluation, ``gen`` counting them.
    hall_of_fame_ : list of dict
        The best configurations evaluated, best first, as ``{"params": ..., "score": ...}``
        (``max(1, hall_of_fame_size)`` of them).
    stop_reason_ : str
        Why the search ended: ``"generations"``, ``"max_fits"``, ``"max_time"``,
        ``"patience"``, ``"callback"`` or ``"interrupt"``.

    See Also
    --------
    sklearn.model_selection.RandomizedSearchCV : The same search with random candidates.
    gan_estimators.reference_space : The reference GAN search space.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from gan_estimators import EvolutionarySearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = EvolutionarySearchCV(
    ...     SVC(),
    ...     {"C": Real(1e-2, 1e2, log=True), "kernel": ["linear", "rbf"]},
    ...     population_size=4,
    ...     generations=2,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> sorted(search.best_params_)
    ['C', 'kernel']
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseSearchCV._parameter_constraints,
        "param_space": [dict],
        "population_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "generations": [Interval(numbers.Integral, 1, None, closed="left")],
        "crossover_probability": [Interval(numbers.Real, 0, 1, closed="both")],
        "mutation_probability": [Interval(numbers.Real, 0, 1, closed="both")],
        "tournament_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "hall_of_fame_size": [Interval(numbers.Integral, 0, None, closed="left")],
        "algorithm": [StrOptions(set(_algorithms.ALGORITHMS))],
        "algorithm_params": [dict, None],
        "initial_population": [list, None],
        "resource": [str, None],
        "min_resources": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "max_resources": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "factor": [Interval(numbers.Real, 1, None, closed="neither")],
        "continue_promoted": ["boolean"],
        "gene_precision": [Interval(numbers.Integral, 0, None, closed="left"), None],
        "max_fits": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "patience": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "callbacks": [list, tuple, callable, None],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "refit_on_interrupt": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        param_space,
        *,
        scoring=None,
        cv=None,
        population_size=10,
        generations=5,
        crossover_probability=0.5,
        mutation_probability=0.3,
        tournament_size=3,
        hall_of_fame_size=1,
        algorithm="simple",
        algorithm_params=None,
        initial_population=None,
        resource=None,
        min_resources=None,
        max_resources=None,
        factor=3,
        continue_promoted=False,
        gene_precision=None,
        max_fits=None,
        max_time=None,
        patience=None,
        callbacks=None,
        memory=None,
        refit_on_interrupt=False,
        n_jobs=None,
        refit=True,
        error_score=np.nan,
        return_train_score=False,
        pre_dispatch="2*n_jobs",
        verbose=0,
        random_state=None,
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_space = param_space
        self.population_size = population_size
        self.generations = generations
        self.crossover_probability = crossover_probability
        self.mutation_probability = mutation_probability
        self.tournament_size = tournament_size
        self.hall_of_fame_size = hall_of_fame_size
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.initial_population = initial_population
        self.resource = resource
        self.min_resources = min_resources
        self.max_resources = max_resources
        self.factor = factor
        self.continue_promoted = continue_promoted
        self.gene_precision = gene_precision
        self.max_fits = max_fits
        self.max_time = max_time
        self.patience = patience
        self.callbacks = callbacks
        self.memory = memory
        self.refit_on_interrupt = refit_on_interrupt
        self.random_state = random_state

    # -- pickling ------------------------------------------------------------------------------

    def __getstate__(self):
        """Pickle the search without its per-fit run state.

        scikit-learn's ``evaluate_candidates`` sends the search itself into every
        cross-validation task (``_fit_and_score(..., caller=self)``, for its callback API), so
        under ``n_jobs > 1`` or the Dask backend the search is pickled while it runs. The run
        state belongs to the parent process alone: it holds the tqdm bar (which does not
        survive a round trip), the private generator and every record fitted so far (which
        would otherwise travel with each task, growing every generation). A fitted search has
        no run state, so this drops nothing from it.
        """
        # BaseEstimator.__getstate__ may return the instance's own __dict__: copy before popping
        state = dict(super().__getstate__())
        state.pop("_state", None)
        return state

    # -- fit -----------------------------------------------------------------------------------

    def fit(self, X, y=None, **params):
        """Run the evolutionary search with all fits cross-validated.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Targets, None for unsupervised estimators.
        **params : dict
            Parameters for the estimator's ``fit``, the scorer and the splitter (``groups``),
            routed as in :class:`~sklearn.model_selection.RandomizedSearchCV`.

        Returns
        -------
        self : object
            The fitted search.

        Raises
        ------
        KeyboardInterrupt
            Re-raised after recording the completed generations, unless
            ``refit_on_interrupt=True``.
        """
        self._validate_params()
        space = SearchSpace(self.param_space)
        space.check_parameters(self.estimator)
        self._check_settings()
        rng = numpy_generator(self.random_state)
        seeds = _initial.seeds(space, self.estimator, self.initial_population, rng)
        schedule = _fidelity.make_schedule(self, X, rng)
        store, data_token = None, None
        if self.memory is not None:
            store, data_token = _store.open_store(self.memory, (X, y, params))
        self._state = _run.SearchRun(
            space, rng, store=store, data_token=data_token, seeds=seeds, schedule=schedule
        )
        self._state.fit_data = (X, y, params)
        own_callbacks = self.__dict__.get("_skl_callbacks")
        folder = tempfile.mkdtemp(prefix="search-warnings-")
        self._state.candidate_warnings = _quiet.CandidateWarnings(folder)
        self.set_callbacks(*(own_callbacks or []), self._state.candidate_warnings)
        try:
            with _workers.worker_thread_limits(self.n_jobs):
                try:
                    try:
                        super().fit(X, y, **params)
                    except _ending.NothingFitted:
                        _ending.finish_without_fits(self, X, y, params)
                except KeyboardInterrupt:  # including one in finish_without_fits's refit
                    _ending.keep_results_of_interrupted_refit(self)
                    raise
        finally:
            del self._state
            self.set_callbacks(*(own_callbacks or []))
            shutil.rmtree(folder, ignore_errors=True)
        return self

    def _check_settings(self):
        _algorithms.check_settings(self)
        _continuation.check(self)
        for callback in self._callback_list():
            if not callable(callback):
                raise TypeError(f"callbacks must be callables, got {callback!r}")

    def _callback_list(self):
        callbacks = [] if self.callbacks is None else self.callbacks
        return [callbacks] if callable(callbacks) else list(callbacks)

    def _format_results(self, candidate_params, n_splits, out, more_results=None):
        """Format scikit-learn's rows and the stored rows together, in the order first met."""
        run = getattr(self, "_state", None)
        if run is None:
            return super()._format_results(candidate_params, n_splits, out, more_results)
        params, records, more_results = run.rows_to_format(candidate_params, out, more_results)
        _quiet.fill_missing(records)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = super()._format_results(params, n_splits, records, more_results)
        run.warning_filter.replay(caught, results)
        results.update(_quiet.columns(records, n_splits))
        for key in more_results:  # after scikit-learn's own keys
            results[key] = results.pop(key)
        run.results.clear()
        run.results.update(results)
        return run.results

    # -- the genetic algorithm -------------------------------------------------------------

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        """Evolve the population, evaluating each generation with ``evaluate_candidates``.

        The loop of DEAP's ``eaSimple``: breed, evaluate, update the hall of fame, record, and
        check the stopping rules (:meth:`~gan_estimators.search.run.SearchRun.stop_reason`).
        ``"steady_state"`` runs :mod:`gan_estimators.search.steady_state` instead.
        """
        run = self._begin_search(callback_ctx)
        if self.algorithm == "steady_state":
            steady = _steady_state.SteadyState(self, run)
            total = None if run.schedule else steady.budget
            with _run.progress_bar(self, total, unit="eval") as run.progress:
                stop = steady.run_search()
            _ending.end_search(self, stop)
            return
        cross_validate = functools.partial(run.cross_validate, evaluate_candidates, self)
        evolution, population, stop = run.evolution, [], None
        try:
            with _run.progress_bar(self, self.generations) as run.progress:
                for generation in range(self.generations):
                    if generation == 0:
                        offspring = evolution.initial_population(run.seeds)
                    else:
                        offspring = evolution.offspring(population)
                    counts = run.assess(offspring, generation, cross_validate)
                    evaluated = [ind for ind in offspring if ind.fitness.valid]
                    evolution.update_hall_of_fame(evaluated)
                    population = evolution.survivors(population, evaluated)
                    record = run.record(generation, counts, population)
                    stop = run.stop_reason(self, record)
                    if stop is not None:
                        break
        except KeyboardInterrupt:
            stop = "interrupt"
        _ending.end_search(self, stop)

    def _begin_search(self, callback_ctx):
        """Check the settings that need ``n_splits_``; set up the evolution and the logbook."""
        run = getattr(self, "_state", None)
        if run is None:
            raise RuntimeError("EvolutionarySearchCV._run_search runs only inside fit")
        if self.max_fits is not None and self.max_fits < self.n_splits_:
            raise ValueError(
                f"max_fits={self.max_fits} is less than the {self.n_splits_} fits that "
                "cross-validating one configuration takes"
            )
        _run.warn_if_splits_vary(self._checked_cv_orig)
        run.n_splits, run.max_fits, run.refit = self.n_splits_, self.max_fits, self.refit
        run.error_score, run.return_train_score = self.error_score, self.return_train_score
        if run.store is not None:
            run.memory_context = _store.memory_context(run.data_token, self)
        if callback_ctx is not None:
            run.search_ctx = callback_ctx.subcontext(
                task_name="search", max_subtasks=None
            ).call_on_fit_task_begin(estimator=self)
        run.evolution = _algorithms.make_evolution(
            self,
            run.space,
            run.rng,
            is_known=(run.cache if run.schedule is None else run.reached).__contains__,
            top_rung=0 if run.schedule is None else run.schedule.top,
        )
        self.logbook_ = run.logbook = _evolution.new_logbook()
        self.n_candidates_evaluated_ = self.n_candidates_restored_ = self.cache_hits_ = 0
        if self.continue_promoted:
            run.continuation = _continuation.Continuation(self, run)
        run.callbacks = self._callback_list()
        run.start = time.perf_counter()
        return run

    def _select_best_index(self, refit, refit_metric, results):
        """scikit-learn's choice, among the top budget's rows with ``resource``."""
        run = getattr(self, "_state", None)
        if callable(refit) or run is None or run.schedule is None:
            return super()._select_best_index(refit, refit_metric, results)
        return _fidelity.best_index(results, refit_metric, run.schedule.top)
