"""EvolutionarySearchCV on a Dask cluster through joblib's Dask backend."""

import numpy as np
import pytest
from _search_toys import evolve, probe_search
from sklearn.datasets import load_iris
from sklearn.svm import SVC

from gan_estimators import Real
from gan_estimators.search import workers as _parallel

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
SPACE = {"C": Real(1e-2, 1e2, log=True), "kernel": ["rbf", "linear"]}


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.slow
def test_search_on_a_local_cluster_matches_a_local_search(client):
    local = evolve(SVC(), SPACE, n_jobs=1).fit(X_IRIS, Y_IRIS)
    with joblib.parallel_config(backend="dask"):
        # verbose=1: the search, pickled into every task, must leave its tqdm bar behind
        remote = evolve(SVC(), SPACE, n_jobs=2, verbose=1).fit(X_IRIS, Y_IRIS)
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == local.best_params_
    # the workers did the fits, and had their thread pools capped to their share
    reports = client.run(_parallel.worker_thread_report)
    assert len(reports) == 2
    share = _parallel.threads_per_worker(2)
    for report in reports.values():
        assert report["TF_NUM_INTRAOP_THREADS"] == report["TF_NUM_INTEROP_THREADS"] == str(share)
        assert all(n <= share for n in report["blas_threads"])


@pytest.mark.slow
def test_dask_workers_score_with_the_caps(client):
    with joblib.parallel_config(backend="dask"):
        fitted = probe_search(random_state=None).fit(X_IRIS, Y_IRIS)
    share = _parallel.threads_per_worker(2)
    np.testing.assert_array_equal(fitted.cv_results_["mean_test_score"], float(share))
