"""Sample quality reached per second of training: estimator defaults against the real-data floor.

For MNIST digit 5 and Fashion-MNIST class 7 (train and test splits from ``../shared/data``, or
``--data-home``), each configuration is trained on the class's training images for a
cumulative wall-clock budget of 30, 60 and 150 s (``--budgets``; graph compilation included);
after each budget ``--n-samples`` samples (2,000) are scored against the class's test split.
Budgets are reached by continuing one run (``partial_fit`` with ``max_time`` set to the
remaining seconds), so one 150-s run gives all three points; ``--fresh`` trains a new
estimator per budget instead.

All metrics are computed in one feature space per dataset: the package's default feature map
(``feature_map="auto"``) fitted on the class's training images with seed 0, the same map each
estimator fits for its own ``score``.  The real-vs-real floor compares ``--n-samples`` training
images with the test split.  Configurations run in one process, their budgets interleaved, so
machine load hits all of them alike:

- ``default``: ``GANEstimator()``, the package's defaults (the baseline of every comparison);
- ``reference``: :meth:`WGANEstimator.reference` (docs/user_guide/reference_configuration.rst);
- ``--estimator wgan``: ``WGANEstimator()`` with its Wasserstein defaults, overridden by
  ``--params JSON``; ``--estimator gan --params JSON`` does the same from ``GANEstimator()``;
- ``--config JSON --name NAME``: ``GANEstimator(**JSON)``.

Each record names the class it used and the parameters that differ from ``GANEstimator()``'s.

Printed as JSON lines: one per (dataset, configuration, budget) with FD, KID, recall,
coverage and duplicate fraction, FD / floor, and the generator iterations done; then one
summary per dataset with the floor check of every configuration (within 2x the floor's FD at
60 s).

Usage::

    python bench/time_to_quality.py                        # both datasets, 30/60/150 s
    python bench/time_to_quality.py --datasets mnist --budgets 10 20
    python bench/time_to_quality.py --config '{"n_filters": 16}' --name small
    python bench/time_to_quality.py --configs default --config '{"batch_size": 32}' --name b32 \\
        --config '{"batch_size": 128}' --name b128     # configurations interleaved in one run
    python bench/time_to_quality.py --configs default --budgets 60 --estimator wgan
    python bench/time_to_quality.py --configs default --estimator wgan --params '{"n_critic": 2}'
"""

import argparse
import functools
import json
import os
import pathlib
import time

import numpy as np

from gan_estimators import GANEstimator, WGANEstimator
from gan_estimators.datasets import extract_class, load_mnist
from gan_estimators.quality.features import resolve_feature_map
from gan_estimators.quality.metrics import compute_metrics

DATASETS = {"mnist": 5, "fashion": 7}
METRICS = ("fd", "kid", "recall", "coverage", "duplicate_fraction")
FLOOR_RATIO = 2.0
FLOOR_BUDGET = 60.0

ESTIMATORS = {"gan": GANEstimator, "wgan": WGANEstimator}


def emit(record):
    print(json.dumps(record), flush=True)


def _load_class(data_home, kind, split):
    X, y = load_mnist(kind, split, data_home=data_home / kind, download_if_missing=False)
    return extract_class(X, y, DATASETS[kind]).astype(np.float32) / 255.0


def _round(metrics):
    return {name: round(float(value), 5) for name, value in metrics.items()}


def _configurations(args):
    """Map each configuration's name to a function building its estimator."""
    fixed = {"n_steps": None, "random_state": args.seed}
    configs = {
        "default": functools.partial(GANEstimator, **fixed),
        "reference": functools.partial(WGANEstimator.reference, **fixed),
    }
    extra = []
    for index, config in enumerate(args.config):
        name = args.name[index] if index < len(args.name) else f"custom_{index}"
        configs[name] = functools.partial(GANEstimator, **{**fixed, **config})
        extra.append(name)
    for index, kind in enumerate(args.estimator):
        overrides = args.params[index] if index < len(args.params) else {}
        name = kind if index == 0 else f"{kind}_{index}"
        configs[name] = functools.partial(ESTIMATORS[kind], **{**fixed, **overrides})
        extra.append(name)
    return {name: configs[name] for name in args.configs + extra}


def _differing_params(estimator, baseline):
    """The parameters of ``estimator`` that differ from those of ``baseline`` (JSON-ready)."""
    ours = estimator.get_params(deep=False)
    theirs = baseline.get_params(deep=False)
    return {
        name: value
        for name, value in sorted(ours.items())
        if name not in ("n_steps", "max_time", "random_state") and theirs.get(name) != value
    }


def _train_to(estimator, train, budget, fresh):
    """Train ``estimator`` until its training clock reaches ``budget`` seconds."""
    if fresh or not hasattr(estimator, "history_"):
        estimator.set_params(max_time=budget)
        estimator.fit(train)
    else:
        remaining = budget - estimator.history_["elapsed"][-1]
        if remaining > 0:
            estimator.set_params(max_time=remaining)
            estimator.partial_fit(train)
    return estimator


