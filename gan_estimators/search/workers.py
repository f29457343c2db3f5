"""Thread caps for the worker processes that evaluate candidates.

Each worker process that trains a model starts thread pools sized to the whole machine: BLAS /
OpenMP pools, and TensorFlow's intra-op and inter-op pools. With ``n_jobs`` workers on ``n``
cores that is ``n_jobs * n`` busy threads fighting for ``n`` cores. Each worker is therefore
capped to its share, ``max(1, n_cores // n_workers)`` threads:

- **loky** (joblib's default): joblib already sets the BLAS/OpenMP variables in the workers'
  environment (its ``inner_max_num_threads`` mechanism). TensorFlow reads
  ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` once, when its runtime initialises,
  so those must be in a worker's environment before the worker imports TensorFlow. The search
  runs its joblib calls under ``parallel_config(backend="loky", initializer=..., initargs=...)``
  (joblib's documented worker-initializer parameters), and the initializer sets them in each
  fresh worker. Loky reuses its workers across calls while the initializer arguments are
  unchanged, so this costs nothing after the first generation.
- **Dask** (``parallel_config(backend="dask")``): the workers already run, so the caps are sent
  to each worker process with ``Client.run`` (share = the host's cores divided by the worker
  processes on that host); BLAS pools are capped with threadpoolctl, TensorFlow's through the
  environment (or its threading API if it is imported but not yet initialised).
- Sequential runs (``n_jobs=1``) and thread backends are left alone: one process, one pool.

Variables already set in the parent's environment are respected, as joblib does for BLAS.
Nothing here imports TensorFlow: a process that has not imported it only gets environment
variables, read whenever it does.
"""

import contextlib
import os
import sys

import joblib

TF_THREAD_VARS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
BLAS_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def threads_per_worker(n_workers, n_cpus=None):
    """Each of ``n_workers`` processes' share of ``n_cpus`` cores (at least one thread)."""
    if n_cpus is None:
        n_cpus = joblib.cpu_count()
    return max(1, int(n_cpus) // max(1, int(n_workers)))


def thread_cap_env(n_threads, environ=None):
    """Environment variables capping TensorFlow and BLAS pools to ``n_threads``.

    Values already present in ``environ`` (default: ``os.environ``) are kept.
    """
    environ = os.environ if environ is None else environ
    return {var: environ.get(var, str(n_threads)) for var in TF_THREAD_VARS + BLAS_THREAD_VARS}


def cap_process_threads(env):
    """Apply thread caps in the current (worker) process; used as a loky initializer.

    Sets the environment variables in ``env``; if TensorFlow is already imported and its runtime
    not yet initialised, sets its pools through ``tf.config.threading`` too (once initialised,
    TensorFlow cannot change them). Caps already loaded BLAS libraries with threadpoolctl.

    Returns
    -------
    report : dict
        What the process now sees, as returned by :func:`worker_thread_report`.
    """
    os.environ.update(env)
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        with contextlib.suppress(Exception):  # RuntimeError once TF's context exists
            tf.config.threading.set_intra_op_parallelism_threads(int(env["TF_NUM_INTRAOP_THREADS"]))
            tf.config.threading.set_inter_op_parallelism_threads(int(env["TF_NUM_INTEROP_THREADS"]))
    with contextlib.suppress(Exception):  # threadpoolctl is optional at this level
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=int(env["OMP_NUM_THREADS"]))
    return worker_thread_report()


def worker_thread_report():
    """The thread caps visible in this process: its pid, the cap variables, BLAS pool sizes."""
    report = {"pid": os.getpid()}
    for var in TF_THREAD_VARS + BLAS_THREAD_VARS:
        report[var] = os.environ.get(var)
    try:
        from threadpoolctl import threadpool_info

        report["blas_threads"] = [pool["num_threads"] for pool in threadpool_info()]
    except Exception:
        report["blas_threads"] = []
    report["tensorflow_imported"] = "tensorflow" in sys.modules
    return report


def _dask_cap_worker(processes_per_host, dask_worker=None):
    host = dask_worker.address.rsplit(":", 1)[0] if dask_worker is not None else None
    share = threads_per_worker(processes_per_host.get(host, 1))
    return cap_process_threads(thread_cap_env(share))


def cap_dask_workers(client):
    """Cap every worker process of a ``dask.distributed`` client; return ``{address: report}``."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    processes_per_host = {}
    for address in workers:
        host = address.rsplit(":", 1)[0]
        processes_per_host[host] = processes_per_host.get(host, 0) + 1
    return client.run(_dask_cap_worker, processes_per_host)


def _is_loky(backend):
    return type(backend).__name__ == "LokyBackend"


@contextlib.contextmanager
def worker_thread_limits(n_jobs):
    """Context under which joblib calls cap the threads of their worker processes.

    Parameters
    ----------
    n_jobs : int or None
        The ``n_jobs`` the joblib calls will use (None: the active ``parallel_config``'s).

    Yields
    ------
    share : int or None
        Threads per worker, or None when nothing is capped (sequential or thread backends, a
        loky backend with an initializer of its own, other backends).
    """
    n_workers = joblib.effective_n_jobs(n_jobs)
    backend, _ = joblib.parallel.get_active_backend()
    if n_workers <= 1:
        yield None
    elif _is_loky(backend) and "initializer" not in getattr(backend, "backend_kwargs", {}):
        share = threads_per_worker(n_workers)
        kwargs = dict(getattr(backend, "backend_kwargs", {}))
        if backend.inner_max_num_threads is not None:
            kwargs["inner_max_num_threads"] = backend.inner_max_num_threads
        with joblib.parallel_config(
            backend="loky",
            initializer=cap_process_threads,
            initargs=(thread_cap_env(share),),
            **kwargs,
        ):
            yield share
    elif type(backend).__name__ == "DaskDistributedBackend":
        reports = cap_dask_workers(backend.client)
        shares = {int(report["TF_NUM_INTRAOP_THREADS"]) for report in reports.values()}
        yield min(shares) if shares else None
    else:
        yield None
