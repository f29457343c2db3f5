"""The persistent ``memory=`` store of :class:`~gan_estimators.EvolutionarySearchCV`.

Evaluations (one record per cross-validation split, see :mod:`gan_estimators.search.results`)
are stored on a ``joblib.Memory`` under a hash of everything they depend on besides the
configuration (the *context*) and a hash of the configuration (the *key*), so that a rerun
restores them instead of fitting.
"""

import os
import warnings

import joblib
import sklearn
from sklearn.base import clone


def _stored_evaluation(context, key, evaluation=None):
    """Return ``evaluation``: cached by joblib.Memory under (context, key) only."""
    return evaluation


class PersistentStore:
    """A key -> evaluation store on a ``joblib.Memory``, through its public caching API.

    The identity function :func:`_stored_evaluation` is cached with ``evaluation`` excluded from
    the hash, so calling it with a value stores that value under ``(context, key)``, and
    ``check_call_in_cache`` tells whether a key is present without computing anything.

    Parameters
    ----------
    memory : str, os.PathLike or joblib.Memory
        A folder, or a Memory object (a Memory whose location is None stores nothing).
    """

    def __init__(self, memory):
        if isinstance(memory, (str, os.PathLike)):
            memory = joblib.Memory(memory, verbose=0)
        self.memory = memory
        self._cached = memory.cache(_stored_evaluation, ignore=["evaluation"], verbose=0)

    def get(self, context, key):
        """Return the stored evaluation, or None when it is absent or cannot be read."""
        if not self._cached.check_call_in_cache(context, key):
            return None
        try:
            return self._cached.call_and_shelve(context, key).get()
        except Exception:  # a truncated or corrupt entry: unpickling fails in many ways
            return None

    def put(self, context, key, evaluation):
        """Store ``evaluation`` under ``key``, replacing what is there.

        The search puts only keys :meth:`get` found absent or unreadable, so a corrupt entry
        costs one refit, not one per run.
        """
        self._cached.call(context, key, evaluation=evaluation)


def fingerprint(obj):
    """joblib hash of ``obj``, or None when it cannot be hashed (e.g. a lambda)."""
    try:
        return joblib.hash(obj)
    except Exception:  # pickling errors come in many types
        return None


def open_store(memory, data):
    """The store on ``memory`` and the hash of ``data`` (what the search is fitted on).

    Returns ``(None, None)``, with a warning, when ``data`` cannot be hashed.
    """
    store = PersistentStore(memory)
    data_token = fingerprint(data)
    if data_token is None:
        warnings.warn(
            "memory is ignored: the data or fit parameters cannot be hashed",
            UserWarning,
            stacklevel=3,
        )
        return None, None
    return store, data_token


def memory_context(data_token, search):
    """Everything besides the configuration that an evaluation by ``search`` depends on, hashed.

    Returns None, with a warning, when the estimator, cv or scoring cannot be hashed.
    """
    context = fingerprint(
        {
            "data": data_token,
            "estimator": clone(search.estimator),
            "cv": search._checked_cv_orig,
            "scoring": search.scoring,
            "error_score": search.error_score,
            "return_train_score": search.return_train_score,
            "sklearn": sklearn.__version__,
        }
    )
    if context is None:
        warnings.warn(
            "memory is ignored: the estimator, cv or scoring cannot be hashed",
            UserWarning,
            stacklevel=4,
        )
    return context
