"""Training for the commands: the evolutionary search, fits, refits, scores and their reports.

NumPy, scikit-learn and TensorFlow are imported inside the functions that need them.
"""

import itertools
import math
import sys
import time

from gan_estimators.cli.console import (
    UserError,
    import_estimators,
    native_logs_wanted,
    native_stderr_silenced,
)
from gan_estimators.gan.validation import MIN_SAMPLES

#: Fraction of the data held out to score the models (never trained on): the demo's held-out
#: images and the validation fold of a one-split search.
HOLDOUT_FRACTION = 0.25


#: Resources the demo's multi-fidelity search can spend (estimator parameters).
RESOURCES = ("max_time", "n_steps")

_FIDELITY_KEYS = ("resource", "min_resources", "max_resources", "factor")


def demo_param_space(estimator, time_budget=False):
    """The genes ``--space defaults`` evolves on top of ``estimator`` (a ``GANEstimator()``).

    The reference genes of :func:`~gan_estimators.reference_space` that change the estimator
    (``clip_value`` is dropped unless the loss clips weights: a gene that changes nothing
    would only make the search retrain identical models), the learning rate decoded over
    ``[lr / 10, 5 lr]`` (log scale) around the estimator's ``lr`` -- the reference range, 1e-8
    to 1e-4, suits RMSprop on a clipped critic and leaves Adam's networks untrained at its low
    end.  With a time budget, the costly ends of the reference ranges are cut -- 16 to 64
    filters, 1 to 3 critic updates: a configuration that costs four times as much per step
    trains for a quarter of the steps and does not win -- and ``batch_size`` (8 to 64), which
    sets what a step costs, is evolved too (with a budget in steps, larger batches would only
    buy more compute).

    Parameters
    ----------
    estimator : GANEstimator
        The estimator whose ``loss`` and ``learning_rate`` the space is built around.
    time_budget : bool, default=False
        Whether candidates train for a time budget (``max_time``).

    Returns
    -------
    dict
        A ``param_space`` for :class:`~gan_estimators.EvolutionarySearchCV`.
    """
    from gan_estimators.search.presets import reference_space
    from gan_estimators.search.space import Integer, Real

    genes = reference_space()
    if estimator.loss != "wgan":
        genes.pop("clip_value")
    lr = float(estimator.learning_rate)
    genes["learning_rate"] = Real(lr / 10, lr * 5, log=True)
    if time_budget:
        genes["n_filters"] = Integer(16, 64)
        genes["n_critic"] = Integer(1, 3)
        genes["batch_size"] = Integer(8, 64)
    return genes


def final_budget(budget):
    """The ``n_steps`` / ``max_time`` of the demo's default model and refit: the top rung.

    With ``budget["resource"]`` set, a model trains for ``max_resources`` of that resource,
    capped by the other budget (``steps`` or ``candidate_time``, None for no cap).
    """
    if budget["resource"] == "n_steps":
        return {"n_steps": budget["max_resources"], "max_time": budget["candidate_time"]}
    return {"n_steps": budget["steps"], "max_time": budget["max_resources"]}


