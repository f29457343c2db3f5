"""The ``demo`` command: train, evolve and refit on one class; write figures and a report.

``demo --conditional`` is :mod:`.demo_conditional`.
"""

import contextlib
import os
import time

from gan_estimators._version import __version__
from gan_estimators.cli.console import UserError, import_estimators, say
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
    check_folds,
    diagnostics_line,
    evaluate,
    final_budget,
    fit_quietly,
    format_params,
    ladder_text,
    model_report,
    real_floor,
    refit_best,
    run_search,
    rung_report,
    rungs_text,
    same_configuration,
    search_report,
    split_wins,
)
from gan_estimators.gan.folder import check_destination

#: Pixel size (width, height) of the demo's figures; they are saved at
#: :data:`~gan_estimators.cli.io.FIGURE_DPI`.
FIGURE_SIZES = {"samples.png": (1200, 420), "losses.png": (1200, 680), "fitness.png": (1200, 600)}


def demo_budget(args):
    """The ``--quick`` or default budget of :data:`DEMO_BUDGETS`, with the budget options
    given on the command line in place of its values; iterations as whole numbers."""
    preset = DEMO_BUDGETS["quick" if args.quick else "default"]
    given = {key: getattr(args, key, None) for key in preset}
    budget = {key: preset[key] if given[key] is None else given[key] for key in preset}
    if budget["resource"] == "n_steps":
        for key in ("min_resources", "max_resources"):
            if not float(budget[key]).is_integer():
                raise UserError(
                    f"--resource n_steps counts iterations: --{key.replace('_', '-')} "
                    f"must be a whole number, got {budget[key]:g}"
                )
            budget[key] = int(budget[key])
    return budget


def _demo_budget(args):
    budget = demo_budget(args)
    if not budget["min_resources"] < budget["max_resources"]:
        raise UserError(
            f"--min-resources ({budget['min_resources']:g}) must be below --max-resources "
            f"({budget['max_resources']:g})"
        )
    return budget


def _share_cores_like_a_candidate(n_jobs):
    """Cap this process's threads to one search worker's share of the cores.

    A budget in seconds then buys the default model and the refit the compute it bought a
    candidate.  TensorFlow reads the cap when its runtime starts: a process that already
    trained a model keeps its threads.
    """
    import joblib

    from gan_estimators.search.workers import (
        cap_process_threads,
        thread_cap_env,
        threads_per_worker,
    )

    n_workers = joblib.effective_n_jobs(n_jobs)
    if n_workers > 1:
        cap_process_threads(thread_cap_env(threads_per_worker(n_workers)))


