"""The ``fit``, ``sample`` and ``search`` commands, and :func:`main`, which runs any command.

User errors (a missing file, an array of the wrong shape, an unknown option value, an invalid
combination of parameters, an unusable output location, a damaged model folder) end the
command with one line on stderr and a non-zero exit status, never a traceback.  Output
locations are checked before any training.
"""

import os
import sys
import time

from sklearn.utils._param_validation import InvalidParameterError

from gan_estimators.cli.console import UserError, import_estimator, say
from gan_estimators.cli.demo import run_demo
from gan_estimators.cli.io import (
    check_parent,
    load_data,
    prepare_folder,
    require_plotting,
    save_figure,
    write_cv_results,
    write_json,
    write_npy,
)
from gan_estimators.cli.options import SEARCH_BUDGET, build_parser, estimator_params
from gan_estimators.cli.training import (
    check_folds,
    diagnostics_line,
    fit_quietly,
    format_params,
    refit_best,
    run_search,
    search_report,
)
from gan_estimators.gan.errors import ModelFolderError, NetworkTooLargeError
from gan_estimators.gan.folder import check_destination

#: Errors of the user's that end a command with one line: the commands' own, invalid
#: parameters (alone or combined), an unusable or damaged model folder, networks too large.
USER_ERRORS = (UserError, InvalidParameterError, ModelFolderError, NetworkTooLargeError)


def run_fit(args):
    """Run ``gan-estimators fit`` with the parsed ``args``; returns the exit status."""
    start = time.perf_counter()
    check_destination(args.out)
    X, description = load_data(
        args.data, data_home=args.data_home, label=args.label, download=args.download
    )
    params = estimator_params(args)
    if params.get("network") == "conv" and X.ndim == 2:
        raise UserError("--network conv needs images; this data is a table (n, features)")
    say(args, description)
    WGANEstimator = import_estimator()
    params.update(random_state=args.random_state, verbose=0 if args.quiet else 1)
    make = WGANEstimator.reference if args.reference else WGANEstimator
    estimator = make(**params)
    fit_quietly(estimator, X)
    estimator.set_params(verbose=0)
    estimator.save(args.out)
    say(
        args,
        f"Trained {estimator.n_steps_} steps in {time.perf_counter() - start:.0f} s; "
        + diagnostics_line(estimator),
    )
    say(args, f"Saved to {args.out}{os.sep} (gan-estimators sample {args.out} --png grid.png)")
    return 0


def run_sample(args):
    """Run ``gan-estimators sample`` with the parsed ``args``; returns the exit status."""
    if args.npy is None and args.png is None:
        raise UserError("nothing to write: give --npy FILE and/or --png FILE")
    if not os.path.isdir(args.model):
        raise UserError(f"{args.model}: no such model folder")
    if not os.path.isfile(os.path.join(args.model, "estimator.json")):
        raise UserError(f"{args.model}: not a saved model (no estimator.json)")
    if args.random_state is not None and not 0 <= args.random_state < 2**32:
        raise UserError(f"--random-state must be in [0, 2**32 - 1]; got {args.random_state}")
    for path, what in ((args.npy, "samples"), (args.png, "the grid")):
        if path is not None:
            check_parent(path, what)
    plotting = require_plotting() if args.png is not None else None

    WGANEstimator = import_estimator()
    try:
        estimator = WGANEstimator.load(args.model)
    except (ModelFolderError, OSError) as exc:
        raise UserError(f"cannot load the model: {exc}") from None
    samples = estimator.sample(args.n, random_state=args.random_state)
    if args.npy is not None:
        written = write_npy(args.npy, samples)
        print(f"Wrote {args.n} samples of shape {samples.shape[1:]} to {written}")
    if args.png is not None:
        if not hasattr(estimator, "image_shape_"):
            raise UserError("the model generates table rows, not images: use --npy")
        low, high = estimator.data_min_, estimator.data_max_
        fig = plotting.plot_samples(samples, n=args.n, value_range=(low, high))
        save_figure(fig, args.png)
        print(f"Wrote a grid of {args.n} samples to {args.png}")
    return 0


def run_search_command(args):
    """Run ``gan-estimators search`` with the parsed ``args``; returns the exit status."""
    start = time.perf_counter()
    prepare_folder(args.out, "output folder")
    check_destination(os.path.join(args.out, "best_model"))
    X, description = load_data(
        args.data, data_home=args.data_home, label=args.label, download=args.download
    )
    check_folds(len(X), args.cv)
    say(args, description)
    budget = {key: getattr(args, key) for key in SEARCH_BUDGET}
    search, seconds = run_search(args, X, budget)
    refit_steps = args.steps if args.refit_steps is None else args.refit_steps
    say(args, f"Refitting the best configuration on all {len(X)} samples ({refit_steps} steps)")
    best, refit_seconds = refit_best(
        search, X, steps=refit_steps, max_time=None, verbose=0 if args.quiet else 1
    )
    best.set_params(verbose=0)
    best.save(os.path.join(args.out, "best_model"))
    write_cv_results(search.cv_results_, os.path.join(args.out, "cv_results.csv"))
    report = search_report(search, seconds, args.space)
    report.update(refit_steps=refit_steps, refit_seconds=refit_seconds, data=description)
    write_json(os.path.join(args.out, "best_params.json"), report)
    say(args, f"Best CV score {search.best_score_:.2f}: " + format_params(search.best_params_))
    say(
        args,
        f"Done in {time.perf_counter() - start:.0f} s. Wrote best_params.json, cv_results.csv "
        f"and best_model/ to {args.out}{os.sep}",
    )
    return 0


_COMMANDS = {
    "demo": run_demo,
    "fit": run_fit,
    "sample": run_sample,
    "search": run_search_command,
}


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    int
        The exit status: 0 on success, 1 for a user error (one line on stderr), 2 for a usage
        error, 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _COMMANDS[args.command](args)
    except USER_ERRORS as exc:
        message = " ".join(str(exc).split())
        print(f"gan-estimators {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gan-estimators {args.command}: interrupted", file=sys.stderr)
        return 130
