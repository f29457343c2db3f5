"""The ``fit``, ``sample`` and ``search`` commands, and :func:`main`, which runs any command.

User errors (a missing file, an array of the wrong shape, an unknown option value, an invalid
combination of parameters, an unusable output location, a damaged model folder) end the
command with one line on stderr and a non-zero exit status, never a traceback.  Output
locations are checked before any training.  Tables (``fit --data FILE.csv``, ``sample --csv``)
are read, checked and written by :mod:`.tables`.
"""

import math
import os
import shlex
import sys
import time

from sklearn.utils._param_validation import InvalidParameterError

from gan_estimators.cli.console import UserError, import_estimators, say
from gan_estimators.cli.demo import run_demo
from gan_estimators.cli.demo_conditional import run_conditional_demo
from gan_estimators.cli.io import (
    check_parent,
    load_data,
    load_labelled_data,
    prepare_folder,
    require_plotting,
    save_figure,
    write_cv_results,
    write_json,
    write_labels,
    write_npy,
)
from gan_estimators.cli.options import SEARCH_BUDGET, build_parser
from gan_estimators.cli.parameters import estimator_params
from gan_estimators.cli.tables import (
    check_table,
    columns_line,
    is_table_file,
    read_table,
    sample_table,
    table_quality_line,
)
from gan_estimators.cli.training import (
    check_folds,
    diagnostics_line,
    fit_quietly,
    format_params,
    refit_best,
    run_search,
    search_report,
)
from gan_estimators.gan.callbacks import SampleGrid
from gan_estimators.gan.errors import ModelFolderError, NetworkTooLargeError
from gan_estimators.gan.folder import check_destination
from gan_estimators.gan.monitoring import holdout_fraction, split_holdout
from gan_estimators.gan.table_path import fitted_on_table

#: Errors of the user's that end a command with one line: the commands' own, invalid
#: parameters (alone or combined), an unusable or damaged model folder, networks too large.
USER_ERRORS = (UserError, InvalidParameterError, ModelFolderError, NetworkTooLargeError)


def _check_fit_options(args, X):
    """Raise a :class:`UserError` for options that cannot go together or do not fit ``X``."""
    if estimator_params(args).get("network") == "conv" and X.ndim == 2:
        raise UserError("--network conv needs images; this data is a table (n, features)")
    if args.sample_grid is None:
        if args.sample_grid_every is not None:
            raise UserError("--sample-grid-every needs --sample-grid DIR")
        return
    if is_table_file(args.data):
        raise UserError("--sample-grid draws images; a table of named columns has none")
    if X.ndim == 2 and math.isqrt(X.shape[1]) ** 2 != X.shape[1]:
        raise UserError(
            "--sample-grid draws images: it needs images, or a table whose features form "
            f"square images; this table has {X.shape[1]} features"
        )
    grids, model = (os.path.abspath(path) for path in (args.sample_grid, args.out))
    if os.path.commonpath([grids, model]) == model:
        raise UserError("--sample-grid must name a folder outside the model folder --out")
    require_plotting()


def _check_holdout(estimator, X):
    """Raise the ``InvalidParameterError`` of ``estimator``'s ``fit`` if it cannot hold out
    part of ``X`` for its held-out scores (too few samples in either part)."""
    import numpy as np

    fraction = holdout_fraction(estimator.get_params())
    if fraction is not None:
        split_holdout(np.arange(len(X)), fraction, 0)


def build_estimator(args, table=False):
    """The unfitted estimator ``fit`` trains, as ``args`` describe it.

    A ``GANEstimator``; for a ``table`` (``--data FILE.csv``) ``GANEstimator.for_tables()``;
    with ``--wasserstein`` a ``WGANEstimator``, with ``--reference``
    ``WGANEstimator.reference()`` (tables too); the parameters given as options win over
    the starting point's; ``random_state`` from ``--random-state``, a progress bar unless
    ``--quiet``, and a ``SampleGrid`` callback with ``--sample-grid``.
    """
    GANEstimator, WGANEstimator = import_estimators()
    params = estimator_params(args)
    params.update(random_state=args.random_state, verbose=0 if args.quiet else 1)
    if args.sample_grid is not None:
        every = {} if args.sample_grid_every is None else {"every": args.sample_grid_every}
        params["callbacks"] = [SampleGrid(args.sample_grid, **every)]
    if args.reference:
        return WGANEstimator.reference(**params)
    if args.wasserstein:
        return WGANEstimator(**params)
    return GANEstimator.for_tables(**params) if table else GANEstimator(**params)