def run_dataset(kind, args):
    train = _load_class(args.data_home, kind, "train")
    test = _load_class(args.data_home, kind, "test")
    rng = np.random.default_rng(args.seed)
    feature_map = resolve_feature_map("auto", train, random_state=0)
    test_features = feature_map.transform(test)

    floor_real = train[rng.permutation(len(train))[: args.n_samples]]
    floor = compute_metrics(test_features, feature_map.transform(floor_real), list(METRICS))
    emit(
        {
            "dataset": kind,
            "label": DATASETS[kind],
            "configuration": "real-vs-real floor",
            "n_train": len(train),
            "n_test": len(test),
            "n_samples": args.n_samples,
            **_round(floor),
        }
    )

    builders = _configurations(args)
    baseline = GANEstimator()
    estimators = {name: None for name in builders}
    results, iterations = {}, {}
    for budget in args.budgets:
        for name, build in builders.items():
            estimator = build() if args.fresh or estimators[name] is None else estimators[name]
            t0 = time.perf_counter()
            _train_to(estimator, train, budget, args.fresh)
            wall = time.perf_counter() - t0
            estimators[name] = estimator
            fake = estimator.sample(args.n_samples, random_state=args.seed + 1)
            metrics = compute_metrics(test_features, feature_map.transform(fake), list(METRICS))
            results[name, budget] = metrics
            iterations[name, budget] = int(estimator.n_steps_)
            emit(
                {
                    "dataset": kind,
                    "configuration": name,
                    "class": type(estimator).__name__,
                    "params": _differing_params(estimator, baseline),
                    "seed": args.seed,
                    "budget_s": budget,
                    "training_clock_s": round(estimator.history_["elapsed"][-1], 2),
                    "call_wall_s": round(wall, 2),
                    "generator_iterations": int(estimator.n_steps_),
                    **_round(metrics),
                    "fd_over_floor": round(float(metrics["fd"] / floor["fd"]), 3),
                    "loadavg_1min": round(os.getloadavg()[0], 2),
                }
            )

    summary = {
        "dataset": kind,
        "summary": True,
        "seed": args.seed,
        "floor_fd": round(float(floor["fd"]), 5),
    }
    for name in builders:
        summary[f"{name}_fd_by_budget"] = {
            str(budget): round(float(results[name, budget]["fd"]), 4) for budget in args.budgets
        }
    if "default" in builders and "reference" in builders:
        summary["reference_over_default_fd"] = {
            str(budget): round(
                float(results["reference", budget]["fd"] / results["default", budget]["fd"]), 3
            )
            for budget in args.budgets
        }
    if FLOOR_BUDGET in args.budgets:
        summary["floor_check"] = f"FD / floor at {FLOOR_BUDGET:g} s <= {FLOOR_RATIO}"
        for name in builders:
            ratio = float(results[name, FLOOR_BUDGET]["fd"] / floor["fd"])
            summary[name] = {
                "fd_over_floor": round(ratio, 3),
                "generator_iterations": iterations[name, FLOOR_BUDGET],
                "pass": ratio <= FLOOR_RATIO,
            }
    emit(summary)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", choices=sorted(DATASETS), default=["mnist", "fashion"]
    )
    parser.add_argument("--budgets", nargs="+", type=float, default=[30.0, 60.0, 150.0])
    parser.add_argument(
        "--configs", nargs="*", choices=["default", "reference"], default=["default", "reference"]
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="JSON of GANEstimator parameters for an extra configuration (repeatable)",
    )
    parser.add_argument(
        "--name", action="append", default=[], help="name of the matching --config (repeatable)"
    )
    parser.add_argument(
        "--estimator",
        action="append",
        default=[],
        choices=sorted(ESTIMATORS),
        help="an extra configuration: this class's defaults (gan: GANEstimator, wgan: "
        "WGANEstimator), named after it (repeatable)",
    )
    parser.add_argument(
        "--params",
        action="append",
        default=[],
        help="JSON of parameters overriding the defaults of the matching --estimator",
    )
    parser.add_argument("--n-samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fresh", action="store_true", help="a new fit per budget")
    parser.add_argument(
        "--data-home",
        type=pathlib.Path,
        default=pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data",
    )
    args = parser.parse_args(argv)
    if len(args.params) > len(args.estimator):
        parser.error("each --params needs an --estimator before it")
    try:
        args.config = [json.loads(config) for config in args.config]
        args.params = [json.loads(params) for params in args.params]
    except json.JSONDecodeError as error:
        parser.error(f"--config and --params take a JSON object: {error}")
    args.budgets = sorted(args.budgets)
    for kind in args.datasets:
        run_dataset(kind, args)


if __name__ == "__main__":
    main()
