"""Tune an SVC with EvolutionarySearchCV, next to RandomizedSearchCV given the same fits.

EvolutionarySearchCV works for any scikit-learn estimator: the genetic algorithm only sees
genes in [0, 1] and the cross-validated scores scikit-learn computes.  This script tunes an
RBF / linear SVC on scikit-learn's digits, gives RandomizedSearchCV the same number of
configurations, and compares both on a held-out split::

    python examples/tune_svc.py
    python examples/tune_svc.py --plot svc_search.png   # needs matplotlib
"""

import argparse

from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold, train_test_split
from sklearn.svm import SVC

from gan_estimators import Categorical, EvolutionarySearchCV, Real


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--plot", metavar="PNG", help="save plot_search's figure here")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.random_state
    )
    # The same folds for every generation, so fitnesses are comparable across generations.
    cv = StratifiedKFold(3, shuffle=True, random_state=args.random_state)

    search = EvolutionarySearchCV(
        SVC(),
        {
            "C": Real(1e-3, 1e3, log=True),
            "gamma": Real(1e-5, 1e-1, log=True),
            "kernel": Categorical(["rbf", "linear"]),
        },
        cv=cv,
        population_size=args.population,
        generations=args.generations,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
    ).fit(X_train, y_train)

    # Random search with as many configurations as the genetic algorithm cross-validated.
    random_search = RandomizedSearchCV(
        SVC(),
        {
            "C": loguniform(1e-3, 1e3),
            "gamma": loguniform(1e-5, 1e-1),
            "kernel": ["rbf", "linear"],
        },
        n_iter=search.n_candidates_evaluated_,
        cv=cv,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
    ).fit(X_train, y_train)

    print(
        f"EvolutionarySearchCV: {search.n_candidates_evaluated_} configurations, "
        f"{search.cache_hits_} cache hits, stopped by {search.stop_reason_}"
    )
    print(f"  best parameters: {search.best_params_}")
    print(
        f"  best CV accuracy {search.best_score_:.4f}, held-out {search.score(X_test, y_test):.4f}"
    )
    print(f"RandomizedSearchCV: {len(random_search.cv_results_['params'])} configurations")
    print(f"  best parameters: {random_search.best_params_}")
    print(
        f"  best CV accuracy {random_search.best_score_:.4f}, "
        f"held-out {random_search.score(X_test, y_test):.4f}"
    )
    print(search.logbook_)

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from gan_estimators.plotting import plot_search

        fig = plot_search(search)
        fig.savefig(args.plot, dpi=100)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
