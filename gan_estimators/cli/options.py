"""The ``gan-estimators`` argument parser: commands, options, value types and defaults.

The estimator options (:mod:`.parameters`) take their choices, constraints and defaults from
:mod:`gan_estimators.gan._config`, which does not import TensorFlow, so building the parser
(``--help``, ``--version``) does not either.
"""

import argparse
import inspect

from gan_estimators._version import __version__
from gan_estimators.cli.io import DATA_SOURCES
from gan_estimators.cli.parameters import add_parameter_options, option_name, shown_value
from gan_estimators.cli.tables import TABLE_FORMATS, is_table_file
from gan_estimators.cli.training import HOLDOUT_FRACTION, RESOURCES
from gan_estimators.gan._config import TABLE_PARAMS
from gan_estimators.gan.callbacks import SampleGrid

#: Search spaces of ``demo`` and ``search`` (see :func:`~gan_estimators.cli.make_search`).
SPACES = ("defaults", "reference")

#: Budgets of ``demo`` and ``demo --quick``.  The search is multi-fidelity: each generation's
#: new configurations train for ``min_resources`` of ``resource``, the best ``1 / factor`` again
#: for ``factor`` times more, up to ``max_resources``, the budget the package defaults and the
#: refitted best train for too; ``steps`` / ``candidate_time`` cap every fit's other budget
#: (None: no cap).  The search stops after the first generation that ends past
#: ``search_time``.  Both spend seconds, so every configuration gets equal compute and the
#: search finds what learns best per second; ``--resource n_steps`` spends generator
#: iterations instead, which makes a run reproducible but lets costly configurations win.
DEMO_BUDGETS = {
    "default": {
        "population": 8,
        "generations": 4,
        "resource": "max_time",
        "min_resources": 2.0,
        "max_resources": 6.0,
        "factor": 3,
        "steps": None,
        "candidate_time": None,
        "cv": 3,
        "n_jobs": 2,
        "search_time": 240.0,
    },
    "quick": {
        "population": 3,
        "generations": 3,
        "resource": "max_time",
        "min_resources": 1.0,
        "max_resources": 3.0,
        "factor": 3,
        "steps": None,
        "candidate_time": None,
        "cv": 1,
        "n_jobs": 1,
        "search_time": None,
    },
}

#: Defaults of the ``search`` command: every candidate trains for ``steps`` generator
#: iterations, capped at ``candidate_time`` seconds; the refit trains for ``--refit-steps``.
SEARCH_BUDGET = {
    "population": 4,
    "generations": 3,
    "steps": 150,
    "candidate_time": 40.0,
    "n_jobs": 2,
    "search_time": 120.0,
}

#: The class ``demo`` trains on unless ``--class`` says otherwise.
DEMO_CLASS = 5

_SAMPLE_GRID_EVERY = inspect.signature(SampleGrid).parameters["every"].default


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ------------------------------------------------------------------------------ value types


