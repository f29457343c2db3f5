"""Continuing promoted candidates vs restarting them: ``continue_promoted`` False and True.

The README-like task: 140 training images of the digit 5 (scikit-learn's 8x8 digits), 42
held out; a multi-fidelity search over ``n_steps`` (50, 150, 450; factor 3; population 6, 2
generations, ``cv=2``, ``n_jobs=1``, seed 0).  The runs alternate in one process (by
default restart, continue, continue, restart) so that machine load hits both alike; each
prints one JSON line: search and refit seconds, fit seconds summed over rows, rows per rung,
the best CV score and the held-out score of the refitted best.

Usage::

    python bench/continuation.py          # restart, continue, continue, restart
    python bench/continuation.py 1 0      # continue, then restart
"""

import json
import sys
import time
import warnings

import numpy as np

from gan_estimators import EvolutionarySearchCV, GANEstimator, Integer, Real
from gan_estimators.datasets import extract_class, load_digits_images

X, y = load_digits_images(return_X_y=True)
fives = extract_class(X, y, 5)
train, held_out = fives[:140], fives[140:]
space = {
    "batch_size": Integer(16, 96),
    "learning_rate": Real(5e-5, 2.5e-3, log=True),
    "n_filters": Integer(16, 64),
    "alpha": Real(0.05, 0.5),
}
order = [False, True, True, False] if len(sys.argv) < 2 else [a == "1" for a in sys.argv[1:]]
for continued in order:
    search = EvolutionarySearchCV(
        GANEstimator(n_steps=450, random_state=0),
        space,
        resource="n_steps",
        min_resources=50,
        max_resources=450,
        factor=3,
        continue_promoted=continued,
        cv=2,
        population_size=6,
        generations=2,
        n_jobs=1,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(train)
    total = time.perf_counter() - start
    results = search.cv_results_
    rows = {int(r): int((results["rung"] == r).sum()) for r in np.unique(results["rung"])}
    print(
        json.dumps(
            {
                "continue_promoted": continued,
                "search_s": round(total - search.refit_time_, 1),
                "refit_s": round(search.refit_time_, 1),
                "fit_time_sum_s": round(float((results["mean_fit_time"] * 2).sum()), 1),
                "rows_per_rung": rows,
                "best_cv_score": round(float(search.best_score_), 3),
                "best_params": {
                    k: (round(v, 5) if isinstance(v, float) else int(v))
                    for k, v in search.best_params_.items()
                },
                "held_out_score_of_refit": round(float(search.best_estimator_.score(held_out)), 3),
            }
        ),
        flush=True,
    )
