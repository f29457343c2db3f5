"""Quiet candidates: the warnings of candidate fits are collected, not printed.

A candidate fit runs in scikit-learn's ``_fit_and_score``, in the search's process or in a joblib
worker (a loky process, a thread or a Dask worker). scikit-learn calls the callbacks of the search
(its callback API, ``sklearn.callback``) right before each candidate's fit and right after its
scoring, in the process that fits; :class:`CandidateWarnings` is such a callback. It records the
warnings in between -- every occurrence, whatever its class (an estimator's own warning classes
included), unless a filter in force ignores or deduplicates it -- and writes a summary of them to a
file of a folder the search creates for the fit, named by the task's position in the batch, which
the search reads back after the batch (:meth:`CandidateWarnings.collect`).

Each cross-validation record then carries ``n_warnings``, ``warning_counts`` (category name ->
count) and ``first_warning`` (``"Category: message"`` or None); :func:`columns` turns them into
``cv_results_`` columns and :func:`summary` into the lines the search prints at ``verbose >= 1``.
Workers that cannot write to the folder (a Dask worker on another machine) report nothing.
The steady-state search runs its fits itself and collects their warnings in the fitting process
with :func:`call_quietly`, which returns the same summary with the record.
"""

import json
import os
import tempfile
import warnings

# scikit-learn's name of the task that fits and scores one candidate on one split
CANDIDATE_TASK = "candidate-split-evaluation"


class CandidateWarnings:
    """A scikit-learn ``FitCallback`` that collects the warnings of candidate fits.

    Parameters
    ----------
    folder : str
        Existing folder the summaries are written to.
    """

    def __init__(self, folder):
        self.folder = folder
        self._recorders = {}

    def setup(self, estimator, context):
        """Nothing to set up: the folder exists for the whole fit."""

    def teardown(self, estimator, context):
        """Nothing to tear down: the search removes the folder."""

    def on_fit_task_begin(self, estimator, context):
        """Start recording warnings when ``context`` is a candidate's fit."""
        if context.task_name != CANDIDATE_TASK:
            return
        recorder = warnings.catch_warnings(record=True)
        self._recorders[id(context)] = (recorder, recorder.__enter__())
        _count_every_occurrence()

    def on_fit_task_end(self, estimator, context):
        """Stop recording and write the summary of the candidate's warnings."""
        entry = self._recorders.pop(id(context), None)
        if entry is None:
            return
        recorder, caught = entry
        recorder.__exit__(None, None, None)
        summary = warning_summary(caught)
        try:
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(handle, "w") as file:
                json.dump(summary, file)
            os.replace(temporary, os.path.join(self.folder, f"{context.task_id}.json"))
        except OSError:  # a worker without the search's file system: nothing to report
            return

    def collect(self, records):
        """Attach the summaries of the last batch to its ``records`` (one per task, in task
        order) and delete them; records without a summary count no warning."""
        for task_id, record in enumerate(records):
            path = os.path.join(self.folder, f"{task_id}.json")
            summary = {"n_warnings": 0, "warning_counts": {}, "first_warning": None}
            try:
                with open(path) as file:
                    summary = json.load(file)
                os.remove(path)
            except (OSError, ValueError):
                pass
            record.update(summary)


def _count_every_occurrence():
    # every occurrence counts unless a filter in force says otherwise
    warnings.simplefilter("always", append=True)


def warning_summary(caught):
    """What a record carries about the ``caught`` warnings of its fit: ``n_warnings``,
    ``warning_counts`` (category name -> count) and ``first_warning``."""
    counts = {}
    for warning in caught:
        name = warning.category.__name__
        counts[name] = counts.get(name, 0) + 1
    first = f"{caught[0].category.__name__}: {caught[0].message}" if caught else None
    return {"n_warnings": len(caught), "warning_counts": counts, "first_warning": first}


def call_quietly(function, *args, **kwargs):
    """``function(*args, **kwargs)`` with its warnings collected, not shown: returns its
    result and their :func:`warning_summary` (for fits the search runs itself)."""
    with warnings.catch_warnings(record=True) as caught:
        _count_every_occurrence()
        result = function(*args, **kwargs)
    return result, warning_summary(caught)


def fill_missing(records):
    """Give records without collected warnings (not collected yet, or restored from an older
    ``memory``) none, so that scikit-learn formats them with the others."""
    for record in records:
        if record.get("warning_counts") is None:
            record.update(n_warnings=0, warning_counts={}, first_warning=None)


def columns(records, n_splits):
    """``n_warnings`` (int array) and ``first_warning`` (object array, "" for none) of the rows
    whose records, ``n_splits`` per row, are ``records``."""
    import numpy as np

    n_rows = len(records) // n_splits
    counts = np.zeros(n_rows, dtype=np.int64)
    first = np.full(n_rows, "", dtype=object)
    for row in range(n_rows):
        for record in records[row * n_splits : (row + 1) * n_splits]:
            counts[row] += record.get("n_warnings") or 0
            if not first[row] and record.get("first_warning"):
                first[row] = record["first_warning"]
    return {"n_warnings": counts, "first_warning": first}


def summary(records, n_splits):
    """One line per warning category over ``records``: count, configurations, first message."""
    totals, rows, first = {}, {}, {}
    for index, record in enumerate(records):
        for name, count in (record.get("warning_counts") or {}).items():
            totals[name] = totals.get(name, 0) + count
            rows.setdefault(name, set()).add(index // n_splits)
            message = record.get("first_warning") or ""
            if name not in first and message.startswith(f"{name}:"):
                first[name] = message
    return [
        f"{totals[name]} {name} in {len(rows[name])} configuration(s)"
        + (f", first: {first[name].splitlines()[0][:160]}" if name in first else "")
        for name in sorted(totals, key=lambda n: -totals[n])
    ]
