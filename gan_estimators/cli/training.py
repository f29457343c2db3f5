"""Training for the commands: the evolutionary search, fits, refits, scores and their reports.

NumPy, scikit-learn and TensorFlow are imported inside the functions that need them.
"""

import sys
import time

from gan_estimators.cli.console import (
    UserError,
    import_estimator,
    native_logs_wanted,
    native_stderr_silenced,
)

#: Fraction of the data held out to score the models (never trained on): the demo's held-out
#: images and the validation fold of a one-split search.
HOLDOUT_FRACTION = 0.25


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
):
    """The evolutionary search that ``demo`` and ``search`` run.

    Parameters
    ----------
    space : {"defaults", "reference"}, default="defaults"
        ``"defaults"``: a ``WGANEstimator()`` with the package defaults (a non-saturating GAN
        with Adam) evolved over the genes of :func:`~gan_estimators.reference_space`
        that change it.  ``clip_value`` is dropped when the loss does not clip weights (a gene
        that changes nothing would only make the search retrain identical models), and the
        learning rate is decoded over ``[lr / 10, 5 lr]`` (log scale) around the default
        ``lr``, because the reference range, 1e-8 to 1e-4, suits RMSprop on a clipped critic
        and leaves Adam's networks untrained at its low end.
        ``"reference"``: ``WGANEstimator.reference()`` with the whole ``reference_space()``:
        the weight-clipping WGAN search of the reference configuration (see
        ``docs/user_guide/reference_configuration.rst``), which barely learns in short budgets.
    population, generations : int
        ``population_size`` and ``generations`` of the search.
    steps : int
        Every candidate's budget, ``n_steps`` generator iterations.
    candidate_time : float or None
        Every candidate's ``max_time`` cap in seconds.
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

    Returns
    -------
    EvolutionarySearchCV
        Unfitted, with ``refit=False`` (the caller refits the best with a larger budget) and
        the estimator's ``score`` (-FD in its feature space) as the fitness.
    """
    from sklearn.model_selection import KFold, ShuffleSplit

    from gan_estimators.search.presets import reference_space
    from gan_estimators.search.search_cv import EvolutionarySearchCV
    from gan_estimators.search.space import Real

    WGANEstimator = import_estimator()

    budget = {"n_steps": steps, "max_time": candidate_time, "random_state": random_state}
    genes = reference_space()
    if space == "reference":
        estimator = WGANEstimator.reference(**budget)
    else:
        estimator = WGANEstimator(**budget)
        if estimator.loss != "wgan":
            genes.pop("clip_value")
        lr = float(estimator.learning_rate)
        genes["learning_rate"] = Real(lr / 10, lr * 5, log=True)
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
    )


def fit_quietly(estimator, X):
    """Fit, collecting GANTrainingWarnings (reported from ``diagnostics_`` instead)."""
    import warnings

    from sklearn.utils._param_validation import InvalidParameterError

    from gan_estimators.quality.diagnostics import GANTrainingWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        try:
            return estimator.fit(X)
        except InvalidParameterError as exc:
            raise UserError(str(exc)) from None


def refit_best(search, X, *, steps, max_time, verbose):
    """Fit the search's best parameters on ``X`` with a new budget; returns (model, seconds)."""
    from sklearn.base import clone

    best = clone(search.estimator).set_params(
        **search.best_params_, n_steps=steps, max_time=max_time, verbose=verbose
    )
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
    from gan_estimators.quality.metrics import METRIC_NAMES

    metrics = evaluate_samples(estimator, holdout, METRIC_NAMES)
    return {"score": -metrics["fd"], **metrics}


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
        "stopped_by_max_time": int(estimator.n_steps_) < int(estimator.n_steps),
        "fit_seconds": seconds,
        "score": quality["score"],
        "metrics": {k: v for k, v in quality.items() if k != "score"},
        "diagnostics": report.to_dict() if report is not None else None,
    }


def search_report(search, seconds, space):
    """A fitted search's settings, best parameters, statistics and logbook, for a JSON report."""
    logbook = [dict(entry) for entry in search.logbook_]
    return {
        "space": space,
        "param_space": {name: repr(dim) for name, dim in search.param_space.items()},
        "population_size": search.population_size,
        "generations": search.generations,
        "candidate_n_steps": search.estimator.n_steps,
        "candidate_max_time": search.estimator.max_time,
        "cv_splits": search.n_splits_,
        "best_params": search.best_params_,
        "best_cv_score": float(search.best_score_),
        "n_candidates_evaluated": search.n_candidates_evaluated_,
        "cache_hits": search.cache_hits_,
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
    return f"{steps} steps or {seconds:g} s, whichever comes first"


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
    search = make_search(
        args.space,
        population=budget["population"],
        generations=budget["generations"],
        steps=budget["steps"],
        candidate_time=budget["candidate_time"],
        search_time=budget["search_time"],
        cv=args.cv,
        n_jobs=budget["n_jobs"],
        random_state=args.random_state,
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