def _parse(text, parse, expected, is_valid=None):
    """``parse(text)``, or an ``ArgumentTypeError`` saying ``expected`` unless it is valid."""
    try:
        value = parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if is_valid is not None and not is_valid(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_int(text):
    return _parse(text, int, "a positive integer", lambda value: value >= 1)


def _int_at_least_2(text):
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer of at least 2, got {text!r}")
    return value


def _positive_float(text):
    return _parse(text, float, "a positive number", lambda value: 0 < value < float("inf"))


def _n_jobs(text):
    value = _parse(text, int, "an integer")
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a number of jobs (use 1, 2, ... or -1)")
    return value


def _data_source(text):
    if text in DATA_SOURCES or text.lower().endswith(".npy"):
        return text
    raise argparse.ArgumentTypeError(
        f"unknown data source {text!r}: use one of {', '.join(DATA_SOURCES)} or a .npy file"
    )


_TABLE_FILES = " or ".join(f"a {suffix} table" for suffix in TABLE_FORMATS)


def _data_source_or_table(text):
    if is_table_file(text):
        return text
    try:
        return _data_source(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"unknown data source {text!r}: use one of {', '.join(DATA_SOURCES)}, a .npy file "
            f"or {_TABLE_FILES}"
        ) from None


def _condition(text):
    """``COLUMN=VALUE`` as ``(column, value)``; the value may be empty (a missing value)."""
    column, equals, value = text.partition("=")
    if not equals or not column.strip():
        raise argparse.ArgumentTypeError(f"expected COLUMN=VALUE, got {text!r}")
    return column.strip(), value


# ---------------------------------------------------------------------------- option groups


def _add_data_options(parser, *, npy, tables=False):
    if npy and tables:
        parser.add_argument(
            "--data",
            type=_data_source_or_table,
            default="digits",
            metavar="{digits,mnist,fashion,FILE.npy,FILE.csv,FILE.parquet}",
            help="training data: a dataset, a .npy array of shape (n, features), "
            "(n, height, width) or (n, height, width, channels), or a table of named columns "
            "(.csv, or .parquet with pyarrow installed) read as a pandas DataFrame: numbers, "
            "text, booleans, missing values (default: digits)",
        )
    elif npy:
        parser.add_argument(
            "--data",
            type=_data_source,
            default="digits",
            metavar="{digits,mnist,fashion,FILE.npy}",
            help="training data: a dataset, or a .npy array of shape (n, features), "
            "(n, height, width) or (n, height, width, channels) (default: digits)",
        )
    else:
        parser.add_argument(
            "--data",
            choices=DATA_SOURCES,
            default="digits",
            help="dataset: scikit-learn's embedded 8x8 digits (offline), MNIST or "
            "Fashion-MNIST (default: digits)",
        )
    parser.add_argument(
        "--download",
        action="store_true",
        help="download MNIST / Fashion-MNIST through Keras if their files are not found "
        "(default: never download)",
    )
    parser.add_argument(
        "--data-home",
        metavar="DIR",
        help="folder holding the MNIST / Fashion-MNIST IDX files (see "
        "gan_estimators.datasets.load_mnist for where else they are looked for)",
    )
    parser.add_argument(
        "--digit",
        "--class",
        dest="label",
        type=int,
        choices=range(10),
        metavar="{0..9}",
        default=None,
        help="train on this class only" + ("" if npy else f" (default: {DEMO_CLASS})"),
    )


def _add_conditional_options(parser, *, npy):
    if not npy:
        parser.add_argument(
            "--conditional",
            action="store_true",
            help="instead of the search: train one class-conditional GANEstimator on every "
            "class of --data for the refit budget (--max-resources of --resource), and "
            "write samples.png (one row per class), losses.png, summary.json (per-class "
            "held-out scores) and model/",
        )
        return
    parser.add_argument(
        "--conditional",
        action="store_true",
        help="train a class-conditional model: on every class of a dataset with its labels, "
        "or on a .npy --data with the labels of --labels (sample it with 'sample --class')",
    )
    parser.add_argument(
        "--labels",
        metavar="FILE.npy",
        help="with --conditional and a .npy --data: a 1-D array of class labels (integers, "
        "floats, booleans or strings), one per sample",
    )


_HOLDOUT_SPLIT = f"{round(100 * (1 - HOLDOUT_FRACTION))}/{round(100 * HOLDOUT_FRACTION)}"

#: The search options after ``--space``: destination, ``add_argument`` settings and help.
_SEARCH_OPTIONS = (
    ("population", {"type": _int_at_least_2}, "individuals per generation"),
    ("generations", {"type": _positive_int}, "generations, the initial population included"),
    (
        "search_time",
        {"type": _positive_float, "metavar": "SECONDS"},
        "stop after the first generation that ends past this time",
    ),
    (
        "cv",
        {"type": _positive_int},
        f"cross-validation folds per candidate; 1 is a single {_HOLDOUT_SPLIT} split",
    ),
    (
        "n_jobs",
        {"type": _n_jobs},
        "candidates trained in parallel (joblib processes; -1: one per core)",
    ),
)

#: The candidates' budget of ``search``: one for all.
_STEP_BUDGET_OPTIONS = (
    ("steps", {"type": _positive_int}, "each candidate's budget in generator iterations"),
    (
        "candidate_time",
        {"type": _positive_float, "metavar": "SECONDS"},
        "cap on each candidate's training time in seconds",
    ),
)

#: The multi-fidelity budget of ``demo``.
_FIDELITY_OPTIONS = (
    (
        "resource",
        {"choices": RESOURCES},
        "the budget the search spends: seconds (equal compute per configuration) or "
        "generator iterations",
    ),
    (
        "min_resources",
        {"type": _positive_float, "metavar": "X"},
        "budget of a new configuration (seconds, or iterations)",
    ),
    (
        "max_resources",
        {"type": _positive_float, "metavar": "X"},
        "top budget: the best configurations', the default model's and the refit's",
    ),
    (
        "factor",
        {"type": _int_at_least_2},
        "the best 1/factor of the configurations scored at a budget train again for factor "
        "times more",
    ),
)


def _add_search_options(parser, *, defaults, budget_options):
    parser.add_argument(
        "--space",
        choices=SPACES,
        default="defaults",
        help="'defaults': the package defaults evolved over the reference genes (no clip "
        "gene, learning rate around the default; with a time budget, narrower n_filters and "
        "n_critic ranges and batch_size); 'reference': "
        "WGANEstimator.reference() with reference_space(), the weight-clipping WGAN of the "
        "reference configuration (default: defaults)",
    )
    defaults = {"cv": 1, **defaults}
    for dest, settings, text in _SEARCH_OPTIONS[:2] + budget_options + _SEARCH_OPTIONS[2:]:
        parser.add_argument(
            "--" + dest.replace("_", "-"),
            **settings,
            default=defaults[dest],
            help=text + " (default: %(default)s)",
        )


def _add_out_option(parser, default, what):
    parser.add_argument(
        "--out", default=default, metavar="DIR", help=f"{what} (default: %(default)s)"
    )


def _add_common_options(parser):
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the data split, the networks and the search (default: %(default)s)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars or progress messages"
    )


