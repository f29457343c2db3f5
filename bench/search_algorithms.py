"""Sections of ``bench/search_speed.py`` that compare the search algorithms.

``steady``: SVC over digits (the ``svc`` section's workload), ``algorithm="steady_state"`` at
``n_jobs=1`` and ``n_jobs=2`` against RandomizedSearchCV on the same number of candidates, run
in the same process, interleaved. Floors: steady state's speed-up at least 0.95x random
search's, and its fraction of the workers' wall time inside fit+score at ``n_jobs=2`` at least
0.95x random search's.

``heterogeneous``: a synthetic estimator that sleeps for a time set by two parameters, the way a
GAN's cost grows with ``n_filters`` (16-128) and ``n_critic`` (1-10) (``COST_SCALE`` seconds per
16 filters and critic update), and scores by a third; steady state against the generational GA
(``"simple"``) on the same number of evaluations (population ``HETEROGENEOUS_POPULATION``, 2
folds, both stopped by ``max_fits=HETEROGENEOUS_FITS``), ``n_jobs=2`` on loky workers. Floor:
steady state at least 1.3x sooner. The two evaluate different configurations, so their total
sleep differs; ``sooner_at_equal_work`` compares wall time per second of work (the idle time
alone).

``quality``: best CV score and held-out score at an equal number of fits per problem (the
evolutionary searches stop at ``max_fits``) for ``simple``, ``mu_plus_lambda``, ``cma-es``,
``de``, ``steady_state`` and RandomizedSearchCV, on three problems: SVC over digits and
HistGradientBoostingClassifier over breast cancer (``QUALITY_FITS`` fits, 3 folds, population
8), and a small ``GANEstimator`` on the images of one digit of scikit-learn's digits
(``GAN_QUALITY_FITS`` fits, 2 folds, population 4; ``GAN_STEPS`` generator iterations per fit,
scored by the estimator's own ``score``, negative FD, held out: the refitted best's score on
25 % of the images kept out of the search). One line per run, then the mean and standard
deviation over the seeds per problem and search, and for the GAN the CV score of the
estimator's own configuration, which the evolutionary searches start from. Fits run
sequentially, one thread each (TensorFlow's pools included). ``quality_gan`` runs the GAN
problem alone.
"""

import contextlib
import os
import time
import warnings
from typing import NamedTuple

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import KFold, RandomizedSearchCV, cross_val_score, train_test_split
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from gan_estimators import EvolutionarySearchCV, Integer, Real
from gan_estimators.search.workers import (
    cap_process_threads,
    thread_cap_env,
    worker_thread_limits,
)

SPEEDUP_RATIO_FLOOR = 0.95
FRACTION_RATIO_FLOOR = 0.95
HETEROGENEOUS_FLOOR = 1.3
HETEROGENEOUS_FITS = 80
HETEROGENEOUS_POPULATION = 4
COST_SCALE = 0.004
QUALITY_FITS = 96
GAN_QUALITY_FITS = 24
GAN_DIGIT = 5
GAN_STEPS = 100
ALGORITHMS = ("simple", "mu_plus_lambda", "cma-es", "de", "steady_state")


def _base():
    import search_speed

    return search_speed


def _digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


# -- steady state against random search: speed-up and fit fraction --------------------------------


def bench_steady(seeds):
    """SVC over digits: steady state's speed-up beside RandomizedSearchCV's."""
    base = _base()
    X_train, X_test, y_train, y_test = _digits()
    base._evolve_svc(X_train[:300], y_train[:300], seed=0, n_jobs=2, algorithm="steady_state")
    walls = {"steady_state": {1: [], 2: []}, "random": {1: [], 2: []}}
    fractions = {"steady_state": [], "random": []}
    for seed in seeds:
        n_candidates = None
        for name in ("steady_state", "random"):
            for n_jobs in (1, 2):
                if name == "steady_state":
                    search, wall = base._evolve_svc(
                        X_train, y_train, seed, n_jobs, algorithm="steady_state"
                    )
                    n_candidates = n_candidates or search.n_candidates_evaluated_
                else:
                    search, wall = base._random_search(X_train, y_train, seed, n_candidates, n_jobs)
                fraction = base._fit_fraction(
                    base._fit_seconds(search) + base._score_seconds(search), wall, n_jobs
                )
                walls[name][n_jobs].append(wall)
                if n_jobs == 2:
                    fractions[name].append(fraction)
                record = base._svc_record(
                    name,
                    seed,
                    n_jobs,
                    wall,
                    search,
                    X_test,
                    y_test,
                    fit_and_score_fraction=round(fraction, 3),
                )
                base.emit({**record, "section": "steady"})
    speedup = {kind: sum(w[1]) / sum(w[2]) for kind, w in walls.items()}
    fraction = {kind: float(np.mean(v)) for kind, v in fractions.items()}
    speedup_ratio = speedup["steady_state"] / speedup["random"]
    fraction_ratio = fraction["steady_state"] / fraction["random"]
    base.emit(
        {
            "section": "steady",
            "summary": True,
            "seeds": list(seeds),
            "speedup_steady_state": round(speedup["steady_state"], 3),
            "speedup_random": round(speedup["random"], 3),
            "speedup_ratio": round(speedup_ratio, 3),
            "speedup_ratio_floor": SPEEDUP_RATIO_FLOOR,
            "speedup_ok": speedup_ratio >= SPEEDUP_RATIO_FLOOR,
            "fit_and_score_fraction_steady_state_n_jobs_2": round(fraction["steady_state"], 3),
            "fit_and_score_fraction_random_n_jobs_2": round(fraction["random"], 3),
            "fraction_ratio": round(fraction_ratio, 3),
            "fraction_ratio_floor": FRACTION_RATIO_FLOOR,
            "fraction_ok": fraction_ratio >= FRACTION_RATIO_FLOOR,
            **base._load(),
        }
    )


