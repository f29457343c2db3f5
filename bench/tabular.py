"""Tables: the GAN estimator against CTGAN, an independent-columns baseline and the real data.

Three small tables that ship offline inside packages, each split 80/20 once with
``train_test_split(test_size=0.2, random_state=0)`` (not stratified):

- ``penguins``: ``palmerpenguins.load_penguins()``, rows with missing values dropped; target
  ``species``;
- ``cars``: ``vega_datasets.data.cars()``, ``Name`` dropped, ``Year`` as the calendar year
  (an integer), rows with missing values dropped (CTGAN refuses missing continuous values);
  target ``Origin``;
- ``seattle``: ``vega_datasets.data.seattle_weather()``, ``date`` replaced by ``day_of_year``;
  target ``weather``.

Discrete columns are those of :func:`gan_estimators.tables.columns.discrete_column_names`
with ``"auto"``; every model and metric gets the same list.  Models (``--models``), each asked
for as many rows as the training split holds:

- ``ctgan``: ``ctgan.CTGAN(epochs=300)`` (the ``bench`` extra; it pulls PyTorch), seeded with
  ``set_random_state(seed)``;
- ``shuffle``: every training column permuted on its own (the independent-columns baseline);
- ``gan``: ``GANEstimator.for_tables()`` (``--estimator wgan``: ``WGANEstimator``'s) fitted on
  the training DataFrame with ``n_steps=None, max_time=BUDGET``, ``random_state=seed`` and
  ``--gan-params``.
  BUDGET is ``--gan-budget`` or else CTGAN's median fit seconds on that dataset, from this run
  or from the ``--baselines`` file;
- ``real``: train-on-real (TRTR) accuracy, the majority-class accuracy, and the real 20 % scored
  as if it were a synthetic set (the ceiling of pair trends on so few rows); seed-independent,
  so one record per dataset.

Per synthetic set: fit seconds (wall clock of the ``fit`` call), SDMetrics' ``QualityReport``
(overall, column shapes, column pair trends) against the training rows, the package's own
``gan_estimators.metrics.table_quality`` beside it (noted and skipped if it cannot be imported),
and train-on-synthetic / test-on-real (TSTR) accuracy: ``HistGradientBoostingClassifier
(random_state=0)`` fitted on the synthetic rows, discrete features ordinal-encoded, scored on
the real 20 %.

Printed as JSON lines: one per (dataset, model, seed), then one summary per dataset with the
means over seeds (median fit seconds), the ratios of ``gan`` to ``ctgan`` and to ``shuffle``,
and the floors: with a budget no larger than CTGAN's median fit time, overall and TSTR at least
CTGAN's and column pair trends above the shuffled baseline's; the aims (overall above the
shuffled baseline's, TSTR at least 0.8 of TRTR) beside them.  Records of models not run now are
read from ``--baselines`` (an earlier output of this script) when given.

Usage::

    python bench/tabular.py                                   # every dataset and model, 5 seeds
    python bench/tabular.py --models ctgan shuffle real > baselines.jsonl
    python bench/tabular.py --models gan --baselines baselines.jsonl
    python bench/tabular.py --models gan --datasets penguins --seeds 0 --gan-budget 10 \\
        --estimator wgan --gan-params '{"batch_size": 64}'
"""

import argparse
import json
import os
import statistics
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

from gan_estimators.tables.columns import discrete_column_names

DATASETS = ("penguins", "cars", "seattle")
TARGETS = {"penguins": "species", "cars": "Origin", "seattle": "weather"}
# Baselines first: the GAN's default budget is CTGAN's fit time measured before it.
MODELS = ("real", "shuffle", "ctgan", "gan")
CTGAN_EPOCHS = 300
TEST_SIZE = 0.2
SPLIT_SEED = 0
TSTR_OVER_TRTR_AIM = 0.8
SCORES = ("overall", "column_shapes", "column_pair_trends", "tstr")
OURS = ("ours_overall", "ours_column_shapes", "ours_column_pair_trends")


def emit(record):
    print(json.dumps(record), flush=True)


def _round(value, digits=4):
    return None if value is None else round(float(value), digits)


def load_dataset(name):
    """The whole table of ``name`` as the benchmark uses it (see the module docstring)."""
    if name == "penguins":
        from palmerpenguins import load_penguins

        return load_penguins().dropna().reset_index(drop=True)
    from vega_datasets import data

    if name == "cars":
        frame = data.cars().drop(columns="Name")
        frame["Year"] = frame["Year"].dt.year.astype("int64")
        return frame.dropna().reset_index(drop=True)
    frame = data.seattle_weather()
    day_of_year = frame.pop("date").dt.dayofyear.astype("int64")
    frame.insert(0, "day_of_year", day_of_year)
    return frame