#: The options ``GANEstimator.for_tables()`` stands for: ``--loss wgan-gp --n-critic 5``.
_TABLE_OPTIONS = " ".join(f"{option_name(k)} {shown_value(v)}" for k, v in TABLE_PARAMS.items())


def _add_estimator_options(parser):
    group = parser.add_argument_group(
        "estimator",
        "fit builds a GANEstimator from a starting point: the package defaults (a "
        "non-saturating GAN) for a dataset or a .npy array; GANEstimator.for_tables(), the "
        f"package defaults with {_TABLE_OPTIONS}, for a table (.csv, .parquet); "
        "--wasserstein or --reference instead, for any data.  Every option given explicitly "
        "wins over the starting point (defaults below are the package's)",
    )
    start = group.add_mutually_exclusive_group()
    start.add_argument(
        "--wasserstein",
        action="store_true",
        help="build a WGANEstimator: a Wasserstein GAN with defaults tuned for its loss",
    )
    start.add_argument(
        "--reference",
        action="store_true",
        help="build WGANEstimator.reference(): the reference DCGAN/WGAN configuration",
    )
    add_parameter_options(parser)
    callbacks = parser.add_argument_group("callbacks")
    callbacks.add_argument(
        "--sample-grid",
        metavar="DIR",
        help="write a PNG grid of samples to DIR every --sample-grid-every generator "
        "iterations and at the end (images, or tables whose features form square images; "
        "needs matplotlib)",
    )
    callbacks.add_argument(
        "--sample-grid-every",
        type=_positive_int,
        metavar="N",
        help=f"generator iterations between two sample grids (default: {_SAMPLE_GRID_EVERY})",
    )


# ---------------------------------------------------------------------------------- parser


def _add_demo(commands):
    default, quick = DEMO_BUDGETS["default"], DEMO_BUDGETS["quick"]
    demo = commands.add_parser(
        "demo",
        help="train, evolve and refit a GAN on one digit class; write figures and a report",
        description="Train a GANEstimator with the package defaults on one class, evolve its "
        "hyperparameters with a multi-fidelity EvolutionarySearchCV (the defaults in its first "
        "generation), refit the best with the defaults' budget, and write samples.png, "
        "losses.png, fitness.png, cv_results.csv, summary.json and best_model/ to --out. "
        "Runs offline on the embedded digits by default.  With --conditional: one "
        "class-conditional GANEstimator trained on every class instead, no search.",
    )
    _add_out_option(demo, "gan-demo", "output folder")
    demo.add_argument(
        "--quick",
        action="store_true",
        help="a smaller population, fewer generations and budgets of 1 to 3 seconds per fit; "
        "options given explicitly still apply",
    )
    _add_data_options(demo, npy=False)
    _add_conditional_options(demo, npy=False)
    # Budget options default to None so that --quick can tell which ones were given.
    _add_search_options(demo, defaults=dict.fromkeys(default), budget_options=_FIDELITY_OPTIONS)
    _add_common_options(demo)
    for action in demo._actions:
        if action.dest in default:
            action.help = action.help.replace(
                "(default: %(default)s)",
                f"(default: {default[action.dest]}, --quick: {quick[action.dest]})",
            )


