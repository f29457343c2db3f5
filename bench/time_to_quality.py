"""Sample quality reached per second of training: WGANEstimator's defaults against the reference.

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
images with the test split.  The baseline of the comparison -- the reference configuration
(:meth:`WGANEstimator.reference`, docs/user_guide/reference_configuration.rst) -- runs in the
same process, its budgets interleaved with the default's, so machine load hits both alike.

Printed as JSON lines: one per (dataset, configuration, budget) with FD, KID, recall,
coverage and duplicate fraction, FD / floor, and the generator iterations done; then one
summary per dataset with the floor check (the default within 2x the floor's FD at 60 s).

Usage::

    python bench/time_to_quality.py                        # both datasets, 30/60/150 s
    python bench/time_to_quality.py --datasets mnist --budgets 10 20
    python bench/time_to_quality.py --config '{"n_filters": 16}' --name small
    python bench/time_to_quality.py --configs default --config '{"batch_size": 32}' --name b32 \\
        --config '{"batch_size": 128}' --name b128     # configurations interleaved in one run
"""

import argparse
import functools
import json
import os
import pathlib
import time

import numpy as np

from gan_estimators import WGANEstimator
from gan_estimators.datasets import extract_class, load_mnist
from gan_estimators.quality.features import resolve_feature_map
from gan_estimators.quality.metrics import compute_metrics

DATASETS = {"mnist": 5, "fashion": 7}
METRICS = ("fd", "kid", "recall", "coverage", "duplicate_fraction")
FLOOR_RATIO = 2.0
FLOOR_BUDGET = 60.0


def emit(record):
    print(json.dumps(record), flush=True)


def _load_class(data_home, kind, split):
    X, y = load_mnist(kind, split, data_home=data_home / kind, download_if_missing=False)
    return extract_class(X, y, DATASETS[kind]).astype(np.float32) / 255.0


def _round(metrics):
    return {name: round(float(value), 5) for name, value in metrics.items()}


def _configurations(args):
    configs = {
        "default": lambda: WGANEstimator(n_steps=None, random_state=args.seed),
        "reference": lambda: WGANEstimator.reference(n_steps=None, random_state=args.seed),
    }
    extra = []
    for index, config in enumerate(args.config):
        name = args.name[index] if index < len(args.name) else f"custom_{index}"
        overrides = json.loads(config)
        configs[name] = functools.partial(
            WGANEstimator, **{"n_steps": None, "random_state": args.seed, **overrides}
        )
        extra.append(name)
    return {name: configs[name] for name in args.configs + extra}


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
    estimators = {name: None for name in builders}
    results = {}
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
            emit(
                {
                    "dataset": kind,
                    "configuration": name,
                    "budget_s": budget,
                    "training_clock_s": round(estimator.history_["elapsed"][-1], 2),
                    "call_wall_s": round(wall, 2),
                    "generator_iterations": int(estimator.n_steps_),
                    **_round(metrics),
                    "fd_over_floor": round(float(metrics["fd"] / floor["fd"]), 3),
                    "loadavg_1min": round(os.getloadavg()[0], 2),
                }
            )

    summary = {"dataset": kind, "summary": True, "floor_fd": round(float(floor["fd"]), 5)}
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
    if "default" in builders and FLOOR_BUDGET in args.budgets:
        ratio = float(results["default", FLOOR_BUDGET]["fd"] / floor["fd"])
        summary.update(
            {
                "default_fd_over_floor_at_60s": round(ratio, 3),
                "floor": f"<= {FLOOR_RATIO}",
                "pass": ratio <= FLOOR_RATIO,
            }
        )
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
        help="JSON of WGANEstimator parameters for an extra configuration (repeatable)",
    )
    parser.add_argument(
        "--name", action="append", default=[], help="name of the matching --config (repeatable)"
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
    args.budgets = sorted(args.budgets)
    for kind in args.datasets:
        run_dataset(kind, args)


if __name__ == "__main__":
    main()