def make_search(
    space="defaults",
    *,
    population=6,
    generations=4,
    steps=150,
    candidate_time=None,
    search_time=None,
    cv=1,
    n_jobs=1,
    random_state=0,
    verbose=0,
    callbacks=None,
    resource=None,
    min_resources=None,
    max_resources=None,
    factor=3,
):
    """The evolutionary search that ``demo`` and ``search`` run.

    The estimator's own configuration (the package defaults, or the reference one) is in the
    first generation (``initial_population=None``).

    Parameters
    ----------
    space : {"defaults", "reference"}, default="defaults"
        ``"defaults"``: a ``GANEstimator()`` with the package defaults (a non-saturating GAN
        with Adam) evolved over :func:`demo_param_space`.
        ``"reference"``: ``WGANEstimator.reference()`` with the whole ``reference_space()``:
        the weight-clipping WGAN search of the reference configuration (see
        ``docs/user_guide/reference_configuration.rst``), which barely learns in short budgets.
    population, generations : int
        ``population_size`` and ``generations`` of the search.
    steps : int or None
        Every candidate's ``n_steps``, unless it is the ``resource``.
    candidate_time : float or None
        Every candidate's ``max_time`` in seconds, unless it is the ``resource``.
    search_time : float or None
        The search's ``max_time``.
    cv : int, default=1
        Folds per candidate; 1 is a single split holding out :data:`HOLDOUT_FRACTION` of the
        data.
    n_jobs : int, default=1
        Parallel candidates.
    random_state : int, default=0
        Seeds the candidates' training, the folds and the genetic algorithm.
    verbose : int, default=0
        The search's ``verbose``.
    callbacks : list of callable or None, default=None
        The search's ``callbacks``.
    resource : {"max_time", "n_steps"} or None, default=None
        Multi-fidelity: each generation's new configurations train for ``min_resources`` of
        this estimator parameter, the best ``1 / factor`` again for ``factor`` times more, up
        to ``max_resources`` (the estimator's own value).  None: every candidate trains for
        ``steps`` / ``candidate_time``.
    min_resources, max_resources : float or None
        The lowest and the top budget of ``resource``.
    factor : int, default=3
        The promotion ratio of the multi-fidelity search.

    Returns
    -------
    EvolutionarySearchCV
        Unfitted, with ``refit=False`` (the caller refits the best) and the estimator's
        ``score`` (-FD in its feature space) as the fitness.
    """
    from sklearn.model_selection import KFold, ShuffleSplit

    from gan_estimators.search.presets import reference_space
    from gan_estimators.search.search_cv import EvolutionarySearchCV

    GANEstimator, WGANEstimator = import_estimators()

    budget = {"n_steps": steps, "max_time": candidate_time, "random_state": random_state}
    fidelity = {}
    if resource is not None:
        budget[resource] = max_resources
        fidelity = {
            "resource": resource,
            "min_resources": min_resources,
            "max_resources": max_resources,
            "factor": factor,
        }
    if space == "reference":
        estimator = WGANEstimator.reference(**budget)
        genes = reference_space()
    else:
        estimator = GANEstimator(**budget)
        genes = demo_param_space(estimator, time_budget=resource == "max_time")
    if cv == 1:
        splitter = ShuffleSplit(n_splits=1, test_size=HOLDOUT_FRACTION, random_state=random_state)
    else:
        splitter = KFold(cv, shuffle=True, random_state=random_state)
    return EvolutionarySearchCV(
        estimator,
        genes,
        cv=splitter,
        population_size=population,
        generations=generations,
        max_time=search_time,
        n_jobs=n_jobs,
        refit=False,
        verbose=verbose,
        random_state=random_state,
        callbacks=callbacks,
        initial_population=None,
        **fidelity,
    )


def same_configuration(params, estimator):
    """True if ``params`` are ``estimator``'s own values (floats to 6 significant digits)."""
    own = estimator.get_params(deep=False)
    return all(
        f"{value:.6g}" == f"{own[name]:.6g}" if isinstance(value, float) else value == own[name]
        for name, value in params.items()
    )


def split_wins(search, estimator):
    """On how many splits the search's best beat ``estimator``'s own configuration.

    Both are compared at the best's budget, split by split (the same splits).

    Returns
    -------
    tuple of int or None
        ``(wins, n_splits)``, or None when the estimator's configuration was not scored at
        that budget (it lost at a lower one).
    """
    results = search.cv_results_
    best = search.best_index_
    budget = results["n_resources"][best] if "n_resources" in results else None
    splits = [f"split{k}_test_score" for k in range(search.n_splits_)]
    for i, params in enumerate(results["params"]):
        if budget is not None and results["n_resources"][i] != budget:
            continue
        if same_configuration(params, estimator):
            wins = sum(results[key][best] > results[key][i] for key in splits)
            return int(wins), len(splits)
    return None


def _fold_sizes(n_samples, cv):
    """The fewest (training, held-out) samples a candidate gets from ``cv`` folds."""
    held_out = math.ceil(n_samples * HOLDOUT_FRACTION) if cv == 1 else n_samples // cv
    largest_held_out = held_out if cv == 1 else math.ceil(n_samples / cv)
    return n_samples - largest_held_out, held_out


