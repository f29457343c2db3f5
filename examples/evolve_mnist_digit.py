"""Evolve a GAN on MNIST digit 5 (or any class of MNIST / Fashion-MNIST).

The script trains ``GANEstimator`` with the package defaults for a time budget, evolves
its hyperparameters with a multi-fidelity ``EvolutionarySearchCV`` over the space of
``gan-estimators demo`` (the defaults in the first generation; each generation's new
configurations train for ``--final-time / 3`` seconds, the best third again for
``--final-time``), refits the best for ``--final-time`` seconds -- the budget it was scored
at, and the default model's -- and scores both against the class's images of the *test* split
(never seen in training or in the search).  With ``--reference`` it runs the reference
configuration's search instead: ``WGANEstimator.reference()`` and the whole
``reference_space()``.

The IDX files are read from ``--data-home`` (its ``mnist/`` or ``fashion/`` sub-folder, or the
folder itself), then from the other places ``gan_estimators.datasets.load_mnist`` knows::

    python examples/evolve_mnist_digit.py --data-home ../shared/data
    python examples/evolve_mnist_digit.py --data-home ~/data --kind fashion --digit 7 --png out.png

28x28 images cost far more per step than the 8x8 digits of ``gan-estimators demo``: with
the defaults below (60-s models, population 6, 3 generations, 2 candidates at a time) the
search takes about 10 minutes on 2 cores.  Shrink ``--population``, ``--generations`` and
``--final-time`` for a quicker look.
"""

import argparse

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import ShuffleSplit

from gan_estimators import EvolutionarySearchCV, GANEstimator, WGANEstimator, reference_space
from gan_estimators.cli.training import demo_param_space
from gan_estimators.datasets import extract_class, load_mnist
from gan_estimators.quality.metrics import frechet_distance


def print_generation(record):
    """``callbacks=`` of the search: one line per generation (return True to stop)."""
    print(
        f"generation {record['gen']}: {record['nevals']} configurations trained, "
        f"best score {record['best']:.2f}, mean {record['mean']:.2f}, "
        f"{record['elapsed']:.0f} s"
    )
    return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", help="folder holding the IDX files")
    parser.add_argument("--kind", choices=["mnist", "fashion"], default="mnist")
    parser.add_argument("--digit", type=int, default=5, help="class to learn (default: 5)")
    parser.add_argument("--max-train", type=int, default=2000, help="training images used")
    parser.add_argument("--population", type=int, default=6)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument(
        "--final-time", type=float, default=60.0, help="seconds of training of each final model"
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--reference", action="store_true", help="the reference search")
    parser.add_argument("--png", help="save real / default / evolved sample grids here")
    args = parser.parse_args(argv)

    X, y = load_mnist(args.kind, "train", data_home=args.data_home, as_float=True)
    X_test, y_test = load_mnist(args.kind, "test", data_home=args.data_home, as_float=True)
    train = extract_class(X, y, args.digit)
    test = extract_class(X_test, y_test, args.digit)
    rng = np.random.default_rng(args.random_state)
    if len(train) > args.max_train:
        train = train[np.sort(rng.choice(len(train), args.max_train, replace=False))]
    print(f"{args.kind} class {args.digit}: {len(train)} training, {len(test)} test images")

    # Every model trains for a time budget: equal compute, so the search finds what learns
    # best per second.  The estimator's own configuration is in the first generation.
    budget = {"n_steps": None, "max_time": args.final_time}
    if args.reference:
        estimator = WGANEstimator.reference(**budget, random_state=args.random_state)
        space = reference_space()
    else:
        estimator = GANEstimator(**budget, random_state=args.random_state)
        space = demo_param_space(estimator, time_budget=True)

    search = EvolutionarySearchCV(
        estimator,
        space,
        cv=ShuffleSplit(n_splits=1, test_size=0.25, random_state=args.random_state),
        population_size=args.population,
        generations=args.generations,
        resource="max_time",  # multi-fidelity: min_resources is max_resources / 3
        min_resources=args.final_time / 3,
        factor=3,
        n_jobs=args.n_jobs,
        refit=False,  # refitted below, beside the defaults
        callbacks=print_generation,
        random_state=args.random_state,
    ).fit(train)
    print(f"best parameters: {search.best_params_} (CV score {search.best_score_:.2f})")

    # The best was scored at max_time=final_time (the top budget): refit it with that budget.
    best = clone(search.estimator).set_params(**search.best_params_, verbose=1).fit(train)
    default = clone(estimator).set_params(verbose=1).fit(train)

    # score() is -FD in the feature space fitted on the training images; compare it with
    # real images scored the same way (FD is biased in the sample size: equal sizes only).
    n = min(len(train), len(test))
    print(f"score on the test split (higher is better), {n} images each:")
    mapping = best.feature_map_
    floor = frechet_distance(mapping.transform(test[:n]), mapping.transform(train[:n]))
    print(f"  real training images: {-floor:.2f} (the best reachable)")
    for name, model in (("package defaults", default), ("evolved best", best)):
        print(f"  {name}: {model.score(test[:n]):.2f}")
        print("    " + str(model.diagnostics_).replace("\n", "\n    "))

    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from gan_estimators.plotting import plot_samples

        fig, axes = plt.subplots(1, 3, figsize=(12, 4.3), layout="constrained")
        plot_samples(test, n=36, value_range=(0, 1), title="test images", ax=axes[0])
        plot_samples(default, n=36, random_state=0, value_range=(0, 1), ax=axes[1])
        axes[1].set_title("package defaults")
        plot_samples(best, n=36, random_state=0, value_range=(0, 1), ax=axes[2])
        axes[2].set_title("evolved best")
        fig.savefig(args.png, dpi=100)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
