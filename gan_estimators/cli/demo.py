"""The ``demo`` command: train, evolve and refit on one class; write figures and a report."""

import os
import time

from gan_estimators._version import __version__
from gan_estimators.cli.console import import_estimator, say
from gan_estimators.cli.io import (
    load_data,
    png_size,
    prepare_folder,
    require_plotting,
    save_figure,
    split_holdout,
    write_cv_results,
    write_json,
)
from gan_estimators.cli.options import DEMO_BUDGETS, DEMO_CLASS
from gan_estimators.cli.training import (
    HOLDOUT_FRACTION,
    budget_text,
    diagnostics_line,
    evaluate,
    fit_quietly,
    format_params,
    model_report,
    real_floor,
    refit_best,
    run_search,
    search_report,
)

#: Pixel size (width, height) of the demo's figures; they are saved at
#: :data:`~gan_estimators.cli.io.FIGURE_DPI`.
FIGURE_SIZES = {"samples.png": (1200, 420), "losses.png": (1200, 680), "fitness.png": (1200, 600)}


def _demo_budget(args):
    preset = DEMO_BUDGETS["quick" if args.quick else "default"]
    given = {key: getattr(args, key, None) for key in preset}
    return {key: preset[key] if given[key] is None else given[key] for key in preset}


def run_demo(args):
    """Run ``gan-estimators demo`` with the parsed ``args``; returns the exit status."""
    start = time.perf_counter()
    budget = _demo_budget(args)
    label = DEMO_CLASS if args.label is None else args.label
    plotting = require_plotting()
    prepare_folder(args.out, "output folder")
    bar = 0 if args.quiet else 1
    timings = {}

    say(args, "[1/4] Loading data")
    X, description = load_data(args.data, data_home=args.data_home, label=label)
    train, holdout = split_holdout(X, HOLDOUT_FRACTION, args.random_state)
    say(args, f"      {description}; {len(train)} for training, {len(holdout)} held out")
    timings["load"] = time.perf_counter() - start

    final = budget_text(budget["final_steps"], budget["final_time"])
    say(args, f"[2/4] Training WGANEstimator with the package defaults ({final})")
    tick = time.perf_counter()
    WGANEstimator = import_estimator()
    timings["import_tensorflow"] = time.perf_counter() - tick
    default = WGANEstimator(
        n_steps=budget["final_steps"],
        max_time=budget["final_time"],
        random_state=args.random_state,
        verbose=bar,
    )
    tick = time.perf_counter()
    fit_quietly(default, train)
    timings["default_fit"] = time.perf_counter() - tick
    default_quality = evaluate(default, holdout)
    floor = real_floor(default, train, holdout, args.random_state)
    say(
        args,
        f"      held-out FD {default_quality['fd']:.1f} (real data: {floor:.1f}); "
        + diagnostics_line(default),
    )

    say(
        args,
        f"[3/4] Evolving hyperparameters ('{args.space}' space): population "
        f"{budget['population']}, {budget['generations']} generations, each candidate "
        + budget_text(budget["steps"], budget["candidate_time"]),
    )
    search, timings["search"] = run_search(args, train, budget)
    say(
        args,
        f"      {search.n_candidates_evaluated_} configurations trained, "
        f"{search.cache_hits_} cache hits, stopped by {search.stop_reason_}; "
        f"best CV score {search.best_score_:.1f}: " + format_params(search.best_params_),
    )

    say(args, f"[4/4] Refitting the best configuration ({final})")
    best, timings["refit"] = refit_best(
        search, train, steps=budget["final_steps"], max_time=budget["final_time"], verbose=bar
    )
    best_quality = evaluate(best, holdout)
    say(args, f"      held-out FD {best_quality['fd']:.1f}; " + diagnostics_line(best))

    tick = time.perf_counter()
    out = args.out
    for model in (default, best):
        model.set_params(verbose=0)  # a progress bar is no part of the saved model
    files = _write_outputs(out, plotting, search, holdout, default, best, args.random_state)
    timings["outputs"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - start

    summary = {
        "gan_estimators_version": __version__,
        "command": "gan-estimators demo" + (" --quick" if args.quick else ""),
        "options": {
            "data": args.data,
            "class": label,
            "space": args.space,
            "random_state": args.random_state,
            "cv": args.cv,
            **budget,
        },
        "data": {
            "description": description,
            "n_train": len(train),
            "n_holdout": len(holdout),
            "sample_shape": list(X.shape[1:]),
        },
        "best_params": search.best_params_,
        "scores": {
            "note": "score = -FD against the held-out images, in the PCA feature space fitted on "
            "the training images (greater is better); real_data_fd is the FD between as many "
            "real training images and the held-out ones, the best reachable",
            "real_data_fd": floor,
            "default_model": default_quality["score"],
            "best_model": best_quality["score"],
            "best_cv_score": float(search.best_score_),
        },
        "default_model": model_report(default, timings["default_fit"], default_quality),
        "search": search_report(search, timings["search"], args.space),
        "best_model": model_report(best, timings["refit"], best_quality),
        "timings": timings,
        "files": {
            name: {"description": text, **_file_facts(os.path.join(out, name))}
            for name, text in files.items()
            if name != "summary.json"
        },
    }
    write_json(os.path.join(out, "summary.json"), summary)

    say(args)
    say(args, f"Done in {timings['total']:.0f} s. Wrote to {out}{os.sep}:")
    for name, text in files.items():
        facts = summary["files"].get(name, {})
        size = f" ({facts['width']}x{facts['height']} px)" if "width" in facts else ""
        say(args, f"  {name:<16}{text}{size}")
    say(
        args,
        f"Held-out FD (lower is better; real data {floor:.1f}): package defaults "
        f"{default_quality['fd']:.1f}, evolved best {best_quality['fd']:.1f}",
    )
    say(args, "Best parameters: " + format_params(search.best_params_))
    return 0


def _write_outputs(out, plotting, search, holdout, default, best, random_state):
    """Write the figures, ``cv_results.csv`` and ``best_model/``; returns {file: description}.

    The description of ``summary.json``, which the caller writes last, is included.
    """
    files = {}
    figure = _samples_figure(plotting, holdout, default, best, random_state)
    files["samples.png"] = "generated samples beside held-out real ones"
    save_figure(figure, os.path.join(out, "samples.png"), FIGURE_SIZES["samples.png"])
    figure = _losses_figure(plotting, default, best)
    files["losses.png"] = "loss curves, gradient norms, normalised losses"
    save_figure(figure, os.path.join(out, "losses.png"), FIGURE_SIZES["losses.png"])
    figure = plotting.plot_search(search)
    figure.suptitle("Evolutionary search: fitness = -FD on a held-out fold")
    files["fitness.png"] = "fitness by generation, parameters against score"
    save_figure(figure, os.path.join(out, "fitness.png"), FIGURE_SIZES["fitness.png"])
    write_cv_results(search.cv_results_, os.path.join(out, "cv_results.csv"))
    files["cv_results.csv"] = f"{len(search.cv_results_['params'])} configurations evaluated"
    best.save(os.path.join(out, "best_model"))
    files["best_model/"] = "the refitted best model (WGANEstimator.load)"
    files["summary.json"] = "best parameters, scores, timings, diagnostics"
    return files


def _file_facts(path):
    if path.endswith("/"):
        return {"path": path}
    facts = {"path": path, "bytes": os.path.getsize(path)}
    if path.endswith(".png"):
        facts["width"], facts["height"] = png_size(path)
    return facts


def _samples_figure(plotting, holdout, default, best, random_state):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, layout="constrained")
    low, high = float(holdout.min()), float(holdout.max())
    n = min(64, len(holdout))
    plotting.plot_samples(holdout, n=n, value_range=(low, high), ax=axes[0])
    axes[0].set_title(f"held-out real ({n})")
    for ax, model, name in (
        (axes[1], default, "package defaults"),
        (axes[2], best, "evolved best"),
    ):
        plotting.plot_samples(
            model, n=64, random_state=random_state, value_range=(low, high), ax=ax
        )
        ax.set_title(f"{name} ({model.n_steps_} steps)")
    return fig


def _losses_figure(plotting, default, best):
    import matplotlib.pyplot as plt

    fig = plt.figure(layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    for subfigure, model, name in (
        (top, default, "package defaults"),
        (bottom, best, "evolved best"),
    ):
        axes = subfigure.subplots(1, 3)
        plotting.plot_history(model, axes=axes)
        subfigure.suptitle(name, fontsize="medium", fontweight="bold")
    return fig