def check_folds(n_samples, cv):
    """Raise a :class:`UserError` unless ``cv`` folds of ``n_samples`` leave every candidate
    at least 2 training and 2 held-out samples."""
    if min(_fold_sizes(n_samples, cv)) < MIN_SAMPLES:
        fewest = next(
            n for n in itertools.count(n_samples) if min(_fold_sizes(n, cv)) >= MIN_SAMPLES
        )
        raise UserError(
            f"--cv {cv} needs at least {fewest} samples (every fold holds out "
            f"{MIN_SAMPLES} or more and trains on {MIN_SAMPLES} or more); the data has "
            f"{n_samples}"
        )


def fit_quietly(estimator, X, y=None):
    """Fit, collecting GANTrainingWarnings (reported from ``diagnostics_`` instead)."""
    import warnings

    from gan_estimators.quality.diagnostics import GANTrainingWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        return estimator.fit(X, y)


def refit_best(search, X, *, steps, max_time, verbose):
    """Fit the search's best parameters on ``X`` with a new budget; returns (model, seconds)."""
    from sklearn.base import clone

    budget = {"n_steps": steps, "max_time": max_time, "verbose": verbose}
    best = clone(search.estimator).set_params(**{**search.best_params_, **budget})
    start = time.perf_counter()
    fit_quietly(best, X)
    return best, time.perf_counter() - start


def diagnostics_line(estimator):
    """One line summarising a fitted estimator's ``diagnostics_``."""
    report = getattr(estimator, "diagnostics_", None)
    if report is None:
        return "diagnostics: not available"
    verdicts = {name: mode.flagged for name, mode in report.items()}
    flagged = [name.replace("_", " ") for name, value in verdicts.items() if value]
    if flagged:
        return "diagnostics: FLAGGED " + ", ".join(flagged)
    unassessed = [name for name, value in verdicts.items() if value is None]
    if len(unassessed) == len(verdicts):
        return "diagnostics: not assessed (" + report[unassessed[0]].reason.rstrip(".") + ")"
    if unassessed:
        return f"diagnostics: no failure mode detected ({len(unassessed)} not assessed)"
    return "diagnostics: no failure mode detected"


def evaluate(estimator, holdout):
    """Sample-quality metrics of ``estimator`` against held-out data, and ``score`` = -FD."""
    from gan_estimators.quality.evaluation import evaluate_samples
    from gan_estimators.quality.metrics import METRIC_NAMES, as_score

    metrics = evaluate_samples(estimator, holdout, METRIC_NAMES)
    return {"score": as_score("fd", metrics["fd"]), **metrics}


def real_floor(estimator, train, holdout, random_state):
    """FD between held-out real data and as many real training images: the best reachable."""
    import numpy as np

    from gan_estimators.quality.features import resolve_feature_map
    from gan_estimators.quality.metrics import frechet_distance

    mapping = getattr(estimator, "feature_map_", None)
    if mapping is None:
        mapping = resolve_feature_map("auto", holdout, random_state=0)
    rng = np.random.default_rng(random_state)
    n = min(len(train), len(holdout))
    subset = train[np.sort(rng.choice(len(train), n, replace=False))]
    return float(frechet_distance(mapping.transform(holdout[:n]), mapping.transform(subset)))


def model_report(estimator, seconds, quality):
    """A fitted model's parameters, budget, scores and diagnostics, for a JSON report."""
    report = getattr(estimator, "diagnostics_", None)
    return {
        "params": estimator.get_params(deep=False),
        "n_steps": int(estimator.n_steps_),
        "stopped_by_max_time": estimator.max_time is not None
        and (estimator.n_steps is None or int(estimator.n_steps_) < int(estimator.n_steps)),
        "fit_seconds": seconds,
        "score": quality["score"],
        "metrics": {k: v for k, v in quality.items() if k != "score"},
        "diagnostics": report.to_dict() if report is not None else None,
    }


def _resource(search):
    """The budget a fitted search's candidates spent: its ``resource``, else the estimator's."""
    resource = search.resource
    if resource is None:
        resource = "max_time" if search.estimator.n_steps is None else "n_steps"
    return resource


