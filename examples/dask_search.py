"""Tune an SVC with EvolutionarySearchCV on a Dask cluster.

The search itself -- the genetic algorithm, the fitness cache -- runs in this process; the
cross-validation fits (candidates x folds) run on the cluster's workers through joblib's Dask
backend. The same code runs on one machine without Dask: drop the ``parallel_config`` block.
Each worker process caps its TensorFlow and BLAS thread pools to its share of its host's cores.

Run it on a local cluster with two worker processes::

    python examples/dask_search.py

or on an existing cluster::

    python examples/dask_search.py --scheduler tcp://scheduler-host:8786

Needs ``dask[distributed]`` (``pip install gan_estimators[dask]``).
"""

import argparse

import joblib
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from gan_estimators import EvolutionarySearchCV, Real


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", help="address of a running Dask scheduler")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    search = EvolutionarySearchCV(
        SVC(),
        {
            "C": Real(1e-3, 1e3, log=True),
            "gamma": Real(1e-5, 1e-1, log=True),
            "kernel": ["rbf", "linear"],
        },
        cv=3,
        population_size=10,
        generations=5,
        random_state=0,
        verbose=1,
    )

    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        print(f"Dask dashboard / workers: {list(client.scheduler_info()['workers'])}")
        with joblib.parallel_config(backend="dask"):
            search.fit(X_train, y_train)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    print(f"best parameters: {search.best_params_}")
    print(f"best CV accuracy: {search.best_score_:.4f}")
    print(f"held-out accuracy: {search.score(X_test, y_test):.4f}")
    print(
        f"{search.n_candidates_evaluated_} configurations cross-validated, "
        f"{search.cache_hits_} cache hits, stopped by: {search.stop_reason_}"
    )
    print(search.logbook_)


if __name__ == "__main__":
    main()
