"""``demo --conditional``: one class-conditional GAN trained on every class, scored per class.

No search: a ``GANEstimator`` with the package defaults is fitted on the images and labels of
every class of ``--data`` for the demo's refit budget, and scored against the held-out images
of each class.
"""

import contextlib
import os
import time

from gan_estimators._version import __version__
from gan_estimators.cli.console import UserError, import_estimators, say
from gan_estimators.cli.demo import demo_budget, file_facts
from gan_estimators.cli.io import (
    load_labelled_data,
    prepare_folder,
    require_plotting,
    save_figure,
    write_json,
)
from gan_estimators.cli.options import DEMO_BUDGETS
from gan_estimators.cli.training import (
    HOLDOUT_FRACTION,
    budget_text,
    diagnostics_line,
    evaluate,
    final_budget,
    fit_quietly,
    model_report,
    real_floor,
)
from gan_estimators.gan.folder import check_destination

#: Pixel size (width, height) of the figures; saved at :data:`~gan_estimators.cli.io.FIGURE_DPI`.
FIGURE_SIZES = {"samples.png": (1100, 500), "losses.png": (1200, 360)}

#: Images of each class in ``samples.png``, real and generated.
IMAGES_PER_CLASS = 12

#: Budget options that set the refit budget; the others only set the search's.
_MODEL_BUDGET = ("resource", "max_resources")


def _check_options(args):
    """Raise a :class:`UserError` for options that only the search or one class uses."""
    if args.label is not None:
        raise UserError("--conditional trains on every class: leave out --class")
    search_only = [
        key
        for key in DEMO_BUDGETS["default"]
        if key not in _MODEL_BUDGET and getattr(args, key, None) is not None
    ]
    if args.space != "defaults":
        search_only.insert(0, "space")
    if search_only:
        option = "--" + search_only[0].replace("_", "-")
        raise UserError(
            f"{option} sets the search, which demo --conditional does not run (its budget: "
            "--resource and --max-resources)"
        )


def _split(X, y, random_state):
    """(train, held-out) images and labels, each class split in proportion."""
    from sklearn.model_selection import train_test_split

    try:
        X_train, X_held, y_train, y_held = train_test_split(
            X, y, test_size=HOLDOUT_FRACTION, stratify=y, random_state=random_state
        )
    except ValueError as exc:  # a class too small to split
        raise UserError(f"cannot hold out {HOLDOUT_FRACTION:.0%} of each class: {exc}") from None
    return X_train, X_held, y_train, y_held


def _class_scores(model, train, held, random_state):
    """Per class: score (-FD) against its held-out images, FD, real-data FD, images held out."""
    X_train, y_train = train
    X_held, y_held = held
    mean_score = model.score(X_held, y_held)
    per_class = {}
    for label, score in model.per_class_scores_.items():
        floor = real_floor(model, X_train[y_train == label], X_held[y_held == label], random_state)
        per_class[str(label)] = {
            "score": score,
            "fd": -score,
            "real_data_fd": floor,
            "n_holdout": int((y_held == label).sum()),
        }
    return mean_score, per_class


