"""EvolutionarySearchCV under joblib: reproducibility across n_jobs and worker thread caps."""

import os
import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from _search_toys import evolve, probe_search
from sklearn.datasets import load_iris
from sklearn.svm import SVC

from gan_estimators import Real
from gan_estimators.search import workers as _parallel

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
SPACE = {"C": Real(1e-2, 1e2, log=True), "gamma": Real(1e-3, 1e1, log=True)}


def test_same_random_state_gives_the_same_search_with_one_or_two_jobs():
    fitted = [evolve(SVC(), SPACE, n_jobs=n_jobs).fit(X_IRIS, Y_IRIS) for n_jobs in (1, 2)]
    assert fitted[0].cv_results_["params"] == fitted[1].cv_results_["params"]
    assert fitted[0].best_params_ == fitted[1].best_params_
    np.testing.assert_array_equal(
        fitted[0].cv_results_["mean_test_score"], fitted[1].cv_results_["mean_test_score"]
    )


def test_thread_shares():
    assert _parallel.threads_per_worker(2, n_cpus=2) == 1
    assert _parallel.threads_per_worker(2, n_cpus=16) == 8
    assert _parallel.threads_per_worker(32, n_cpus=16) == 1
    env = _parallel.thread_cap_env(3, environ={"OMP_NUM_THREADS": "7"})
    assert env["TF_NUM_INTRAOP_THREADS"] == env["TF_NUM_INTEROP_THREADS"] == "3"
    assert env["OMP_NUM_THREADS"] == "7"  # set by the user: kept, as joblib does
    assert env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"


@pytest.mark.parametrize("variable", ["TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"])
def test_loky_workers_see_tensorflow_thread_caps(variable, monkeypatch):
    monkeypatch.delenv(variable, raising=False)
    share = _parallel.threads_per_worker(2)
    fitted = probe_search(variable, n_jobs=2).fit(X_IRIS, Y_IRIS)
    # each fold was scored in a worker that had the cap in its environment
    np.testing.assert_array_equal(fitted.cv_results_["split0_test_score"], float(share))
    np.testing.assert_array_equal(fitted.cv_results_["split1_test_score"], float(share))
    assert variable not in os.environ  # the parent's environment is left alone


def test_loky_workers_see_blas_caps():
    share = _parallel.threads_per_worker(2)
    with _parallel.worker_thread_limits(2) as capped:
        assert capped == share
        reports = joblib.Parallel(n_jobs=2)(
            joblib.delayed(_parallel.worker_thread_report)() for _ in range(4)
        )
    assert {report["pid"] for report in reports}.isdisjoint({os.getpid()})
    for report in reports:
        assert report["TF_NUM_INTRAOP_THREADS"] == str(share)
        assert report["OPENBLAS_NUM_THREADS"] == os.environ.get("OPENBLAS_NUM_THREADS", str(share))
        assert all(n <= share for n in report["blas_threads"])
        assert not report["tensorflow_imported"]


def test_sequential_and_thread_backends_are_not_capped(monkeypatch):
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    with _parallel.worker_thread_limits(1) as capped:
        assert capped is None
    with joblib.parallel_config(backend="threading"), _parallel.worker_thread_limits(2) as capped:
        assert capped is None
    fitted = probe_search("TF_NUM_INTRAOP_THREADS", n_jobs=1).fit(X_IRIS, Y_IRIS)
    assert (fitted.cv_results_["mean_test_score"] == -1.0).all()


def test_a_users_own_loky_initializer_is_respected():
    with (
        joblib.parallel_config(backend="loky", initializer=os.getpid),
        _parallel.worker_thread_limits(2) as capped,
    ):
        assert capped is None


def test_the_parent_process_never_imports_tensorflow():
    code = textwrap.dedent(
        """
        import sys
        from sklearn.datasets import load_iris
        from sklearn.svm import SVC
        from gan_estimators import EvolutionarySearchCV, Real, reference_space
        X, y = load_iris(return_X_y=True)
        EvolutionarySearchCV(SVC(), {"C": Real(0.1, 10.0)}, population_size=4, generations=2,
                             n_jobs=2, random_state=0).fit(X, y)
        reference_space()
        assert "tensorflow" not in sys.modules, "tensorflow was imported"
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# -- the search is pickled into every task while it runs ----------------------------------------


class _PickleProbe:
    """A callback that pickles the running search, as scikit-learn's tasks do (``caller=self``)."""

    def __init__(self):
        self.search = None
        self.seen = []

    def __call__(self, entry):
        copy = pickle.loads(pickle.dumps(self.search))
        self.seen.append((hasattr(self.search, "_state"), hasattr(copy, "_state")))


def test_verbose_progress_bar_with_two_jobs(capsys):
    # scikit-learn pickles the search into each task; its run state holds the tqdm bar
    kwargs = {"population_size": 4, "generations": 2, "cv": 2}
    fitted = evolve(SVC(), SPACE, n_jobs=2, verbose=1, **kwargs).fit(X_IRIS, Y_IRIS)
    err = capsys.readouterr().err
    assert "EvolutionarySearchCV" in err and "2/2" in err and "best=" in err
    sequential = evolve(SVC(), SPACE, n_jobs=1, **kwargs).fit(X_IRIS, Y_IRIS)
    assert fitted.cv_results_["params"] == sequential.cv_results_["params"]
    assert fitted.best_params_ == sequential.best_params_

    # the pickled fitted search is complete: every attribute, the same results
    restored = pickle.loads(pickle.dumps(fitted))
    assert set(vars(restored)) == set(vars(fitted))
    assert not hasattr(fitted, "_state")
    assert restored.best_params_ == fitted.best_params_
    assert list(restored.logbook_) == list(fitted.logbook_)
    assert restored.hall_of_fame_ == fitted.hall_of_fame_
    for key, value in fitted.cv_results_.items():
        if key == "params":
            assert restored.cv_results_[key] == value
        elif np.asarray(value).dtype.kind == "f":
            np.testing.assert_array_equal(restored.cv_results_[key], value)
    np.testing.assert_array_equal(restored.predict(X_IRIS), fitted.predict(X_IRIS))


def test_a_running_search_pickles_without_its_run_state():
    probe = _PickleProbe()
    search = evolve(
        SVC(), SPACE, population_size=4, generations=2, cv=2, verbose=1, callbacks=[probe]
    )
    probe.search = search
    search.fit(X_IRIS, Y_IRIS)
    # during the fit the search holds its run state, a pickled copy does not
    assert probe.seen == [(True, False), (True, False)]