def _validation_line(estimator):
    """What the held-out scores were, in one line; None when none was computed."""
    steps = estimator.history_.get("val_step")
    if not steps:
        return None
    scores = estimator.history_["val_score"]
    line = f"Held-out score {scores[-1]:.2f} at step {steps[-1]} ({len(steps)} evaluations)"
    if estimator.early_stopping and estimator.best_step_ is not None:
        if estimator.stopped_early_:
            waited = estimator.n_iter_no_change
            line += f"; stopped early (no improvement in {waited} evaluation{'s' * (waited > 1)})"
        line += (
            f"; best {estimator.best_val_score_:.2f} at step {estimator.best_step_}, whose "
            "generator the model keeps"
        )
    return line


def _trained_line(estimator, y, table, seconds):
    """What ``fit`` trained, in one line: the class; a conditional model's number of classes,
    or a table model's loss and critic updates (its starting point with the options given);
    the steps; a table model's table quality; the diagnostics."""
    quality = None
    if table:
        what = f" (loss {estimator.loss}, n_critic {estimator.n_critic})"
        quality = table_quality_line(estimator)
    else:
        what = f" on {len(estimator.classes_)} classes" if y is not None else ""
    return (
        f"Trained {type(estimator).__name__}{what} for {estimator.n_steps_} steps in "
        f"{seconds:.0f} s; " + (f"{quality}; " if quality else "") + diagnostics_line(estimator)
    )


def _load_training_data(args):
    """``fit``'s data: (X, labels or None, description), one class or, with
    ``--conditional``, every class with its labels; a table file as a DataFrame."""
    if is_table_file(args.data):
        if args.conditional or args.labels is not None:
            raise UserError(
                "a table model is conditioned on its discrete columns already (sample it with "
                "--condition COLUMN=VALUE): leave out --conditional and --labels"
            )
        if args.label is not None:
            raise UserError("--class selects a class of digits, mnist or fashion, not of a table")
        X, description = read_table(args.data)
        return X, None, description
    source = {"data_home": args.data_home, "download": args.download}
    if not args.conditional:
        if args.labels is not None:
            raise UserError("--labels gives the classes of a conditional model: add --conditional")
        X, description = load_data(args.data, label=args.label, **source)
        return X, None, description
    if args.label is not None:
        raise UserError("--conditional trains on every class: leave out --class")
    return load_labelled_data(args.data, labels=args.labels, **source)


def run_fit(args):
    """Run ``gan-estimators fit`` with the parsed ``args``; returns the exit status."""
    start = time.perf_counter()
    check_destination(args.out)
    X, y, description = _load_training_data(args)
    _check_fit_options(args, X)
    say(args, description)
    table = is_table_file(args.data)
    estimator = build_estimator(args, table=table)
    if table:
        say(args, columns_line(*check_table(estimator, X, args.data)))
    _check_holdout(estimator, X)
    if args.sample_grid is not None:
        prepare_folder(args.sample_grid, "sample-grid folder")
    fit_quietly(estimator, X, y)
    # A progress bar and the grids of this run are no part of the saved model.
    estimator.set_params(verbose=0, callbacks=None)
    estimator.save(args.out)
    say(args, _trained_line(estimator, y, table, time.perf_counter() - start))
    validation = _validation_line(estimator)
    if validation is not None:
        say(args, validation)
    if args.sample_grid is not None:
        say(args, f"Sample grids in {args.sample_grid}{os.sep}")
    if table:
        example = " --csv samples.csv -n 100"
    else:
        label = f" --class {shlex.quote(str(estimator.classes_[0]))}" if y is not None else ""
        example = f"{label} --png grid.png"
    say(args, f"Saved to {args.out}{os.sep} (gan-estimators sample {args.out}{example})")
    return 0