def run_conditional_demo(args):
    """Run ``gan-estimators demo --conditional`` with the parsed ``args``; returns the exit
    status."""
    start = time.perf_counter()
    _check_options(args)
    final = final_budget(demo_budget(args))
    plotting = require_plotting()
    prepare_folder(args.out, "output folder")
    check_destination(os.path.join(args.out, "model"))
    timings = {}

    say(args, "[1/3] Loading data")
    X, y, description = load_labelled_data(
        args.data, data_home=args.data_home, download=args.download
    )
    X_train, X_held, y_train, y_held = _split(X, y, args.random_state)
    say(args, f"      {description}; {len(X_train)} for training, {len(X_held)} held out")
    timings["load"] = time.perf_counter() - start

    final_text = budget_text(final["n_steps"], final["max_time"])
    say(args, f"[2/3] Training one conditional GANEstimator on every class ({final_text})")
    GANEstimator, _ = import_estimators()
    model = GANEstimator(**final, random_state=args.random_state, verbose=0 if args.quiet else 1)
    tick = time.perf_counter()
    fit_quietly(model, X_train, y_train)
    timings["fit"] = time.perf_counter() - tick
    model.set_params(verbose=0)  # a progress bar is no part of the saved model

    say(args, "[3/3] Scoring each class against its held-out images")
    tick = time.perf_counter()
    pooled = evaluate(model, X_held)
    mean_score, per_class = _class_scores(
        model, (X_train, y_train), (X_held, y_held), args.random_state
    )
    timings["score"] = time.perf_counter() - tick
    for label, scores in per_class.items():
        say(
            args,
            f"      class {label}: FD {scores['fd']:.1f} (real data {scores['real_data_fd']:.1f})",
        )
    say(args, "      " + diagnostics_line(model))

    tick = time.perf_counter()
    files = _write_outputs(args.out, plotting, model, X_held, y_held, args.random_state)
    timings["outputs"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - start
    summary = {
        "gan_estimators_version": __version__,
        "command": "gan-estimators demo --conditional" + (" --quick" if args.quick else ""),
        "options": {"data": args.data, "random_state": args.random_state, **final},
        "data": {
            "description": description,
            "n_train": len(X_train),
            "n_holdout": len(X_held),
            "sample_shape": list(X.shape[1:]),
            "classes": model.classes_.tolist(),
            "class_prior": model.class_prior_.tolist(),
        },
        "scores": {
            "note": "score = -FD against the held-out images of each class, in the PCA "
            "feature space fitted on the training images (greater is better); real_data_fd "
            "is the FD between as many real training images of the class and its held-out "
            "ones, the best reachable; pooled_score compares samples of classes drawn from "
            "class_prior with every held-out image",
            "mean_per_class_score": mean_score,
            "per_class": per_class,
            "pooled_score": pooled["score"],
        },
        "model": model_report(model, timings["fit"], pooled),
        "timings": timings,
        "files": {
            name: {"description": text, **file_facts(os.path.join(args.out, name))}
            for name, text in files.items()
            if name != "summary.json"
        },
    }
    write_json(os.path.join(args.out, "summary.json"), summary)

    say(args)
    say(args, f"Done in {timings['total']:.0f} s. Wrote to {args.out}{os.sep}:")
    for name, text in files.items():
        say(args, f"  {name:<14}{text}")
    floors = [scores["real_data_fd"] for scores in per_class.values()]
    say(
        args,
        f"Mean per-class held-out FD {-mean_score:.1f} over {len(per_class)} classes (real "
        f"data {sum(floors) / len(floors):.1f}), {model.n_steps_} steps",
    )
    return 0


def _write_outputs(out, plotting, model, X_held, y_held, random_state):
    """Write the figures and ``model/``; returns {file: description}, ``summary.json``'s
    included (the caller writes it last, after removing a previous run's first)."""
    import matplotlib.pyplot as plt

    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(out, "summary.json"))
    files = {}
    fig, axes = plt.subplots(1, 2, layout="constrained")
    value_range = (float(X_held.min()), float(X_held.max()))
    plotting.plot_samples(
        X_held,
        y=y_held,
        n=len(X_held),
        n_cols=IMAGES_PER_CLASS,
        value_range=value_range,
        ax=axes[0],
        title="held-out real",
    )
    plotting.plot_samples(
        model,
        n=IMAGES_PER_CLASS,
        random_state=random_state,
        value_range=value_range,
        ax=axes[1],
        title=f"conditional GAN ({model.n_steps_} steps)",
    )
    files["samples.png"] = "one row per class: held-out real images, then samples of the class"
    save_figure(fig, os.path.join(out, "samples.png"), FIGURE_SIZES["samples.png"])
    fig = plotting.plot_history(model)
    files["losses.png"] = "loss curves, gradient norms, normalised losses"
    save_figure(fig, os.path.join(out, "losses.png"), FIGURE_SIZES["losses.png"])
    model.save(os.path.join(out, "model"))
    files["model/"] = "the conditional model (GANEstimator.load; sample --class)"
    files["summary.json"] = "per-class held-out scores, parameters, timings, diagnostics"
    return files
