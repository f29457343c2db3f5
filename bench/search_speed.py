"""Benchmark of EvolutionarySearchCV: parallel speed-up, cache savings, quality vs random search.

Prints JSON lines: one per run, then one summary per section, each with the floors it is
compared against. Sections are functions registered in ``SECTIONS``; run a subset with
``--sections``. The baseline of every comparison (``n_jobs=1``, RandomizedSearchCV) runs in the
same process, interleaved with the runs it is compared to, so machine load hits both alike.

SVC section: tune an SVC on scikit-learn's digits (``C`` and ``gamma`` log-scale reals,
``kernel`` categorical; 3-fold CV; population 10, 5 generations; five seeds) and report

- wall seconds at ``n_jobs=1`` and ``n_jobs=2`` (floor: speed-up >= 1.7 on 2 cores), beside
  two references measured in the same run: RandomizedSearchCV's own speed-up on the same
  number of candidates, and the two-process ceiling (:func:`two_process_ceiling`: the speed-up
  of two workers running SVC fits with no search around them),
- the fits made against the fits without the cache (a cache-less GA fits every new
  individual, repeats included), and ``revaried``: individuals that decoded to an already
  evaluated configuration and were varied again, so that the fits went to new configurations;
  also with ``gene_precision=1`` (the reference's one-decimal cache key), a coarser space,
- best CV and held-out scores against RandomizedSearchCV given the same number of fits
  (floor: mean best CV score >= random search's),
- the fraction of wall time spent inside fits, ``sum(fit times) / (wall * n_jobs)`` (floor 0.6),
  beside the same fraction for RandomizedSearchCV and the share of fits in the fit-and-score
  tasks themselves (scoring an SVC here is not cheap next to fitting it), which bounds the
  fraction of any search of this workload.

WGAN section: a small evolution of ``WGANEstimator.reference()`` over
``reference_space()`` on one class of scikit-learn's digits (digit 0; 75 % to search on, 25 %
held out): population 4, 3 generations, 10 generator iterations per candidate, 2-fold CV,
``n_jobs=2``, scored by the estimator's own ``score`` (negative FD).  One JSON line per
generation (from the search's callback), then the run: wall seconds, fits, fits without the
cache, cache hits, best CV score, and the held-out ``score`` of the refitted best beside the
baseline, the untuned reference configuration with the same budget fitted in the same process.
A run takes a few minutes, so the section uses only the first seed.

Sections comparing the algorithms (``steady``: steady state's speed-up beside random search's;
``heterogeneous``: steady state against generations on costs that differ 80-fold;
``quality``: every algorithm and random search at equal fits) live in
``bench/search_algorithms.py``; see its docstring for their workloads and floors.

Usage::

    python bench/search_speed.py                 # every section, five seeds
    python bench/search_speed.py --sections svc --seeds 0 1
    python bench/search_speed.py --sections wgan  # the WGAN evolution only (first seed: 0)
    python bench/search_speed.py --sections steady heterogeneous quality --seeds 0 1
"""

import argparse
import json
import os
import sys
import time
import warnings

import joblib
import numpy as np
import search_algorithms
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.model_selection import RandomizedSearchCV, train_test_split
from sklearn.svm import SVC

from gan_estimators import EvolutionarySearchCV, Real
from gan_estimators.search.workers import worker_thread_limits

SPEEDUP_FLOOR = 1.7
FIT_FRACTION_FLOOR = 0.6


def emit(record):
    print(json.dumps(record), flush=True)


def _load():
    return {"loadavg_1min": round(os.getloadavg()[0], 2), "cpu_count": joblib.cpu_count()}


def _fit_seconds(search):
    results = search.cv_results_
    return float(np.nansum(results["mean_fit_time"]) * search.n_splits_)


def _assessed_fits(search):
    """Fits a search without the cache would have made: every assessed individual fitted."""
    assessed = sum(
        entry["nevals"] + entry["restored"] + entry["cache_hits"] for entry in search.logbook_
    )
    return assessed * search.n_splits_


def _revaried(search):
    """New individuals that decoded to a known configuration and were varied again."""
    return int(sum(search.logbook_.select("revaried")))


def _score_seconds(search):
    results = search.cv_results_
    return float(np.nansum(results["mean_score_time"]) * search.n_splits_)


def _fit_fraction(fit_seconds, wall, n_jobs):
    """The fit fraction: fit seconds over the wall seconds of all ``n_jobs`` workers."""
    return fit_seconds / (wall * n_jobs)