def _add_training_command(commands, name, summary, description, *, out, tables=False):
    """A command that trains on a dataset or a ``.npy`` array (or, with ``tables``, a table
    file) and writes to ``--out``."""
    parser = commands.add_parser(name, help=summary, description=description)
    _add_data_options(parser, npy=True, tables=tables)
    _add_out_option(parser, *out)
    return parser


def _add_fit(commands):
    fit = _add_training_command(
        commands,
        "fit",
        "train a GANEstimator (or a WGANEstimator) and save it",
        "Train a GANEstimator (a WGANEstimator with --wasserstein or --reference) on a dataset "
        "(or one class of it), a .npy array or a table (.csv, .parquet), and save it with its "
        "save method.",
        out=("gan-model", "model folder"),
        tables=True,
    )
    _add_conditional_options(fit, npy=True)
    _add_estimator_options(fit)
    _add_common_options(fit)


def _add_sample(commands):
    sample = commands.add_parser(
        "sample",
        help="generate samples from a saved model",
        description="Generate samples from a model saved by 'fit', 'search' or 'demo'.",
    )
    sample.add_argument(
        "model", metavar="MODEL_DIR", help="folder written by 'fit', 'search' or 'demo'"
    )
    sample.add_argument(
        "-n", type=_positive_int, default=64, help="number of samples (default: %(default)s)"
    )
    sample.add_argument(
        "--npy",
        metavar="FILE",
        help="write the samples to this .npy file (a conditional model's labels, one per "
        "sample, to FILE_labels.npy beside it)",
    )
    sample.add_argument(
        "--csv",
        metavar="FILE",
        help="a model fitted on a table (fit --data FILE.csv): write the sampled rows to this "
        "CSV file, with the training columns (missing values as empty cells)",
    )
    sample.add_argument("--png", metavar="FILE", help="write a grid of the samples (PNG)")
    sample.add_argument("--random-state", type=int, default=None, help="seed of the latent vectors")
    sample.add_argument(
        "--class",
        dest="classes",
        action="append",
        metavar="LABEL",
        help="a model fitted with --conditional: -n samples of this class, read as the type "
        "of the model's classes ('7' is the class 7); repeat for several classes, in the order "
        "given (the grid draws one row per class).  Left out, the classes are drawn from the "
        "training frequencies",
    )
    sample.add_argument(
        "--condition",
        dest="conditions",
        action="append",
        type=_condition,
        metavar="COLUMN=VALUE",
        help="a model fitted on a table: every row has VALUE in the discrete column COLUMN, "
        "VALUE read as one of the column's training values ('2007' is the integer 2007; an "
        "empty VALUE is a missing value); repeat for several columns",
    )


def _add_search(commands):
    search = _add_training_command(
        commands,
        "search",
        "evolve a GAN's hyperparameters",
        "Evolve the hyperparameters of a GANEstimator (a WGANEstimator with --space reference) "
        "with EvolutionarySearchCV, then write "
        "best_params.json, cv_results.csv and the refitted best model (best_model/).",
        out=("gan-search", "output folder"),
    )
    _add_search_options(search, defaults=SEARCH_BUDGET, budget_options=_STEP_BUDGET_OPTIONS)
    search.add_argument(
        "--refit-steps",
        type=_positive_int,
        default=None,
        help="generator iterations of the refitted best (default: --steps)",
    )
    _add_common_options(search)


def build_parser():
    """The ``argparse`` parser of the ``gan-estimators`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(
        prog="gan-estimators",
        description="GANs as scikit-learn estimators, tuned by evolutionary search.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in (_add_demo, _add_fit, _add_sample, _add_search):
        add_command(commands)
    return parser