# -- heterogeneous costs: steady state against generations ----------------------------------------


class CostlyCandidate(BaseEstimator):
    """Sleeps ``COST_SCALE * n_filters / 16 * n_critic`` seconds in ``fit``; scores by ``x``
    alone, so the search does not steer towards cheap or costly configurations."""

    def __init__(self, n_filters=64, n_critic=5, x=0.5):
        self.n_filters = n_filters
        self.n_critic = n_critic
        self.x = x

    def fit(self, X, y=None):
        time.sleep(COST_SCALE * self.n_filters / 16 * self.n_critic)
        return self

    def score(self, X, y=None):
        return -((self.x - 0.3) ** 2)


COSTLY_SPACE = {"n_filters": Integer(16, 128), "n_critic": Integer(1, 10), "x": Real(0.0, 1.0)}


def bench_heterogeneous(seeds):
    """Steady state against the generational GA on candidates whose costs differ 80-fold."""
    base = _base()
    X = np.zeros((16, 1))
    walls = {"simple": [], "steady_state": []}
    works = {"simple": [], "steady_state": []}

    def costly_search(algorithm, seed, max_fits=HETEROGENEOUS_FITS):
        return EvolutionarySearchCV(
            CostlyCandidate(),
            COSTLY_SPACE,
            algorithm=algorithm,
            population_size=HETEROGENEOUS_POPULATION,
            generations=50,
            max_fits=max_fits,
            cv=KFold(2),
            n_jobs=2,
            refit=False,
            random_state=seed,
        )

    with worker_thread_limits(2):
        costly_search("simple", 0, max_fits=4).fit(X)  # start the workers
        for seed in seeds:
            for algorithm in ("simple", "steady_state"):
                search = costly_search(algorithm, seed)
                start = time.perf_counter()
                search.fit(X)
                wall = time.perf_counter() - start
                walls[algorithm].append(wall)
                work = base._fit_seconds(search)
                works[algorithm].append(work)
                base.emit(
                    {
                        "section": "heterogeneous",
                        "search": algorithm,
                        "seed": seed,
                        "n_jobs": 2,
                        "evaluations": len(search.cv_results_["params"]),
                        "wall_s": round(wall, 3),
                        "work_s": round(work, 3),
                        "wall_over_work_per_worker": round(wall / (work / 2), 3),
                        "best_cv": round(float(search.best_score_), 5),
                        **base._load(),
                    }
                )
    ratio = sum(walls["simple"]) / sum(walls["steady_state"])
    per_work = {kind: sum(walls[kind]) / sum(works[kind]) for kind in walls}
    base.emit(
        {
            "section": "heterogeneous",
            "summary": True,
            "seeds": list(seeds),
            "wall_s_simple": round(sum(walls["simple"]), 2),
            "wall_s_steady_state": round(sum(walls["steady_state"]), 2),
            "sooner": round(ratio, 3),
            "sooner_floor": HETEROGENEOUS_FLOOR,
            "sooner_ok": ratio >= HETEROGENEOUS_FLOOR,
            "work_s_simple": round(sum(works["simple"]), 2),
            "work_s_steady_state": round(sum(works["steady_state"]), 2),
            "sooner_at_equal_work": round(per_work["simple"] / per_work["steady_state"], 3),
            **base._load(),
        }
    )


# -- quality at equal fits ----------------------------------------------------------------------


class QualityProblem(NamedTuple):
    """A problem of the ``quality`` section and the budget every search gets on it."""

    estimator: object
    space: dict
    distributions: dict
    split: tuple  # X_train, X_test, y_train, y_test (y None for the GAN)
    fits: int
    cv: int
    population_size: int


def _svc_problem():
    return QualityProblem(
        SVC(), _base().SVC_SPACE, _base().SVC_DISTRIBUTIONS, _digits(), QUALITY_FITS, 3, 8
    )


def _hgb_problem():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    space = {
        "learning_rate": Real(1e-3, 1.0, log=True),
        "max_iter": Integer(10, 100),
        "max_leaf_nodes": Integer(2, 32),
        "l2_regularization": Real(1e-4, 10.0, log=True),
    }
    distributions = {
        "learning_rate": stats.loguniform(1e-3, 1.0),
        "max_iter": stats.randint(10, 101),
        "max_leaf_nodes": stats.randint(2, 33),
        "l2_regularization": stats.loguniform(1e-4, 10.0),
    }
    return QualityProblem(
        HistGradientBoostingClassifier(random_state=0),
        space,
        distributions,
        (X_train, X_test, y_train, y_test),
        QUALITY_FITS,
        3,
        8,
    )