# -- SVC on digits ---------------------------------------------------------------------------------

SVC_SPACE = {
    "C": Real(1e-3, 1e3, log=True),
    "gamma": Real(1e-5, 1e-1, log=True),
    "kernel": ["rbf", "linear"],
}
# the same space for RandomizedSearchCV
SVC_DISTRIBUTIONS = {
    "C": stats.loguniform(1e-3, 1e3),
    "gamma": stats.loguniform(1e-5, 1e-1),
    "kernel": ["rbf", "linear"],
}


def _evolve_svc(X, y, seed, n_jobs, **kwargs):
    search = EvolutionarySearchCV(
        SVC(),
        SVC_SPACE,
        cv=3,
        population_size=10,
        generations=5,
        random_state=seed,
        n_jobs=n_jobs,
        **kwargs,
    )
    start = time.perf_counter()
    search.fit(X, y)
    return search, time.perf_counter() - start


def _svc_task_loop(X, y, n_tasks):
    """``n_tasks`` fit-and-score tasks like a search's (3-fold split, varied gamma); seconds."""
    split = 2 * len(X) // 3
    start = time.perf_counter()
    for index in range(n_tasks):
        model = SVC(C=3.0, gamma=1e-3 * (1 + index % 5)).fit(X[:split], y[:split])
        model.score(X[split:], y[split:])
    return time.perf_counter() - start


def two_process_ceiling(X, y, n_tasks=20, repeats=3):
    """The speed-up two worker processes get on this machine with no search around them.

    One worker runs ``n_tasks`` SVC fit-and-score tasks alone, then two workers run the same
    tasks each, at once, with nothing to dispatch or collect between tasks: ``2 × alone / both``
    is the most any ``n_jobs=2`` run of this workload can gain here.  Median of ``repeats``.
    """
    ratios = []
    with worker_thread_limits(2), joblib.Parallel(n_jobs=2) as parallel:
        for _ in range(repeats):
            alone = parallel(joblib.delayed(_svc_task_loop)(X, y, n_tasks) for _ in range(1))[0]
            start = time.perf_counter()
            parallel(joblib.delayed(_svc_task_loop)(X, y, n_tasks) for _ in range(2))
            ratios.append(2 * alone / (time.perf_counter() - start))
    return float(np.median(ratios))


def _random_search(X, y, seed, n_candidates, n_jobs):
    search = RandomizedSearchCV(
        SVC(), SVC_DISTRIBUTIONS, n_iter=n_candidates, cv=3, random_state=seed, n_jobs=n_jobs
    )
    start = time.perf_counter()
    # The worker settings of EvolutionarySearchCV, so that both reuse the same worker
    # processes: loky restarts its workers whenever they change.
    with worker_thread_limits(n_jobs):
        search.fit(X, y)
    return search, time.perf_counter() - start


def _svc_record(kind, seed, n_jobs, wall, search, X_test, y_test, **extra):
    """One run's JSON record: a fitted search's fits and best scores, then ``extra``."""
    return {
        "section": "svc",
        "search": kind,
        "seed": seed,
        "n_jobs": n_jobs,
        "wall_s": round(wall, 3),
        "fits": len(search.cv_results_["params"]) * search.n_splits_,
        "best_cv": round(float(search.best_score_), 5),
        "held_out": round(float(search.score(X_test, y_test)), 5),
        **extra,
        **_load(),
    }


