"""One conditional GAN against the unconditional defaults and one GAN per class, same wall clock.

For each dataset (all of MNIST and all of Fashion-MNIST, train and test splits from
``../shared/data`` or ``--data-home``; never downloaded), three ways of generating every class
are trained for the same cumulative wall-clock budgets (``--budgets``, default 60 and 300 s,
graph compilation included):

- ``conditional``: ``GANEstimator()`` with its defaults, ``fit(X, y)`` on the whole training
  split with its labels;
- ``unconditional``: ``GANEstimator()`` with its defaults, ``fit(X)`` on the whole split
  (the baseline of every comparison);
- ``per_class``: ten ``GANEstimator()``, one per class on that class's images, each with a
  tenth of the budget (so the ten share the same total time).

Budgets are reached by continuing each run (``partial_fit`` with ``max_time`` set to the
remaining seconds), so one 300-s run gives both points.  Everything runs in one process, the
models' budgets interleaved, so machine load hits all of them alike; each record carries the
1-minute load average.

Quality, in one feature space per dataset (the package's default feature map fitted on the
whole training split with seed 0):

- per-class FD: ``--n-samples`` (2,000) samples of each class against that class's test images.
  The conditional model is asked for each class (``sample(n, y=c)``), the per-class models each
  sample their own class; the unconditional model cannot be asked for a class, so its per-class
  FD groups ``10 * --n-samples`` of its samples by the label the independent classifier gives
  them (classes it rarely produces get fewer samples; fewer than 2 gives no FD);
- pooled FD: the ten classes' samples together against the whole test split;
- class accuracy: the share of a class's samples that an independent classifier assigns to the
  requested class -- scikit-learn's ``MLPClassifier`` trained on the raw pixels of the training
  split (its test accuracy is reported);
- the real-vs-real floor: ``--n-samples`` training images of each class against its test images
  (and the pooled training images against the test split).

Printed as JSON lines: the classifier, the floors, one record per (dataset, model, budget), then
one summary per dataset with the issue's floors checked: at 300 s the conditional model's mean
per-class FD within 3x the mean per-class floor on MNIST and its class accuracy at least 95 %;
at every budget its pooled FD below the unconditional model's.  A check whose budget was not run
is reported as not run.

Usage::

    python bench/conditional.py                                   # both datasets, 60 and 300 s
    python bench/conditional.py --datasets mnist --budgets 60 --n-samples 1000
"""

import argparse
import json
import os
import pathlib
import time
import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier

from gan_estimators import GANEstimator
from gan_estimators.datasets import load_mnist
from gan_estimators.quality.diagnostics import GANTrainingWarning
from gan_estimators.quality.features import resolve_feature_map
from gan_estimators.quality.metrics import frechet_distance

DATASETS = ("mnist", "fashion")
MODELS = ("conditional", "unconditional", "per_class")
FLOOR_BUDGET = 300.0
FLOOR_RATIO = 3.0
FLOOR_DATASET = "mnist"
MIN_CLASS_ACCURACY = 0.95


def emit(record):
    print(json.dumps(record), flush=True)


def _load(data_home, kind, split):
    X, y = load_mnist(kind, split, data_home=data_home / kind, download_if_missing=False)
    return X.astype(np.float32) / 255.0, np.asarray(y)