def rung_report(search):
    """What a fitted search spent at each budget, from its ``cv_results_``.

    Returns
    -------
    dict
        ``n_resources`` (the budget of each rung, increasing; the estimator's own budget
        without multi-fidelity), and per rung: ``configurations`` evaluated, ``fit_seconds``
        (fit time summed over configurations and splits) and ``fit_seconds_fraction``;
        ``n_warnings``: the warnings candidate fits raised (collected, not printed), and
        ``configurations_warned``: the configurations whose fits raised any.
    """
    import numpy as np

    results = search.cv_results_
    n_rows = len(results["params"])
    resource = _resource(search)
    if "n_resources" in results:
        budgets = np.asarray(results["n_resources"], dtype=float)
    else:
        budgets = np.full(n_rows, float(getattr(search.estimator, resource)))
    fit_seconds = np.asarray(results["mean_fit_time"], dtype=float) * search.n_splits_
    rungs = sorted(set(budgets.tolist()))
    total = float(fit_seconds.sum()) or 1.0
    warned = np.asarray(results.get("n_warnings", np.zeros(n_rows)), dtype=float)
    return {
        "n_resources": [int(b) if resource == "n_steps" else b for b in rungs],
        "configurations": [int(np.sum(budgets == b)) for b in rungs],
        "fit_seconds": [round(float(fit_seconds[budgets == b].sum()), 2) for b in rungs],
        "fit_seconds_fraction": [
            round(float(fit_seconds[budgets == b].sum()) / total, 4) for b in rungs
        ],
        "n_warnings": int(np.nansum(warned)),
        "configurations_warned": int(np.sum(warned > 0)),
    }


def search_report(search, seconds, space):
    """A fitted search's settings, best parameters, statistics and logbook, for a JSON report."""
    logbook = [dict(entry) for entry in search.logbook_]
    return {
        "space": space,
        "param_space": {name: repr(dim) for name, dim in search.param_space.items()},
        "population_size": search.population_size,
        "generations": search.generations,
        "resource": search.resource,
        "min_resources": search.min_resources,
        "max_resources": search.max_resources,
        "factor": search.factor,
        "candidate_n_steps": search.estimator.n_steps,
        "candidate_max_time": search.estimator.max_time,
        "cv_splits": search.n_splits_,
        "best_params": search.best_params_,
        "best_cv_score": float(search.best_score_),
        "n_candidates_evaluated": search.n_candidates_evaluated_,
        "cache_hits": search.cache_hits_,
        "rungs": rung_report(search),
        "stop_reason": search.stop_reason_,
        "seconds": seconds,
        "logbook": logbook,
    }


def format_params(params):
    """``name=value, ...`` with floats to 3 significant digits."""
    parts = []
    for name, value in params.items():
        parts.append(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}")
    return ", ".join(parts)


def budget_text(steps, seconds):
    """A training budget in words: steps, and the time cap if there is one."""
    if seconds is None:
        return f"{steps} steps"
    if steps is None:
        return f"{seconds:g} s"
    return f"{steps} steps or {seconds:g} s, whichever comes first"


def _amount(resource, value):
    """A budget of ``resource`` in words: ``6 s`` or ``15 steps``."""
    return f"{value:g} s" if resource == "max_time" else f"{value:g} steps"


def ladder_text(budget):
    """The multi-fidelity budgets of ``budget`` in words, rung by rung."""
    from gan_estimators.search.fidelity import budgets

    resource, factor = budget["resource"], budget["factor"]
    ladder = budgets(
        budget["min_resources"], budget["max_resources"], factor, resource == "n_steps"
    )
    words = [f"each new configuration trains for {_amount(resource, ladder[0])}"]
    words += [f"the best 1/{factor} again for {_amount(resource, b)}" for b in ladder[1:]]
    return ", ".join(words)