def run_demo(args):
    """Run ``gan-estimators demo`` with the parsed ``args``; returns the exit status."""
    start = time.perf_counter()
    budget = _demo_budget(args)
    final = final_budget(budget)
    label = DEMO_CLASS if args.label is None else args.label
    plotting = require_plotting()
    prepare_folder(args.out, "output folder")
    check_destination(os.path.join(args.out, "best_model"))
    bar = 0 if args.quiet else 1
    timings = {}

    say(args, "[1/4] Loading data")
    X, description = load_data(
        args.data, data_home=args.data_home, label=label, download=args.download
    )
    train, holdout = split_holdout(X, HOLDOUT_FRACTION, args.random_state)
    check_folds(len(train), budget["cv"])
    say(args, f"      {description}; {len(train)} for training, {len(holdout)} held out")
    timings["load"] = time.perf_counter() - start

    final_text = budget_text(final["n_steps"], final["max_time"])
    say(args, f"[2/4] Training GANEstimator with the package defaults ({final_text})")
    tick = time.perf_counter()
    _share_cores_like_a_candidate(budget["n_jobs"])
    GANEstimator, _ = import_estimators()
    timings["import_tensorflow"] = time.perf_counter() - tick
    default = GANEstimator(**final, random_state=args.random_state, verbose=bar)
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
        f"[3/4] Evolving hyperparameters ('{args.space}' space), the package defaults in the "
        f"first generation: population {budget['population']}, {budget['generations']} "
        f"generations; " + ladder_text(budget),
    )
    search, timings["search"] = run_search(args, train, budget)
    rungs = rung_report(search)
    say(args, "      " + rungs_text(search, rungs))
    say(
        args,
        f"      best CV score at the top budget {search.best_score_:.1f}: "
        + format_params(search.best_params_),
    )

    # A best that does not beat the defaults on every split won inside the spread of its
    # scores: that is no evidence, and the defaults are kept.
    wins = split_wins(search, default)
    training_scores = None
    defaults_won = same_configuration(search.best_params_, default)
    best_is_default = defaults_won or (wins is not None and wins[0] < wins[1])
    if best_is_default:
        if defaults_won:
            say(args, "[4/4] The package defaults won the search: the evolved best is that model")
        else:
            say(
                args,
                f"[4/4] The best beat the package defaults on {wins[0]} of {wins[1]} splits at "
                "the top budget, inside the spread of the scores: keeping the defaults",
            )
        best, timings["refit"] = default, 0.0
        best_quality = default_quality
    else:
        say(args, f"[4/4] Refitting the best configuration ({final_text})")
        refitted, timings["refit"] = refit_best(
            search, train, steps=final["n_steps"], max_time=final["max_time"], verbose=bar
        )
        # The refit is one more noisy training run: it replaces the defaults only if its
        # samples are also closer to the training images than the defaults' are, a check
        # that leaves the held-out images unseen by every choice the demo makes.
        training_scores = {
            "default": float(default.score(train)),
            "best": float(refitted.score(train)),
        }
        if training_scores["best"] >= training_scores["default"]:
            best = refitted
            best_quality = evaluate(best, holdout)
            say(args, f"      held-out FD {best_quality['fd']:.1f}; " + diagnostics_line(best))
        else:
            say(
                args,
                "      its samples are further from the training images than the defaults' "
                f"(FD {-training_scores['best']:.1f} against {-training_scores['default']:.1f}): "
                "keeping the defaults",
            )
            best_is_default, best, best_quality = True, default, default_quality

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
            "final_budget": final,
            "best_is_default": best_is_default,
            "best_split_wins_over_default": None if wins is None else list(wins),
            "training_image_scores_of_refit": training_scores,
        },
        "default_model": model_report(default, timings["default_fit"], default_quality),
        "search": search_report(search, timings["search"], args.space),
        "best_model": model_report(best, timings["refit"], best_quality),
        "timings": timings,
        "files": {
            name: {"description": text, **file_facts(os.path.join(out, name))}
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
    change = best_quality["fd"] / default_quality["fd"] - 1
    evolved = (
        "kept the defaults"
        if best_is_default
        else f"evolved best {best_quality['fd']:.1f} ({change:+.0%})"
    )
    say(
        args,
        f"Held-out FD, both trained for {final_text} (lower is better; real data "
        f"{floor:.1f}): package defaults {default_quality['fd']:.1f}, {evolved}",
    )
    adopted = not best_is_default or defaults_won
    label = "Best parameters: " if adopted else "The search's best, not adopted: "
    say(args, label + format_params(search.best_params_))
    return 0


def _write_outputs(out, plotting, search, holdout, default, best, random_state):
    """Write the figures, ``cv_results.csv`` and ``best_model/``; returns {file: description}.

    The description of ``summary.json``, which the caller writes last, is included.  A
    previous run's ``summary.json`` is removed first: until the new one is written, the folder
    does not look like a finished demo.
    """
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(out, "summary.json"))
    files = {}
    figure = _samples_figure(plotting, holdout, default, best, random_state)
    files["samples.png"] = "generated samples beside held-out real ones"
    save_figure(figure, os.path.join(out, "samples.png"), FIGURE_SIZES["samples.png"])
    figure = _losses_figure(plotting, default, best)
    files["losses.png"] = "loss curves, gradient norms, normalised losses"
    save_figure(figure, os.path.join(out, "losses.png"), FIGURE_SIZES["losses.png"])
    figure = plotting.plot_search(search)
    figure.suptitle("Evolutionary search: fitness = -FD on held-out folds (mean)")
    files["fitness.png"] = "fitness by generation, parameters against score"
    save_figure(figure, os.path.join(out, "fitness.png"), FIGURE_SIZES["fitness.png"])
    write_cv_results(search.cv_results_, os.path.join(out, "cv_results.csv"))
    files["cv_results.csv"] = f"{len(search.cv_results_['params'])} configurations evaluated"
    best.save(os.path.join(out, "best_model"))
    files["best_model/"] = "the refitted best model (GANEstimator.load)"
    files["summary.json"] = "best parameters, scores, timings, diagnostics"
    return files


def file_facts(path):
    """Path, size and, for a PNG, pixel size of a file the demo wrote (a folder: its path)."""
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
