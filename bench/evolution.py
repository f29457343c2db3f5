"""Does evolution beat the package defaults at equal compute?  Three searches side by side.

For each dataset -- MNIST digit 5, Fashion-MNIST class 7 (``../shared/data`` or
``--data-home``) and the whole of scikit-learn's 8x8 digits (all classes, a quarter held out
as its test split) -- and each seed, in one process so that machine load hits all alike:

- **defaults**: ``GANEstimator()`` trained for ``--refit-seconds`` (``max_time``, graph
  compilation included);
- **multi-fidelity**: ``EvolutionarySearchCV(..., resource="max_time")`` over
  :func:`demo_space`, the defaults in generation 0, each generation's offspring trained for
  ``--refit-seconds / factor**2`` seconds and the best ``1/factor`` promoted ``x factor`` up to
  ``--refit-seconds`` (three rungs), for ``--search-seconds`` of wall clock;
- **single budget**: the same search with every candidate trained for ``--refit-seconds``
  (``resource=None``), as many fits as the same wall clock allows;
- **random**: :class:`~sklearn.model_selection.RandomizedSearchCV` over the same space (each
  dimension drawn as the genetic algorithm draws its first generation), as many candidates at
  ``--refit-seconds`` as the same wall clock allows;

then each search's best configuration is refitted for ``--refit-seconds`` on the training
images, and every model is scored by the package's FD (``frechet_distance`` in the default
feature map fitted on the training images, seed 0) between ``--n-samples`` samples and at
most as many test images.  Candidates are scored on one 75/25 split of the training images.

Printed as JSON lines: one per (dataset, seed, method) with the FD, its ratio to the defaults'
FD of that seed, the search's wall seconds, configurations per rung, the fraction of fit time
spent in each rung and cache hits; then one summary per dataset with every method's mean and
standard deviation over the seeds, the mean ratio and the floors (evolved mean FD at most the
defaults'; at least 10% lower).

Usage::

    python bench/evolution.py                                   # hours: 3 datasets x 3 seeds
    python bench/evolution.py --search-seconds 60 --refit-seconds 10 --seeds 1 --datasets digits
"""

import argparse
import json
import pathlib
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import RandomizedSearchCV, ShuffleSplit
from sklearn.utils import check_random_state

from gan_estimators import EvolutionarySearchCV, GANEstimator
from gan_estimators.cli.training import demo_param_space, rung_report
from gan_estimators.datasets import extract_class, load_digits_images, load_mnist
from gan_estimators.quality.diagnostics import GANTrainingWarning
from gan_estimators.quality.features import resolve_feature_map
from gan_estimators.quality.metrics import frechet_distance

#: Dataset name -> (source, class or None for all classes).
DATASETS = {"mnist": ("mnist", 5), "fashion": ("fashion", 7), "digits": ("digits", None)}
METHODS = ("multi_fidelity", "single_budget", "random")
IMPROVEMENT_FLOOR = 0.10


def emit(record):
    print(json.dumps(record), flush=True)


def load(name, data_home):
    """(train, test) images in [0, 1] of dataset ``name``."""
    source, label = DATASETS[name]
    if source == "digits":
        X, _ = load_digits_images(return_X_y=True)
        order = np.random.default_rng(0).permutation(len(X))
        n_test = len(X) // 4
        return X[np.sort(order[n_test:])], X[np.sort(order[:n_test])]
    home = None if data_home is None else pathlib.Path(data_home) / source
    splits = []
    for split in ("train", "test"):
        X, y = load_mnist(source, split, data_home=home, as_float=True)
        splits.append(extract_class(X, y, label))
    return tuple(splits)


def demo_space():
    """The search space of ``gan-estimators demo`` (the same genes, the same ranges)."""
    return demo_param_space(GANEstimator(), time_budget=True)


class _Uniform:
    """A dimension as a ``RandomizedSearchCV`` distribution: a uniform gene, decoded."""

    def __init__(self, dimension):
        self.dimension = dimension

    def rvs(self, random_state=None):
        return self.dimension.decode(float(check_random_state(random_state).uniform()))