def _gan_problem():
    from gan_estimators import GANEstimator
    from gan_estimators.datasets import extract_class, load_digits_images

    X, y = load_digits_images(return_X_y=True)
    images = extract_class(X, y, GAN_DIGIT)
    X_train, X_test = train_test_split(images, test_size=0.25, random_state=0)
    # a tiny network and a fixed budget, so that a fit takes a second or two on one thread
    estimator = GANEstimator(latent_dim=16, n_steps=GAN_STEPS, random_state=0)
    space = {
        "learning_rate": Real(1e-4, 1e-2, log=True),
        "n_filters": Integer(8, 32),
        "batch_size": Integer(16, 64),
        "alpha": Real(0.05, 0.5),
    }
    distributions = {
        "learning_rate": stats.loguniform(1e-4, 1e-2),
        "n_filters": stats.randint(8, 33),
        "batch_size": stats.randint(16, 65),
        "alpha": stats.uniform(0.05, 0.45),
    }
    return QualityProblem(
        estimator, space, distributions, (X_train, X_test, None, None), GAN_QUALITY_FITS, 2, 4
    )


QUALITY_PROBLEMS = {
    "svc_digits": _svc_problem,
    "hist_gradient_boosting_breast_cancer": _hgb_problem,
    "gan_digit_5": _gan_problem,
}


@contextlib.contextmanager
def _one_thread_per_fit():
    """BLAS/OpenMP and TensorFlow pools of this process capped to one thread, then restored.

    TensorFlow sizes its pools once, when its runtime starts: the cap holds if this is the first
    use of TensorFlow in the process (as in ``--sections quality``)."""
    env = thread_cap_env(1, environ={})
    saved = {var: os.environ.get(var) for var in env}
    try:
        # one thread per fit: pools sized to the machine thrash on a shared one
        with threadpool_limits(limits=1):
            cap_process_threads(env)
            yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def bench_quality(seeds, problems=tuple(QUALITY_PROBLEMS)):
    """Best CV and held-out scores of every algorithm and random search at equal fits."""
    with _one_thread_per_fit(), warnings.catch_warnings():
        # GAN fits report their diagnostics as warnings; not the point of this section
        warnings.simplefilter("ignore", UserWarning)
        for problem in problems:
            _quality(seeds, problem, QUALITY_PROBLEMS[problem]())


def bench_quality_gan(seeds):
    """The ``quality`` section on the GAN problem alone."""
    bench_quality(seeds, problems=("gan_digit_5",))


def _quality(seeds, problem, spec):
    base = _base()
    X_train, X_test, y_train, y_test = spec.split
    n_configurations = spec.fits // spec.cv
    summary = {}
    for seed in seeds:
        searches = {
            algorithm: EvolutionarySearchCV(
                spec.estimator,
                spec.space,
                algorithm=algorithm,
                population_size=spec.population_size,
                generations=50,
                max_fits=spec.fits,
                cv=spec.cv,
                random_state=seed,
            )
            for algorithm in ALGORITHMS
        }
        searches["random"] = RandomizedSearchCV(
            spec.estimator,
            spec.distributions,
            n_iter=n_configurations,
            cv=spec.cv,
            random_state=seed,
        )
        for kind, search in searches.items():
            start = time.perf_counter()
            search.fit(X_train, y_train)
            wall = time.perf_counter() - start
            record = {
                "section": "quality",
                "problem": problem,
                "search": kind,
                "seed": seed,
                "fits": len(search.cv_results_["params"]) * search.n_splits_,
                "wall_s": round(wall, 2),
                "best_cv": round(float(search.best_score_), 5),
                "held_out": round(float(search.score(X_test, y_test)), 5),
                **base._load(),
            }
            base.emit(record)
            entry = summary.setdefault(kind, {"best_cv": [], "held_out": []})
            entry["best_cv"].append(record["best_cv"])
            entry["held_out"].append(record["held_out"])
    # the configuration every evolutionary search starts from, which random search does not see
    start_cv = float(np.mean(cross_val_score(spec.estimator, X_train, y_train, cv=spec.cv)))
    for kind, entry in summary.items():
        base.emit(
            {
                "section": "quality",
                "summary": True,
                "problem": problem,
                "search": kind,
                "seeds": list(seeds),
                "fits": spec.fits,
                "cv": spec.cv,
                "population_size": spec.population_size,
                "mean_best_cv": round(float(np.mean(entry["best_cv"])), 5),
                "std_best_cv": round(float(np.std(entry["best_cv"])), 5),
                "mean_held_out": round(float(np.mean(entry["held_out"])), 5),
                "std_held_out": round(float(np.std(entry["held_out"])), 5),
                "estimator_configuration_cv": round(start_cv, 5),
            }
        )


SECTIONS = {
    "steady": bench_steady,
    "heterogeneous": bench_heterogeneous,
    "quality": bench_quality,
    "quality_gan": bench_quality_gan,
}