def rungs_text(search, rungs):
    """What a fitted search trained, rung by rung, in one line (``rungs``: :func:`rung_report`)."""
    resource = _resource(search)
    trained = ", ".join(
        f"{n} at {_amount(resource, b)}"
        for n, b in zip(rungs["configurations"], rungs["n_resources"], strict=True)
    )
    top = rungs["fit_seconds_fraction"][-1]
    warned = rungs["configurations_warned"]
    return (
        f"trained {trained} ({top:.0%} of the training time at the top budget); "
        f"{search.cache_hits_} cache hits; stopped by {search.stop_reason_}"
        + (
            f"; fits of {warned} configurations raised warnings, collected in "
            "cv_results.csv (n_warnings, first_warning)"
            if warned
            else ""
        )
    )


class _GenerationReport:
    """Search callback: one line per generation and, if asked, a progress bar over generations.

    scikit-learn sends the search (``caller=self``), callbacks included, to every worker: the
    bar is left out of the pickled state.
    """

    def __init__(self, generations, bar=False):
        self.generations = generations
        self.want_bar = bar
        self.bar = None
        self.reported = 0

    def open(self):
        """Start the bar (on the ``sys.stderr`` of the moment)."""
        if self.want_bar:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.generations, desc="EvolutionarySearchCV", unit="gen")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["bar"] = None
        return state

    def __call__(self, record):
        from tqdm.auto import tqdm

        hits = record["cache_hits"]
        tqdm.write(
            f"      generation {record['gen'] + 1}/{self.generations}: "
            f"{record['nevals']} new configuration{'s' if record['nevals'] != 1 else ''}"
            + (f", {hits} cache hit{'s' if hits != 1 else ''}" if hits else "")
            + f"; best {record['best']:.1f}, population mean {record['mean']:.1f} "
            f"({record['elapsed']:.0f} s)",
            file=sys.stdout,
        )
        sys.stdout.flush()
        self.reported += 1
        if self.bar is not None:
            self.bar.set_postfix(best=f"{record['best']:.4g}", refresh=False)
            self.bar.update(1)
        return False

    def catch_up(self, logbook):
        """Report the generations the search did not call back for (the one that stopped it)."""
        for record in list(logbook)[self.reported :]:
            self(dict(record))

    def close(self):
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run_search(args, X, budget):
    """Fit :func:`make_search` on ``X`` with the command's options and ``budget``.

    Progress goes to the terminal unless ``args.quiet``.  Returns (fitted search, seconds).
    """
    import warnings

    from sklearn.exceptions import FitFailedWarning

    from gan_estimators.quality.diagnostics import GANTrainingWarning

    parallel = budget["n_jobs"] != 1
    report = None if args.quiet else _GenerationReport(budget["generations"], bar=parallel)
    fidelity = {key: budget[key] for key in _FIDELITY_KEYS if budget.get("resource")}
    search = make_search(
        args.space,
        population=budget["population"],
        generations=budget["generations"],
        steps=budget["steps"],
        candidate_time=budget["candidate_time"],
        search_time=budget["search_time"],
        cv=budget.get("cv", args.cv),
        n_jobs=budget["n_jobs"],
        random_state=args.random_state,
        **fidelity,
        # In one process, 2 shows the search's bar and a line as each candidate finishes
        # (parameters, time).  In parallel, scikit-learn pickles the search into every task
        # and the search's own bar does not survive that: the report draws the bar instead.
        verbose=0 if args.quiet or parallel else 2,
        callbacks=None if report is None else [report],
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Weak candidates are expected: their diagnostics would only interrupt the progress bar.
        warnings.simplefilter("ignore", GANTrainingWarning)
        warnings.simplefilter("ignore", FitFailedWarning)
        try:
            # Worker processes inherit descriptor 2 and would print TensorFlow's start-up lines.
            with native_stderr_silenced(enabled=parallel and not native_logs_wanted()):
                if report is not None:
                    report.open()
                try:
                    search.fit(X)
                    if report is not None:
                        report.catch_up(search.logbook_)
                finally:
                    if report is not None:
                        report.close()
        except ValueError as exc:
            if "finite score" in str(exc) or "fits failed" in str(exc):
                raise UserError(f"the search found no working configuration: {exc}") from None
            raise
    return search, time.perf_counter() - start