def plan(args):
    """Population, generations and fits per method for ``--search-seconds`` of wall clock."""
    factor = args.factor
    fits_per_worker = args.search_seconds * args.n_jobs / args.refit_seconds
    # Each rung of a multi-fidelity generation costs population * min_resources seconds.
    rungs = 3
    multi_generation = args.population * rungs * args.refit_seconds / factor ** (rungs - 1)
    multi_generations = max(1, int(args.search_seconds * args.n_jobs // multi_generation))
    n_fits = max(2, int(fits_per_worker))
    single_population = max(2, min(args.population, n_fits // 3))
    return {
        "multi_fidelity": {
            "population_size": args.population,
            "generations": multi_generations,
            "resource": "max_time",
            "min_resources": args.refit_seconds / factor ** (rungs - 1),
            "max_resources": args.refit_seconds,
            "factor": factor,
        },
        "single_budget": {
            "population_size": single_population,
            "generations": max(1, n_fits // single_population),
        },
        "random": {"n_iter": n_fits},
    }


def make_search(method, settings, seed, args):
    estimator = GANEstimator(n_steps=None, max_time=args.refit_seconds, random_state=seed)
    cv = ShuffleSplit(n_splits=1, test_size=0.25, random_state=seed)
    space = demo_space()
    common = {"cv": cv, "n_jobs": args.n_jobs, "refit": False, "random_state": seed}
    if method == "random":
        distributions = {name: _Uniform(dim) for name, dim in _dimensions(space).items()}
        return RandomizedSearchCV(estimator, distributions, **settings, **common)
    return EvolutionarySearchCV(
        estimator, space, max_time=args.search_seconds, **settings, **common
    )


def _dimensions(space):
    from gan_estimators.search.space import as_dimension

    return {name: as_dimension(spec, name) for name, spec in space.items()}


def search_facts(search):
    """Configurations, fit seconds and warnings per rung (``gan-estimators demo``'s report),
    and cache hits."""
    return {**rung_report(search), "cache_hits": int(getattr(search, "cache_hits_", 0))}


class Scorer:
    """The package FD between a model's samples and the test split, in one feature space."""

    def __init__(self, train, test, n_samples):
        self.mapping = resolve_feature_map("auto", train, random_state=0)
        self.real = self.mapping.transform(test[:n_samples])
        self.n_samples = n_samples

    def __call__(self, model, seed):
        fake = model.sample(self.n_samples, random_state=seed)
        return float(frechet_distance(self.real, self.mapping.transform(fake)))


def fit_for(estimator, train, seconds):
    """``estimator`` trained for ``seconds`` from scratch; returns (model, wall seconds)."""
    model = clone(estimator).set_params(n_steps=None, max_time=seconds, verbose=0)
    tick = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        model.fit(train)
    return model, time.perf_counter() - tick


def run_dataset(name, args):
    train, test = load(name, args.data_home)
    score = Scorer(train, test, args.n_samples)
    settings = plan(args)
    emit({"dataset": name, "n_train": len(train), "n_test": len(test), "plan": settings})
    fds = {method: [] for method in ("defaults", *args.methods)}
    for seed in range(args.seeds):
        defaults, seconds = fit_for(GANEstimator(random_state=seed), train, args.refit_seconds)
        fd = score(defaults, seed)
        fds["defaults"].append(fd)
        base = {"dataset": name, "seed": seed}
        emit(
            {
                **base,
                "method": "defaults",
                "fd": round(fd, 4),
                "n_steps": defaults.n_steps_,
                "fit_seconds": round(seconds, 1),
            }
        )
        for method in args.methods:
            search = make_search(method, settings[method], seed, args)
            tick = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", GANTrainingWarning)
                search.fit(train)
            search_seconds = time.perf_counter() - tick
            config = clone(search.estimator).set_params(**search.best_params_)
            best, seconds = fit_for(config, train, args.refit_seconds)
            fd = score(best, seed)
            fds[method].append(fd)
            emit(
                {
                    **base,
                    "method": method,
                    "fd": round(fd, 4),
                    "ratio_to_defaults": round(fd / fds["defaults"][-1], 4),
                    "best_params": search.best_params_,
                    "n_steps": best.n_steps_,
                    "search_seconds": round(search_seconds, 1),
                    **search_facts(search),
                }
            )
    summary = {"dataset": name, "summary": True, "seeds": args.seeds}
    for method, values in fds.items():
        summary[method] = {
            "fd_mean": round(float(np.mean(values)), 4),
            "fd_std": round(float(np.std(values)), 4),
        }
        if method != "defaults":
            ratios = np.asarray(values) / np.asarray(fds["defaults"])
            summary[method]["ratio_mean"] = round(float(ratios.mean()), 4)
    if "multi_fidelity" in fds:
        evolved, default = np.mean(fds["multi_fidelity"]), np.mean(fds["defaults"])
        summary["floor_not_worse"] = bool(evolved <= default)
        summary["floor_10_percent_better"] = bool(evolved <= (1 - IMPROVEMENT_FLOOR) * default)
    emit(summary)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--search-seconds", type=float, default=600.0)
    parser.add_argument("--refit-seconds", type=float, default=60.0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--population", type=int, default=9)
    parser.add_argument("--factor", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--n-samples", type=int, default=2000)
    parser.add_argument(
        "--data-home", default=str(pathlib.Path(__file__).parents[2] / "shared" / "data")
    )
    args = parser.parse_args(argv)
    for name in args.datasets:
        run_dataset(name, args)


if __name__ == "__main__":
    main()