def split(frame):
    train, test = train_test_split(frame, test_size=TEST_SIZE, random_state=SPLIT_SEED)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def sdmetrics_quality(real, synthetic, discrete):
    """SDMetrics' QualityReport of ``synthetic`` against ``real``: overall, shapes, pair trends."""
    from sdmetrics.reports import QualityReport

    columns = {
        name: {"sdtype": "categorical" if name in discrete else "numerical"}
        for name in real.columns
    }
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(
            {"table": real},
            {"table": synthetic},
            {"tables": {"table": {"columns": columns}}},
            verbose=False,
        )
    properties = report.get_properties().set_index("Property")["Score"]
    return {
        "overall": _round(report.get_score()),
        "column_shapes": _round(properties["Column Shapes"]),
        "column_pair_trends": _round(properties["Column Pair Trends"]),
    }


def ours_quality(real, synthetic, discrete):
    """The package's own table_quality, or a note saying why it is missing."""
    try:
        from gan_estimators.metrics import table_quality
    except ImportError as error:
        return {"ours_note": f"table_quality not importable: {error}"}
    try:
        quality = table_quality(real, synthetic, discrete_columns=list(discrete))
    except Exception as error:  # the metric is being written alongside; keep the bench running
        return {"ours_note": f"table_quality failed: {type(error).__name__}: {error}"}
    return {
        "ours_overall": _round(quality["overall"]),
        "ours_column_shapes": _round(quality["column_shapes"]),
        "ours_column_pair_trends": _round(quality["column_pair_trends"]),
    }


def train_test_accuracy(train, test, target, discrete):
    """HistGradientBoostingClassifier(random_state=0) fitted on ``train``, accuracy on ``test``."""
    features = [name for name in train.columns if name != target]
    categorical = [name for name in features if name in discrete]
    labels = train[target]
    if labels.nunique() < 2:  # a one-class synthetic set: the classifier can only say that class
        return float(np.mean(test[target].to_numpy() == labels.iloc[0]))
    both = pd.concat([train[categorical], test[categorical]]).astype(object)
    encoder = OrdinalEncoder(
        categories=[sorted(both[name].dropna().unique(), key=str) for name in categorical],
        handle_unknown="use_encoded_value",
        unknown_value=-1,
    )
    model = make_pipeline(
        ColumnTransformer([("discrete", encoder, categorical)], remainder="passthrough"),
        HistGradientBoostingClassifier(random_state=0),
    )
    as_objects = {name: object for name in categorical}
    model.fit(train[features].astype(as_objects), labels)
    return float(model.score(test[features].astype(as_objects), test[target]))


def score(train, test, synthetic, target, discrete):
    """Every figure of one synthetic set (quality against ``train``, TSTR on ``test``)."""
    return {
        **sdmetrics_quality(train, synthetic, discrete),
        **ours_quality(train, synthetic, discrete),
        "tstr": _round(train_test_accuracy(synthetic, test, target, discrete)),
    }


def shuffled(train, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {name: train[name].to_numpy()[rng.permutation(len(train))] for name in train.columns}
    ).astype(train.dtypes.to_dict())


def fit_ctgan(train, discrete, seed):
    from ctgan import CTGAN

    model = CTGAN(epochs=CTGAN_EPOCHS)
    model.set_random_state(seed)
    start = time.perf_counter()
    model.fit(train, discrete_columns=list(discrete))
    fit_s = time.perf_counter() - start
    return model.sample(len(train)), fit_s, {}