#: How ``--class`` reads a label of boolean classes.
_BOOLEAN_WORDS = {"true": True, "1": True, "false": False, "0": False}


def _parse_label(text, kind):
    """``text`` as a label of the NumPy dtype kind ``kind``; None if it cannot be one."""
    try:
        if kind in "iu":
            return int(text)
        if kind == "f":
            return float(text)
    except ValueError:
        return None
    if kind == "b":
        return _BOOLEAN_WORDS.get(text.strip().lower())
    return text


def _parse_classes(texts, classes):
    """The labels ``texts`` (``--class`` values) as classes of ``classes``: ``"7"`` is the
    class ``7`` of integer classes.  Returns an array of ``classes``' dtype.

    Raises
    ------
    UserError
        A label that is not one of ``classes`` (the message lists them).
    """
    import numpy as np

    known = classes.tolist()
    parsed = []
    for text in texts:
        label = _parse_label(text, classes.dtype.kind)
        if label is None or label not in known:
            shown = ", ".join(str(c) for c in known)
            raise UserError(f"--class {text!r} is not a class of this model; its classes: {shown}")
        parsed.append(label)
    return np.asarray(parsed, dtype=classes.dtype)


def run_sample(args):
    """Run ``gan-estimators sample`` with the parsed ``args``; returns the exit status."""
    import numpy as np

    if args.npy is None and args.png is None and args.csv is None:
        raise UserError("nothing to write: give --npy FILE, --csv FILE and/or --png FILE")
    if not os.path.isdir(args.model):
        raise UserError(f"{args.model}: no such model folder")
    if not os.path.isfile(os.path.join(args.model, "estimator.json")):
        raise UserError(f"{args.model}: not a saved model (no estimator.json)")
    if args.random_state is not None and not 0 <= args.random_state < 2**32:
        raise UserError(f"--random-state must be in [0, 2**32 - 1]; got {args.random_state}")
    for path, what in ((args.npy, "samples"), (args.csv, "samples"), (args.png, "the grid")):
        if path is not None:
            check_parent(path, what)
    plotting = require_plotting() if args.png is not None else None

    GANEstimator, _ = import_estimators()
    try:
        estimator = GANEstimator.load(args.model)
    except (ModelFolderError, OSError) as exc:
        raise UserError(f"cannot load the model: {exc}") from None
    if fitted_on_table(estimator):
        return sample_table(args, estimator)
    if args.csv is not None:
        raise UserError(
            "--csv writes the rows of a model fitted on a table (fit --data FILE.csv); this one "
            "was fitted on an array: use --npy FILE"
        )
    if args.conditions is not None:
        raise UserError(
            "--condition needs a model fitted on a table (fit --data FILE.csv); a model fitted "
            "with --conditional takes --class LABEL"
        )
    if args.png is not None and not hasattr(estimator, "image_shape_"):
        raise UserError("the model generates table rows, not images: use --npy")
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        if args.classes is not None:
            raise UserError(
                "--class needs a model fitted with class labels (fit --conditional); this "
                "one was fitted without"
            )
        samples = estimator.sample(args.n, random_state=args.random_state)
        labels = None
    else:
        requested = None
        if args.classes is not None:
            requested = np.repeat(_parse_classes(args.classes, classes), args.n)
        samples, labels = estimator.sample(
            args.n if requested is None else len(requested),
            y=requested,
            random_state=args.random_state,
            return_labels=True,
        )
    n = len(samples)
    if args.npy is not None:
        written = write_npy(args.npy, samples)
        print(f"Wrote {n} samples of shape {samples.shape[1:]} to {written}")
        if labels is not None:
            print(f"Wrote their labels to {write_labels(written, labels)}")
    if args.png is not None:
        low, high = estimator.data_min_, estimator.data_max_
        rows = {} if labels is None else {"y": labels}  # one row per class
        fig = plotting.plot_samples(samples, n=n, value_range=(low, high), **rows)
        save_figure(fig, args.png)
        print(f"Wrote a grid of {n} samples to {args.png}")
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


def _run_demo(args):
    return (run_conditional_demo if args.conditional else run_demo)(args)


_COMMANDS = {
    "demo": _run_demo,
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