def bench_svc(seeds):
    """Yield the SVC section's JSON records."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    # start the worker processes before timing anything
    _evolve_svc(X_train[:300], y_train[:300], seed=0, n_jobs=2)
    ceiling = two_process_ceiling(X_train, y_train)
    emit({"section": "svc", "two_process_ceiling": round(ceiling, 3), **_load()})

    walls = {1: [], 2: []}
    random_walls = {1: [], 2: []}
    fractions = {1: [], 2: []}
    random_fractions = {1: [], 2: []}
    fit_shares = []
    best = {"evolutionary": [], "random": []}
    held_out = {"evolutionary": [], "random": []}
    fits = {"with_cache": [], "without_cache": [], "grid": [], "grid_without_cache": []}
    for seed in seeds:
        for n_jobs in (1, 2):
            search, wall = _evolve_svc(X_train, y_train, seed, n_jobs)
            fit_s, score_s = _fit_seconds(search), _score_seconds(search)
            fraction = _fit_fraction(fit_s, wall, n_jobs)
            walls[n_jobs].append(wall)
            fractions[n_jobs].append(fraction)
            record = _svc_record(
                "evolutionary",
                seed,
                n_jobs,
                wall,
                search,
                X_test,
                y_test,
                fits_without_cache=_assessed_fits(search),
                fits_population_x_generations=10 * 5 * search.n_splits_,
                cache_hits=search.cache_hits_,
                revaried=_revaried(search),
                fit_fraction=round(fraction, 3),
                fit_and_score_fraction=round(_fit_fraction(fit_s + score_s, wall, n_jobs), 3),
                best_params=dict(search.best_params_),
            )
            emit(record)
            if n_jobs == 1:
                fit_shares.append(fit_s / (fit_s + score_s))
                best["evolutionary"].append(record["best_cv"])
                held_out["evolutionary"].append(record["held_out"])
                fits["with_cache"].append(record["fits"])
                fits["without_cache"].append(record["fits_without_cache"])
                n_candidates = search.n_candidates_evaluated_

        # scikit-learn's own search on the same number of candidates, for its speed-up too
        for n_jobs in (1, 2):
            random_search, wall = _random_search(X_train, y_train, seed, n_candidates, n_jobs)
            random_walls[n_jobs].append(wall)
            fraction = _fit_fraction(_fit_seconds(random_search), wall, n_jobs)
            random_fractions[n_jobs].append(fraction)
            record = _svc_record(
                "random",
                seed,
                n_jobs,
                wall,
                random_search,
                X_test,
                y_test,
                fit_fraction=round(fraction, 3),
            )
            emit(record)
            if n_jobs == 1:
                best["random"].append(record["best_cv"])
                held_out["random"].append(record["held_out"])

        # the reference's coarse cache key: genes rounded to one decimal
        grid, wall = _evolve_svc(X_train, y_train, seed, n_jobs=1, gene_precision=1)
        record = _svc_record(
            "evolutionary_gene_precision_1",
            seed,
            1,
            wall,
            grid,
            X_test,
            y_test,
            fits_without_cache=_assessed_fits(grid),
            cache_hits=grid.cache_hits_,
            revaried=_revaried(grid),
        )
        emit(record)
        fits["grid"].append(record["fits"])
        fits["grid_without_cache"].append(record["fits_without_cache"])

    speedup = sum(walls[1]) / sum(walls[2])
    mean_best = {k: float(np.mean(v)) for k, v in best.items()}
    fit_fraction = {n: float(np.mean(v)) for n, v in fractions.items()}
    emit(
        {
            "section": "svc",
            "summary": True,
            "seeds": list(seeds),
            "wall_s_n_jobs_1": round(sum(walls[1]), 2),
            "wall_s_n_jobs_2": round(sum(walls[2]), 2),
            "speedup": round(speedup, 3),
            "speedup_floor": SPEEDUP_FLOOR,
            "speedup_ok": speedup >= SPEEDUP_FLOOR,
            "random_search_speedup": round(sum(random_walls[1]) / sum(random_walls[2]), 3),
            "two_process_ceiling": round(ceiling, 3),
            "fits": int(np.sum(fits["with_cache"])),
            "fits_without_cache": int(np.sum(fits["without_cache"])),
            "fits_gene_precision_1": int(np.sum(fits["grid"])),
            "fits_without_cache_gene_precision_1": int(np.sum(fits["grid_without_cache"])),
            "mean_best_cv_evolutionary": round(mean_best["evolutionary"], 5),
            "mean_best_cv_random": round(mean_best["random"], 5),
            "best_cv_ok": mean_best["evolutionary"] >= mean_best["random"],
            "mean_held_out_evolutionary": round(float(np.mean(held_out["evolutionary"])), 5),
            "mean_held_out_random": round(float(np.mean(held_out["random"])), 5),
            "fit_fraction_n_jobs_1": round(fit_fraction[1], 3),
            "fit_fraction_n_jobs_2": round(fit_fraction[2], 3),
            "fit_fraction_floor": FIT_FRACTION_FLOOR,
            # the same fraction for scikit-learn's own search on the same workload, and the
            # fraction a search with no overhead at all would reach at n_jobs=1: fits are
            # only this share of each fit-and-score task
            "random_search_fit_fraction_n_jobs_1": round(float(np.mean(random_fractions[1])), 3),
            "random_search_fit_fraction_n_jobs_2": round(float(np.mean(random_fractions[2])), 3),
            "fit_share_of_fit_and_score": round(float(np.mean(fit_shares)), 3),
            "fit_fraction_ok": min(fit_fraction.values()) >= FIT_FRACTION_FLOOR,
            **_load(),
        }
    )


# -- WGAN on digits with the reference space ------------------------------------------------------

WGAN_DIGIT = 0
WGAN_SEARCH = {"population_size": 4, "generations": 3, "cv": 2, "n_jobs": 2}
# Generator iterations per candidate.  A budget in steps, not seconds, keeps the run
# reproducible on a busy machine.  A candidate's fit is mostly graph compilation, so a few
# iterations add little to it.
WGAN_STEPS = 10


def _wgan_estimator(seed, n_steps=WGAN_STEPS):
    from gan_estimators import WGANEstimator

    return WGANEstimator.reference(n_steps=n_steps, random_state=seed)


def _evolve_wgan(X, seed, *, n_steps=WGAN_STEPS, callbacks=None, **overrides):
    from gan_estimators import reference_space

    search = EvolutionarySearchCV(
        _wgan_estimator(seed, n_steps),
        reference_space(),
        random_state=seed,
        callbacks=callbacks,
        **{**WGAN_SEARCH, **overrides},
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Reported through diagnostics_, not the point of this benchmark.
        warnings.simplefilter("ignore", UserWarning)
        search.fit(X)
    return search, time.perf_counter() - start


def bench_wgan(seeds):
    """Yield the WGAN section's JSON records (first seed only: a run takes minutes)."""
    from gan_estimators.datasets import extract_class, load_digits_images

    seed = seeds[0]
    X, y = load_digits_images(return_X_y=True)
    images = extract_class(X, y, WGAN_DIGIT)
    X_train, X_test = train_test_split(images, test_size=0.25, random_state=0)

    # start the worker processes (and TensorFlow in them) before timing anything
    _evolve_wgan(X_train, seed, n_steps=1, population_size=2, generations=1, refit=False)

    def per_generation(record):
        # the search's callback: one line per generation, as the logbook records it
        line = {"section": "wgan", "generation": int(record["gen"])}
        for key in ("nevals", "cache_hits", "revaried", "best", "mean", "elapsed"):
            value = record.get(key)
            line[key] = round(float(value), 5) if isinstance(value, float) else value
        emit(line)

    search, wall = _evolve_wgan(X_train, seed, callbacks=[per_generation])
    best = search.best_estimator_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        start = time.perf_counter()
        baseline = _wgan_estimator(seed).fit(X_train)
        baseline_wall = time.perf_counter() - start
    n_jobs = WGAN_SEARCH["n_jobs"]
    emit(
        {
            "section": "wgan",
            "search": "evolutionary",
            "space": "reference_space",
            "estimator": "WGANEstimator.reference",
            "digit": WGAN_DIGIT,
            "n_train": len(X_train),
            "n_test": len(X_test),
            "seed": seed,
            **WGAN_SEARCH,
            "candidate_n_steps": WGAN_STEPS,
            "wall_s": round(wall, 3),
            "fits": search.n_candidates_evaluated_ * search.n_splits_,
            "fits_without_cache": _assessed_fits(search),
            "fits_population_x_generations": (
                WGAN_SEARCH["population_size"] * WGAN_SEARCH["generations"] * search.n_splits_
            ),
            "cache_hits": search.cache_hits_,
            "revaried": _revaried(search),
            "stop_reason": getattr(search, "stop_reason_", None),
            "best_cv": round(float(search.best_score_), 5),
            "held_out": round(float(best.score(X_test)), 5),
            "held_out_baseline": round(float(baseline.score(X_test)), 5),
            "baseline_fit_s": round(baseline_wall, 3),
            "refit_s": round(float(search.refit_time_), 3),
            "fit_fraction": round(_fit_seconds(search) / (wall * n_jobs), 3),
            "best_params": {
                k: (float(v) if isinstance(v, float) else int(v))
                for k, v in search.best_params_.items()
            },
            **_load(),
        }
    )


# Sections, in running order. A section is a function taking the list of seeds and emitting
# JSON records through ``emit``.
SECTIONS = {
    "svc": bench_svc,
    "wgan": bench_wgan,
    **search_algorithms.SECTIONS,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", choices=sorted(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    emit({"benchmark": "search_speed", "python": sys.version.split()[0], **_load()})
    for name in args.sections:
        SECTIONS[name](args.seeds)


if __name__ == "__main__":
    main()