def _classifier(train, train_labels, test, test_labels, seed):
    """The independent judge of classes: an MLP on raw pixels, and its test accuracy."""
    classifier = MLPClassifier(
        hidden_layer_sizes=(128,), max_iter=15, early_stopping=True, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the capped epochs
        classifier.fit(train.reshape(len(train), -1), train_labels)
    accuracy = float(classifier.score(test.reshape(len(test), -1), test_labels))
    return classifier, accuracy


def _predict(classifier, images):
    return classifier.predict(images.reshape(len(images), -1))


def _train_to(estimator, X, y, budget):
    """Train ``estimator`` until its training clock reaches ``budget`` seconds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        if not hasattr(estimator, "history_"):
            estimator.set_params(max_time=budget)
            estimator.fit(X, y)
        else:
            remaining = budget - estimator.history_["elapsed"][-1]
            if remaining > 0:
                estimator.set_params(max_time=remaining)
                estimator.partial_fit(X, y)


def _samples_by_class(name, model, classes, classifier, n, seed):
    """Samples of each class: {label: images}, and the label each one was asked for (or None)."""
    if name == "conditional":
        return {c: model.sample(n, y=c, random_state=seed) for c in classes}, True
    if name == "per_class":
        return {c: model[c].sample(n, random_state=seed) for c in classes}, True
    pooled = model.sample(n * len(classes), random_state=seed)
    predicted = _predict(classifier, pooled)
    return {c: pooled[predicted == c][:n] for c in classes}, False


def _fd(mapping, real_features, fake):
    if len(fake) < 2:
        return None
    return float(frechet_distance(real_features, mapping.transform(fake)))


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _round(value, digits=4):
    return None if value is None else round(float(value), digits)


def _build(name, classes, seed):
    fixed = {"n_steps": None, "random_state": seed}
    if name == "per_class":
        return {c: GANEstimator(**fixed) for c in classes}
    return GANEstimator(**fixed)


def _train_model(name, model, train, labels, budget, classes):
    if name == "conditional":
        _train_to(model, train, labels, budget)
        return int(model.n_steps_)
    if name == "unconditional":
        _train_to(model, train, None, budget)
        return int(model.n_steps_)
    steps = 0
    for c in classes:
        _train_to(model[c], train[labels == c], None, budget / len(classes))
        steps += int(model[c].n_steps_)
    return steps


def run_dataset(kind, args):
    train, train_labels = _load(args.data_home, kind, "train")
    test, test_labels = _load(args.data_home, kind, "test")
    classes = np.unique(train_labels)
    rng = np.random.default_rng(args.seed)

    t0 = time.perf_counter()
    classifier, accuracy = _classifier(train, train_labels, test, test_labels, args.seed)
    emit(
        {
            "dataset": kind,
            "classifier": "MLPClassifier(hidden_layer_sizes=(128,), max_iter=15, raw pixels)",
            "test_accuracy": round(accuracy, 4),
            "fit_s": round(time.perf_counter() - t0, 1),
        }
    )

    mapping = resolve_feature_map("auto", train, random_state=0)
    test_features = {c: mapping.transform(test[test_labels == c]) for c in classes}
    pooled_test = mapping.transform(test)
    floor_per_class = {}
    floor_images = []
    for c in classes:
        rows = np.flatnonzero(train_labels == c)
        real = train[rng.choice(rows, min(args.n_samples, len(rows)), replace=False)]
        floor_images.append(real)
        floor_per_class[c] = _fd(mapping, test_features[c], real)
    floor_pooled = _fd(mapping, pooled_test, np.concatenate(floor_images))
    floor_mean = _mean(floor_per_class.values())
    emit(
        {
            "dataset": kind,
            "model": "real-vs-real floor",
            "n_train": len(train),
            "n_test": len(test),
            "n_samples_per_class": args.n_samples,
            "per_class_fd": {str(c): _round(v) for c, v in floor_per_class.items()},
            "mean_per_class_fd": _round(floor_mean),
            "pooled_fd": _round(floor_pooled),
        }
    )

    models = {name: _build(name, classes, args.seed) for name in args.models}
    results = {}
    for budget in args.budgets:
        for name, model in models.items():
            start = time.perf_counter()
            iterations = _train_model(name, model, train, train_labels, budget, classes)
            wall = time.perf_counter() - start
            by_class, asked = _samples_by_class(
                name, model, classes, classifier, args.n_samples, args.seed + 1
            )
            per_class_fd = {c: _fd(mapping, test_features[c], by_class[c]) for c in classes}
            pooled = np.concatenate([by_class[c] for c in classes])
            record = {
                "dataset": kind,
                "model": name,
                "budget_s": budget,
                "call_wall_s": round(wall, 1),
                "generator_iterations": iterations,
                "per_class_fd": {str(c): _round(v) for c, v in per_class_fd.items()},
                "mean_per_class_fd": _round(_mean(per_class_fd.values())),
                "mean_per_class_fd_over_floor": _round(
                    _mean(per_class_fd.values()) / floor_mean, 3
                ),
                "pooled_fd": _round(_fd(mapping, pooled_test, pooled)),
                "pooled_fd_over_floor": _round(_fd(mapping, pooled_test, pooled) / floor_pooled, 3),
                "loadavg_1min": round(os.getloadavg()[0], 2),
            }
            if asked:
                hits = {c: float(np.mean(_predict(classifier, by_class[c]) == c)) for c in classes}
                record["class_accuracy"] = _round(_mean(hits.values()))
                record["per_class_accuracy"] = {str(c): _round(v, 3) for c, v in hits.items()}
            else:
                record["samples_per_class_by_classifier"] = {
                    str(c): len(by_class[c]) for c in classes
                }
            results[name, budget] = record
            emit(record)
    emit(_summary(kind, args, results, floor_mean))


def _summary(kind, args, results, floor_mean):
    summary = {"dataset": kind, "summary": True, "seed": args.seed, "budgets": args.budgets}
    checks = {}
    key = ("conditional", FLOOR_BUDGET)
    if kind == FLOOR_DATASET:
        if key in results:
            ratio = results[key]["mean_per_class_fd"] / floor_mean
            checks[f"mean per-class FD / floor at {FLOOR_BUDGET:g} s <= {FLOOR_RATIO:g}"] = {
                "value": round(ratio, 3),
                "pass": ratio <= FLOOR_RATIO,
            }
        else:
            checks[f"mean per-class FD / floor at {FLOOR_BUDGET:g} s <= {FLOOR_RATIO:g}"] = (
                "not run"
            )
    if key in results:
        accuracy = results[key]["class_accuracy"]
        checks[f"class accuracy at {FLOOR_BUDGET:g} s >= {MIN_CLASS_ACCURACY:g}"] = {
            "value": accuracy,
            "pass": accuracy >= MIN_CLASS_ACCURACY,
        }
    else:
        checks[f"class accuracy at {FLOOR_BUDGET:g} s >= {MIN_CLASS_ACCURACY:g}"] = "not run"
    for budget in args.budgets:
        if ("conditional", budget) in results and ("unconditional", budget) in results:
            ours = results["conditional", budget]["pooled_fd"]
            theirs = results["unconditional", budget]["pooled_fd"]
            checks[f"pooled FD conditional < unconditional at {budget:g} s"] = {
                "value": [ours, theirs],
                "pass": ours < theirs,
            }
    summary["checks"] = checks
    for name in args.models:
        summary[name] = {
            str(budget): {
                "mean_per_class_fd": results[name, budget]["mean_per_class_fd"],
                "pooled_fd": results[name, budget]["pooled_fd"],
                "class_accuracy": results[name, budget].get("class_accuracy"),
            }
            for budget in args.budgets
        }
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--budgets", nargs="+", type=float, default=[60.0, 300.0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--n-samples", type=int, default=2000, help="samples per class")
    parser.add_argument("--seed", type=int, default=0)
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