def fit_gan(train, seed, budget, args):
    from gan_estimators import GANEstimator, WGANEstimator
    from gan_estimators.quality.diagnostics import GANTrainingWarning

    estimator_class = {"gan": GANEstimator, "wgan": WGANEstimator}[args.estimator]
    estimator = estimator_class.for_tables(
        **{**args.gan_params, "n_steps": None, "max_time": budget, "random_state": seed}
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        estimator.fit(train)
    fit_s = time.perf_counter() - start
    synthetic = estimator.sample(len(train), random_state=seed)
    same_dtypes = isinstance(synthetic, pd.DataFrame) and (
        list(synthetic.columns) == list(train.columns)
        and all(synthetic[name].dtype == train[name].dtype for name in train.columns)
    )
    extra = {
        "class": type(estimator).__name__,
        "params": args.gan_params,
        "budget_s": _round(budget, 2),
        "training_clock_s": _round(estimator.history_["elapsed"][-1], 2),
        "generator_iterations": int(estimator.n_steps_),
        "same_columns_and_dtypes": bool(same_dtypes),
    }
    return synthetic, fit_s, extra


def real_record(dataset, train, test, target, discrete):
    majority = train[target].value_counts().idxmax()
    return {
        "dataset": dataset,
        "model": "real",
        "seed": None,
        "n_train": len(train),
        "n_test": len(test),
        "discrete_columns": list(discrete),
        "trtr": _round(train_test_accuracy(train, test, target, discrete)),
        "majority_class": _round(np.mean(test[target] == majority)),
        "real_20pct": {
            **sdmetrics_quality(train, test, discrete),
            **ours_quality(train, test, discrete),
        },
    }


def _load_baselines(path, dataset, skip_models):
    if path is None:
        return []
    with open(path) as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return [
        record
        for record in records
        if record.get("dataset") == dataset
        and not record.get("summary")
        and record.get("model") not in skip_models
    ]


def _gan_budget(args, records):
    if args.gan_budget is not None:
        return args.gan_budget
    times = [record["fit_s"] for record in records if record["model"] == "ctgan"]
    if not times:
        raise SystemExit(
            "model 'gan' needs a budget: run 'ctgan' first, pass --baselines with CTGAN "
            "records, or give --gan-budget SECONDS."
        )
    return statistics.median(times)


def run_dataset(dataset, args):
    target = TARGETS[dataset]
    train, test = split(load_dataset(dataset))
    discrete = discrete_column_names(train)
    records = _load_baselines(args.baselines, dataset, set(args.models))
    for model in [name for name in MODELS if name in args.models]:
        if model == "real":
            record = real_record(dataset, train, test, target, discrete)
            records.append(record)
            emit(record)
            continue
        budget = _gan_budget(args, records) if model == "gan" else None
        for seed in args.seeds:
            if model == "shuffle":
                start = time.perf_counter()
                synthetic, extra = shuffled(train, seed), {}
                fit_s = time.perf_counter() - start
            elif model == "ctgan":
                synthetic, fit_s, extra = fit_ctgan(train, discrete, seed)
            else:
                synthetic, fit_s, extra = fit_gan(train, seed, budget, args)
            record = {
                "dataset": dataset,
                "model": model,
                "seed": seed,
                **extra,
                "fit_s": _round(fit_s, 2),
                "n_synthetic": len(synthetic),
                **score(train, test, synthetic, target, discrete),
                "loadavg_1min": round(os.getloadavg()[0], 2),
            }
            records.append(record)
            emit(record)
    emit(summarise(dataset, records, args))


def _means(records):
    means = {"n_seeds": len(records)}
    means["median_fit_s"] = _round(statistics.median(r["fit_s"] for r in records), 2)
    for key in SCORES + OURS:
        values = [r[key] for r in records if r.get(key) is not None]
        means[key] = _round(np.mean(values)) if values else None
    return means


def _check(ours, theirs, passed):
    if ours is None or theirs is None:
        return "not run"
    return {"value": [ours, theirs], "pass": bool(passed(ours, theirs))}


def summarise(dataset, records, args):
    """Means over seeds per model, gan's ratios to ctgan and shuffle, and the issue's floors."""
    summary = {"dataset": dataset, "summary": True, "seeds": args.seeds}
    if args.baselines:
        summary["baselines_from"] = args.baselines
    by_model = {}
    for model in MODELS:
        chosen = [r for r in records if r["model"] == model]
        if not chosen:
            continue
        if model == "real":
            real = chosen[-1]
            by_model[model] = {
                "trtr": real["trtr"],
                "majority_class": real["majority_class"],
                **{f"real_20pct_{k}": v for k, v in real["real_20pct"].items()},
            }
        else:
            by_model[model] = _means(chosen)
    summary.update(by_model)
    gan, ctgan, shuffle = (by_model.get(name, {}) for name in ("gan", "ctgan", "shuffle"))
    for name, other in (("ctgan", ctgan), ("shuffle", shuffle)):
        if gan and other:
            summary[f"gan_over_{name}"] = {
                key: _round(gan[key] / other[key], 3)
                for key in (*SCORES, "median_fit_s")
                if gan.get(key) is not None and other.get(key)
            }
    budget = next((r["budget_s"] for r in records if r["model"] == "gan"), None)
    trtr = by_model.get("real", {}).get("trtr")
    summary["floors"] = {
        "gan budget s <= ctgan median fit s": _check(
            budget, ctgan.get("median_fit_s"), lambda a, b: a <= b
        ),
        "gan overall >= ctgan": _check(gan.get("overall"), ctgan.get("overall"), np.greater_equal),
        "gan tstr >= ctgan": _check(gan.get("tstr"), ctgan.get("tstr"), np.greater_equal),
        "gan pair trends > shuffle": _check(
            gan.get("column_pair_trends"), shuffle.get("column_pair_trends"), np.greater
        ),
    }
    summary["aims"] = {
        "gan overall > shuffle": _check(gan.get("overall"), shuffle.get("overall"), np.greater),
        f"gan tstr >= {TSTR_OVER_TRTR_AIM} trtr": _check(
            gan.get("tstr"), trtr, lambda a, b: a >= TSTR_OVER_TRTR_AIM * b
        ),
    }
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--estimator", choices=("gan", "wgan"), default="gan")
    parser.add_argument("--gan-params", type=json.loads, default={}, help="JSON of GAN parameters")
    parser.add_argument(
        "--gan-budget", type=float, default=None, help="GAN fit seconds (default: CTGAN's)"
    )
    parser.add_argument(
        "--baselines", default=None, help="JSON lines of an earlier run to read other models from"
    )
    args = parser.parse_args(argv)
    for dataset in args.datasets:
        run_dataset(dataset, args)


if __name__ == "__main__":
    main()
