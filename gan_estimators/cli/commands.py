"""The ``gan-estimators`` command line (also ``python -m gan_estimators``).

Commands:

``demo``
    The main job end to end, offline: train a :class:`~gan_estimators.WGANEstimator` with the
    package defaults on one class of a dataset, evolve its hyperparameters with
    :class:`~gan_estimators.EvolutionarySearchCV` over the reference genes, refit the best, and
    write figures, ``cv_results.csv``, ``summary.json`` and the saved model to a folder.
``fit``
    Train a ``WGANEstimator`` on a dataset class or a ``.npy`` array and save it.
``sample``
    Generate samples from a saved model, as ``.npy`` and/or a PNG grid.
``search``
    Evolve a ``WGANEstimator``'s hyperparameters; write the best parameters, the results table
    and the refitted best model.

User errors (a missing file, an array of the wrong shape, an unknown option value) end the
command with one line on stderr and a non-zero exit status, never a traceback.

Only the standard library is imported with this module, so ``--help`` and ``--version`` are
instant: NumPy, scikit-learn and TensorFlow are imported inside the commands that need them.
"""

import argparse
import contextlib
import os
import sys
import time

from gan_estimators._version import __version__

#: Data sources every command accepts (``fit`` and ``search`` also take a ``.npy`` file).
DATA_SOURCES = ("digits", "mnist", "fashion")

#: Search spaces of ``demo`` and ``search`` (see :func:`make_search`).
SPACES = ("defaults", "reference")

#: Budgets of ``demo`` and ``demo --quick``.  Each search candidate trains for ``steps``
#: generator iterations, the default model and the refitted best for ``final_steps``; the
#: ``*_time`` values (seconds, compilation included) cap them, and the search stops after the
#: first generation that ends past ``search_time``.  Budgets in steps make candidates comparable
#: however busy the machine is and keep runs reproducible (the same ``--random-state`` gives the
#: same best parameters); the caps only bind on a slow or busy machine, where they bound the
#: runtime at the price of that reproducibility.
DEMO_BUDGETS = {
    "default": {
        "population": 4,
        "generations": 3,
        "steps": 150,
        "final_steps": 1000,
        "n_jobs": 2,
        "candidate_time": 40.0,
        "final_time": 60.0,
        "search_time": 120.0,
    },
    "quick": {
        "population": 2,
        "generations": 2,
        "steps": 5,
        "final_steps": 10,
        "n_jobs": 1,
        "candidate_time": 90.0,
        "final_time": 30.0,
        "search_time": None,
    },
}

#: Pixel size (width, height) of the demo's figures; they are saved at :data:`FIGURE_DPI`.
FIGURE_SIZES = {"samples.png": (1200, 420), "losses.png": (1200, 680), "fitness.png": (1200, 600)}
FIGURE_DPI = 100

#: Fraction of the demo's class held out to score the models (never trained on).
HOLDOUT_FRACTION = 0.25

_FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class UserError(Exception):
    """A mistake of the user's (bad file, bad value): reported in one line, no traceback."""


# ------------------------------------------------------------------------------------ parser


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _int_at_least_2(text):
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer of at least 2, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a number of jobs (use 1, 2, ... or -1)")
    return value


def _data_source(text):
    if text in DATA_SOURCES or text.lower().endswith(".npy"):
        return text
    raise argparse.ArgumentTypeError(
        f"unknown data source {text!r}: use one of {', '.join(DATA_SOURCES)} or a .npy file"
    )


def _add_data_options(parser, *, npy):
    if npy:
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
        help="train on this class only" + (" (default: 5)" if not npy else ""),
    )


def _add_search_options(parser, *, defaults):
    parser.add_argument(
        "--space",
        choices=SPACES,
        default="defaults",
        help="'defaults': the reference genes on top of the package defaults (a GAN with Adam; "
        "no clip gene, learning rate around the default); 'reference': "
        "WGANEstimator.reference() with reference_space(), the specification's "
        "weight-clipping WGAN (default: defaults)",
    )
    parser.add_argument(
        "--population",
        type=_int_at_least_2,
        default=defaults["population"],
        help="individuals per generation (default: %(default)s)",
    )
    parser.add_argument(
        "--generations",
        type=_positive_int,
        default=defaults["generations"],
        help="generations, the initial population included (default: %(default)s)",
    )
    parser.add_argument(
        "--steps",
        type=_positive_int,
        default=defaults["steps"],
        help="each candidate's budget in generator iterations (default: %(default)s)",
    )
    parser.add_argument(
        "--candidate-time",
        type=_positive_float,
        default=defaults["candidate_time"],
        metavar="SECONDS",
        help="cap on each candidate's training time in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--search-time",
        type=_positive_float,
        default=defaults["search_time"],
        metavar="SECONDS",
        help="stop after the first generation that ends past this time (default: %(default)s)",
    )
    parser.add_argument(
        "--cv",
        type=_positive_int,
        default=1,
        help="cross-validation folds per candidate; 1 is a single 75/25 split "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=defaults["n_jobs"],
        help="candidates trained in parallel (joblib processes; -1: one per core) "
        "(default: %(default)s)",
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


def _add_estimator_options(parser):
    group = parser.add_argument_group(
        "estimator parameters", "WGANEstimator parameters; omitted ones keep their defaults"
    )
    group.add_argument("--reference", action="store_true", help="start from .reference()")
    group.add_argument("--loss", choices=("wgan-gp", "wgan", "gan"))
    group.add_argument("--latent-dim", type=_positive_int, metavar="N")
    group.add_argument("--n-filters", type=_positive_int, metavar="N")
    group.add_argument("--critic-width", type=_positive_float, metavar="RATIO")
    group.add_argument("--upsampling", choices=("nearest", "transposed"))
    group.add_argument("--alpha", type=float, metavar="SLOPE")
    group.add_argument("--n-critic", type=_positive_int, metavar="N")
    group.add_argument("--n-gen", type=_positive_int, metavar="N")
    group.add_argument("--clip-value", type=_positive_float, metavar="C")
    group.add_argument("--gp-weight", type=float, metavar="LAMBDA")
    group.add_argument("--label-noise", type=float, metavar="ETA")
    group.add_argument("--learning-rate", type=_positive_float, metavar="LR")
    group.add_argument("--optimizer", choices=("adam", "rmsprop", "sgd"))
    group.add_argument("--batch-size", type=_positive_int, metavar="N")
    group.add_argument("--n-steps", type=_positive_int, metavar="N")
    group.add_argument("--epochs", type=_positive_float, metavar="N")
    group.add_argument("--max-time", type=_positive_float, metavar="SECONDS")
    group.add_argument("--network", choices=("auto", "conv", "mlp"))


_ESTIMATOR_OPTIONS = (
    "loss",
    "latent_dim",
    "n_filters",
    "critic_width",
    "upsampling",
    "alpha",
    "n_critic",
    "n_gen",
    "clip_value",
    "gp_weight",
    "label_noise",
    "learning_rate",
    "optimizer",
    "batch_size",
    "n_steps",
    "epochs",
    "max_time",
    "network",
)


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

    default = DEMO_BUDGETS["default"]
    demo = commands.add_parser(
        "demo",
        help="train, evolve and refit a WGAN on one digit class; write figures and a report",
        description="Train a WGANEstimator with the package defaults on one class, evolve its "
        "hyperparameters with EvolutionarySearchCV, refit the best, and write samples.png, "
        "losses.png, fitness.png, cv_results.csv, summary.json and best_model/ to --out. "
        "Runs offline on the embedded digits by default.",
    )
    demo.add_argument(
        "--out", default="gan-demo", metavar="DIR", help="output folder (default: %(default)s)"
    )
    demo.add_argument(
        "--quick",
        action="store_true",
        help="a smaller population, fewer generations and shorter budgets (under a minute "
        "on 2 cores); options given explicitly still apply",
    )
    _add_data_options(demo, npy=False)
    _add_search_options(demo, defaults=dict.fromkeys(default))
    demo.add_argument(
        "--final-steps",
        type=_positive_int,
        default=None,
        help=f"generator iterations of the default model and of the refitted best "
        f"(default: {default['final_steps']}, --quick: {DEMO_BUDGETS['quick']['final_steps']})",
    )
    _add_common_options(demo)
    # Budget options default to None so that --quick can tell which ones were given.
    for action in demo._actions:
        if action.dest in default and action.dest != "final_steps":
            action.help = action.help.replace(
                "(default: %(default)s)",
                f"(default: {default[action.dest]}, --quick: {DEMO_BUDGETS['quick'][action.dest]})",
            )

    fit = commands.add_parser(
        "fit",
        help="train a WGANEstimator and save it",
        description="Train a WGANEstimator on a dataset (or one class of it) or a .npy array, "
        "and save it with WGANEstimator.save.",
    )
    _add_data_options(fit, npy=True)
    fit.add_argument(
        "--out", default="gan-model", metavar="DIR", help="model folder (default: %(default)s)"
    )
    _add_estimator_options(fit)
    _add_common_options(fit)

    sample = commands.add_parser(
        "sample",
        help="generate samples from a saved model",
        description="Generate samples from a model saved by 'fit', 'search' or 'demo'.",
    )
    sample.add_argument("model", metavar="MODEL_DIR", help="folder written by WGANEstimator.save")
    sample.add_argument(
        "-n", type=_positive_int, default=64, help="number of samples (default: %(default)s)"
    )
    sample.add_argument("--npy", metavar="FILE", help="write the samples to this .npy file")
    sample.add_argument("--png", metavar="FILE", help="write a grid of the samples (PNG)")
    sample.add_argument("--random-state", type=int, default=None, help="seed of the latent vectors")

    search = commands.add_parser(
        "search",
        help="evolve a WGANEstimator's hyperparameters",
        description="Evolve a WGANEstimator's hyperparameters with EvolutionarySearchCV, then "
        "write best_params.json, cv_results.csv and the refitted best model (best_model/).",
    )
    _add_data_options(search, npy=True)
    search.add_argument(
        "--out", default="gan-search", metavar="DIR", help="output folder (default: %(default)s)"
    )
    _add_search_options(search, defaults=default)
    search.add_argument(
        "--refit-steps",
        type=_positive_int,
        default=None,
        help="generator iterations of the refitted best (default: --steps)",
    )
    _add_common_options(search)
    return parser


# -------------------------------------------------------------------------------- utilities


def _say(args, message=""):
    if not getattr(args, "quiet", False):
        print(message, flush=True)


def _native_logs_wanted():
    """Whether the user asked for TensorFlow's C++ log lines (``TF_CPP_MIN_LOG_LEVEL`` < 3)."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3") != "3"


@contextlib.contextmanager
def _native_stderr_silenced(enabled=True):
    """Point file descriptor 2 at the null device; Python's ``sys.stderr`` keeps the terminal.

    TensorFlow's C++ start-up lines (CUDA probing, oneDNN notices) are written to descriptor 2
    before its logging honours ``TF_CPP_MIN_LOG_LEVEL``, by this process when it imports
    TensorFlow and by worker processes (which inherit the descriptor) when they do.  Progress
    bars, warnings and errors go through ``sys.stderr`` and stay visible.
    """
    try:
        original_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. a captured stream: nothing to do
        original_fd = None
    if not enabled or original_fd != 2:
        yield
        return
    sys.stderr.flush()
    python_stderr = sys.stderr
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        sys.stderr = open(  # closed in finally
            os.dup(saved),
            "w",
            buffering=1,
            encoding=python_stderr.encoding,
            errors="backslashreplace",
        )
        yield
    finally:
        if sys.stderr is not python_stderr:
            sys.stderr.flush()
            sys.stderr.close()
            sys.stderr = python_stderr
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _import_estimator():
    """Import :class:`WGANEstimator` -- and TensorFlow -- without TensorFlow's start-up noise."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _native_stderr_silenced(enabled=not _native_logs_wanted()):
        from gan_estimators.gan.estimator import WGANEstimator
    return WGANEstimator


def _require_plotting():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never needs a display
        from gan_estimators import plotting
    except ImportError as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    return plotting


def _prepare_folder(path, what):
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"{what} {path!r} exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {what} {path!r}: {exc.strerror or exc}") from None


def _check_parent(path, what):
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UserError(f"cannot write {what} {path!r}: folder {parent!r} does not exist")


def _load_npy(path):
    import numpy as np

    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file")
    try:
        X = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{path}: not a readable .npy array ({exc})") from None
    if not isinstance(X, np.ndarray):
        X.close()
        raise UserError(f"{path}: holds several arrays (.npz); save one array with numpy.save")
    if X.dtype.kind not in "biuf":
        raise UserError(f"{path}: expected numbers, got an array of dtype {X.dtype}")
    if X.ndim not in (2, 3, 4):
        raise UserError(
            f"{path}: expected shape (n, features), (n, height, width) or "
            f"(n, height, width, channels); got shape {X.shape}"
        )
    if X.shape[0] < 2 or 0 in X.shape:
        raise UserError(f"{path}: expected at least 2 non-empty samples; got shape {X.shape}")
    X = X.astype(np.float32)
    if not np.all(np.isfinite(X)):
        raise UserError(f"{path}: contains NaN or infinite values")
    return X


def load_data(source, *, data_home=None, label=None):
    """Load training data for a command: a dataset (optionally one class) or a ``.npy`` file.

    Parameters
    ----------
    source : {"digits", "mnist", "fashion"} or str
        A dataset name or the path of a ``.npy`` file.
    data_home : str or None, default=None
        Folder holding the MNIST / Fashion-MNIST files.
    label : int or None, default=None
        Keep only this class (datasets only).

    Returns
    -------
    X : ndarray of float32
        Images with values in [0, 1] for the datasets; the array as stored for ``.npy``.
    description : str
        One line describing the data.

    Raises
    ------
    UserError
        Missing or unreadable files, a wrong shape, or a class given for a ``.npy`` file.
    """
    if source not in DATA_SOURCES:
        if label is not None:
            raise UserError("--class selects a class of digits, mnist or fashion, not of a file")
        X = _load_npy(source)
        return X, f"{source}: {X.shape[0]} samples of shape {X.shape[1:]}"
    from gan_estimators import datasets

    if source == "digits":
        X, y = datasets.load_digits_images(return_X_y=True)
        name = "digits (scikit-learn's embedded 8x8 digits)"
    else:
        if data_home is not None and not os.path.isdir(os.path.expanduser(data_home)):
            raise UserError(f"--data-home {data_home!r}: no such folder")
        try:
            X, y = datasets.load_mnist(source, "train", data_home=data_home, as_float=True)
        except datasets.DataNotFoundError as exc:
            first = str(exc).splitlines()[0].replace(" Looked in, in this order:", "")
            raise UserError(
                f"{first} Pass --data-home DIR (a folder with the IDX files) or set "
                f"{datasets.ENV_VAR}."
            ) from None
        except ValueError as exc:  # a corrupt file: the message names it
            raise UserError(str(exc).splitlines()[0]) from None
        name = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}[source] + " (train split)"
    if label is not None:
        X = datasets.extract_class(X, y, label)
        label_name = f" '{_FASHION_CLASSES[label]}'" if source == "fashion" else ""
        name += f", class {label}{label_name}"
    shape = "x".join(str(s) for s in X.shape[1:])
    return X, f"{name}: {X.shape[0]} images of {shape}"


def _split(X, fraction, random_state):
    import numpy as np

    n = len(X)
    n_holdout = round(n * fraction)
    if n_holdout < 2 or n - n_holdout < 4:
        raise UserError(f"too few samples ({n}) to hold out {fraction:.0%} for scoring")
    order = np.random.default_rng(random_state).permutation(n)
    return X[np.sort(order[n_holdout:])], X[np.sort(order[:n_holdout])]


def _plain(value):
    """``value`` with NumPy scalars, arrays and non-finite floats made JSON-friendly."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _write_json(path, document):
    import json

    with open(path, "w", encoding="utf-8") as handle:
        json.dump(_plain(document), handle, indent=2, allow_nan=False)
        handle.write("\n")


def write_cv_results(results, path):
    """Write a search's ``cv_results_`` as CSV, one row per configuration.

    Masked entries (a parameter a configuration does not set) are empty cells; the ``params``
    column holds JSON.  pandas reads the file with ``pandas.read_csv(path)``.

    Parameters
    ----------
    results : dict
        ``cv_results_`` of a fitted search.
    path : str
        Destination file.
    """
    import csv
    import json

    import numpy as np

    keys = list(results)
    n_rows = len(results["params"])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(keys)
        for i in range(n_rows):
            row = []
            for key in keys:
                column = results[key]
                if np.ma.isMaskedArray(column) and np.ma.getmaskarray(column)[i]:
                    row.append("")
                    continue
                value = column[i]
                if isinstance(value, dict):
                    row.append(json.dumps(_plain(value), sort_keys=True))
                else:
                    value = _plain(value)
                    row.append("nan" if value is None else value)
            writer.writerow(row)


def png_size(path):
    """(width, height) of a PNG file, read from its header.

    Parameters
    ----------
    path : str
        A PNG file.

    Returns
    -------
    tuple of int
    """
    import struct

    with open(path, "rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    return struct.unpack(">II", head[16:24])


def _save_figure(fig, path, size):
    width, height = size
    fig.set_size_inches(width / FIGURE_DPI, height / FIGURE_DPI)
    fig.savefig(path, dpi=FIGURE_DPI)
    import matplotlib.pyplot as plt

    plt.close(fig)


# ------------------------------------------------------------------------- search machinery


def make_search(
    space="defaults",
    *,
    population=6,
    generations=4,
    steps=150,
    candidate_time=None,
    search_time=None,
    cv=1,
    n_jobs=1,
    random_state=0,
    verbose=0,
    callbacks=None,
):
    """The evolutionary search that ``demo`` and ``search`` run.

    Parameters
    ----------
    space : {"defaults", "reference"}, default="defaults"
        ``"defaults"``: a ``WGANEstimator()`` with the package defaults (a non-saturating GAN
        with Adam) evolved over the genes of :func:`~gan_estimators.reference_space`
        that change it.  ``clip_value`` is dropped when the loss does not clip weights (a gene
        that changes nothing would only make the search retrain identical models), and the
        learning rate is decoded over ``[lr / 10, 5 lr]`` (log scale) around the default
        ``lr``, because the reference range, 1e-8 to 1e-4, was made for RMSprop on a clipped
        critic: below about 5e-5 Adam leaves the networks untrained in any short budget.
        ``"reference"``: ``WGANEstimator.reference()`` with the whole ``reference_space()``,
        the specification's weight-clipping WGAN search, which barely learns in short budgets.
    population, generations : int
        ``population_size`` and ``generations`` of the search.
    steps : int
        Every candidate's budget, ``n_steps`` generator iterations.
    candidate_time : float or None
        Every candidate's ``max_time`` cap in seconds.
    search_time : float or None
        The search's ``max_time``.
    cv : int, default=1
        Folds per candidate; 1 is a single split holding out 25 % of the data.
    n_jobs : int, default=1
        Parallel candidates.
    random_state : int, default=0
        Seeds the candidates' training, the folds and the genetic algorithm.
    verbose : int, default=0
        The search's ``verbose``.
    callbacks : list of callable or None, default=None
        The search's ``callbacks``.

    Returns
    -------
    EvolutionarySearchCV
        Unfitted, with ``refit=False`` (the caller refits the best with a larger budget).
    """
    from sklearn.model_selection import KFold, ShuffleSplit

    from gan_estimators.search.presets import reference_space
    from gan_estimators.search.search_cv import EvolutionarySearchCV
    from gan_estimators.search.space import Real

    WGANEstimator = _import_estimator()

    budget = {"n_steps": steps, "max_time": candidate_time, "random_state": random_state}
    genes = reference_space()
    if space == "reference":
        estimator = WGANEstimator.reference(**budget)
    else:
        estimator = WGANEstimator(**budget)
        if estimator.loss != "wgan":
            genes.pop("clip_value")
        lr = float(estimator.learning_rate)
        genes["learning_rate"] = Real(lr / 10, lr * 5, log=True)
    if cv == 1:
        splitter = ShuffleSplit(n_splits=1, test_size=HOLDOUT_FRACTION, random_state=random_state)
    else:
        splitter = KFold(cv, shuffle=True, random_state=random_state)
    scoring = None
    if not hasattr(estimator, "score"):
        from gan_estimators.quality.scorers import get_scorer

        scoring = get_scorer("fd")  # what score() returns: -FD in the estimator's feature space
    return EvolutionarySearchCV(
        estimator,
        genes,
        scoring=scoring,
        cv=splitter,
        population_size=population,
        generations=generations,
        max_time=search_time,
        n_jobs=n_jobs,
        refit=False,
        verbose=verbose,
        random_state=random_state,
        callbacks=callbacks,
    )


def _fit_quietly(estimator, X):
    """Fit, collecting GANTrainingWarnings (reported from ``diagnostics_`` instead)."""
    import warnings

    from sklearn.utils._param_validation import InvalidParameterError

    from gan_estimators.quality.diagnostics import GANTrainingWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        try:
            return estimator.fit(X)
        except InvalidParameterError as exc:
            raise UserError(str(exc)) from None


def _diagnostics_line(estimator):
    report = getattr(estimator, "diagnostics_", None)
    if report is None:
        return "diagnostics: not available"
    verdicts = {name: mode.flagged for name, mode in report.items()}
    flagged = [name.replace("_", " ") for name, value in verdicts.items() if value]
    if flagged:
        return "diagnostics: FLAGGED " + ", ".join(flagged)
    unassessed = [name for name, value in verdicts.items() if value is None]
    if len(unassessed) == len(verdicts):
        return "diagnostics: not assessed (" + report[unassessed[0]].reason.rstrip(".") + ")"
    if unassessed:
        return f"diagnostics: no failure mode detected ({len(unassessed)} not assessed)"
    return "diagnostics: no failure mode detected"


def _evaluate(estimator, holdout):
    """Sample-quality metrics of ``estimator`` against held-out data (paper conventions)."""
    from gan_estimators.quality.evaluation import evaluate_samples
    from gan_estimators.quality.metrics import METRIC_NAMES

    metrics = evaluate_samples(estimator, holdout, METRIC_NAMES)
    return {"score": -metrics["fd"], **metrics}


def _real_floor(estimator, train, holdout, random_state):
    """FD between held-out real data and as many real training images: the best reachable."""
    import numpy as np

    from gan_estimators.quality.features import resolve_feature_map
    from gan_estimators.quality.metrics import frechet_distance

    mapping = getattr(estimator, "feature_map_", None)
    if mapping is None:
        mapping = resolve_feature_map("auto", holdout, random_state=0)
    rng = np.random.default_rng(random_state)
    n = min(len(train), len(holdout))
    subset = train[np.sort(rng.choice(len(train), n, replace=False))]
    return float(frechet_distance(mapping.transform(holdout[:n]), mapping.transform(subset)))


def _model_report(estimator, seconds, quality):
    report = getattr(estimator, "diagnostics_", None)
    return {
        "params": estimator.get_params(deep=False),
        "n_steps": int(estimator.n_steps_),
        "stopped_by_max_time": int(estimator.n_steps_) < int(estimator.n_steps),
        "fit_seconds": seconds,
        "score": quality["score"],
        "metrics": {k: v for k, v in quality.items() if k != "score"},
        "diagnostics": report.to_dict() if report is not None else None,
    }


def _search_report(search, seconds, space):
    logbook = [dict(entry) for entry in search.logbook_]
    return {
        "space": space,
        "param_space": {name: repr(dim) for name, dim in search.param_space.items()},
        "population_size": search.population_size,
        "generations": search.generations,
        "candidate_n_steps": search.estimator.n_steps,
        "candidate_max_time": search.estimator.max_time,
        "cv_splits": search.n_splits_,
        "best_params": search.best_params_,
        "best_cv_score": float(search.best_score_),
        "n_candidates_evaluated": search.n_candidates_evaluated_,
        "cache_hits": search.cache_hits_,
        "stop_reason": search.stop_reason_,
        "seconds": seconds,
        "logbook": logbook,
    }


class _GenerationReport:
    """Search callback: one line per generation and, if asked, a progress bar over generations.

    scikit-learn sends the search (``caller=self``), callbacks included, to every worker: the
    bar is left out of the pickled state.
    """

    def __init__(self, generations, bar=False):
        self.generations = generations
        self.want_bar = bar
        self.bar = None
        self.reported = 0

    def open(self):
        """Start the bar (on the ``sys.stderr`` of the moment)."""
        if self.want_bar:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.generations, desc="EvolutionarySearchCV", unit="gen")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["bar"] = None
        return state

    def __call__(self, record):
        from tqdm.auto import tqdm

        hits = record["cache_hits"]
        tqdm.write(
            f"      generation {record['gen'] + 1}/{self.generations}: "
            f"{record['nevals']} new configuration{'s' if record['nevals'] != 1 else ''}"
            + (f", {hits} cache hit{'s' if hits != 1 else ''}" if hits else "")
            + f"; best {record['best']:.1f}, population mean {record['mean']:.1f} "
            f"({record['elapsed']:.0f} s)",
            file=sys.stdout,
        )
        sys.stdout.flush()
        self.reported += 1
        if self.bar is not None:
            self.bar.set_postfix(best=f"{record['best']:.4g}", refresh=False)
            self.bar.update(1)
        return False

    def catch_up(self, logbook):
        """Report the generations the search did not call back for (the one that stopped it)."""
        for record in list(logbook)[self.reported :]:
            self(dict(record))

    def close(self):
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _run_search(args, X, budget):
    import warnings

    from sklearn.exceptions import FitFailedWarning

    from gan_estimators.quality.diagnostics import GANTrainingWarning

    parallel = budget["n_jobs"] != 1
    report = None if args.quiet else _GenerationReport(budget["generations"], bar=parallel)
    search = make_search(
        args.space,
        population=budget["population"],
        generations=budget["generations"],
        steps=budget["steps"],
        candidate_time=budget["candidate_time"],
        search_time=budget["search_time"],
        cv=args.cv,
        n_jobs=budget["n_jobs"],
        random_state=args.random_state,
        # In one process, 2 shows the search's bar and a line as each candidate finishes
        # (parameters, time).  In parallel, scikit-learn pickles the search into every task
        # and the search's own bar does not survive that: the report draws the bar instead.
        verbose=0 if args.quiet or parallel else 2,
        callbacks=None if report is None else [report],
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Weak candidates are expected: their diagnostics would only interrupt the progress bar.
        warnings.simplefilter("ignore", GANTrainingWarning)
        warnings.simplefilter("ignore", FitFailedWarning)
        try:
            # Worker processes inherit descriptor 2 and would print TensorFlow's start-up lines.
            with _native_stderr_silenced(enabled=parallel and not _native_logs_wanted()):
                if report is not None:
                    report.open()
                try:
                    search.fit(X)
                    if report is not None:
                        report.catch_up(search.logbook_)
                finally:
                    if report is not None:
                        report.close()
        except ValueError as exc:
            if "finite score" in str(exc) or "fits failed" in str(exc):
                raise UserError(f"the search found no working configuration: {exc}") from None
            raise
    return search, time.perf_counter() - start


def _refit_best(search, X, *, steps, max_time, verbose):
    from sklearn.base import clone

    best = clone(search.estimator).set_params(
        **search.best_params_, n_steps=steps, max_time=max_time, verbose=verbose
    )
    start = time.perf_counter()
    _fit_quietly(best, X)
    return best, time.perf_counter() - start


def _format_params(params):
    parts = []
    for name, value in params.items():
        parts.append(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}")
    return ", ".join(parts)


# ---------------------------------------------------------------------------------- commands


def _budget_text(steps, seconds):
    if seconds is None:
        return f"{steps} steps"
    return f"{steps} steps or {seconds:g} s, whichever comes first"


def _demo_budget(args):
    preset = DEMO_BUDGETS["quick" if args.quick else "default"]
    given = {key: getattr(args, key, None) for key in preset}
    return {key: preset[key] if given[key] is None else given[key] for key in preset}


def _run_demo(args):
    start = time.perf_counter()
    budget = _demo_budget(args)
    label = 5 if args.label is None else args.label
    plotting = _require_plotting()
    _prepare_folder(args.out, "output folder")
    bar = 0 if args.quiet else 1
    timings = {}

    _say(args, "[1/4] Loading data")
    X, description = load_data(args.data, data_home=args.data_home, label=label)
    train, holdout = _split(X, HOLDOUT_FRACTION, args.random_state)
    _say(args, f"      {description}; {len(train)} for training, {len(holdout)} held out")
    timings["load"] = time.perf_counter() - start

    final = _budget_text(budget["final_steps"], budget["final_time"])
    _say(args, f"[2/4] Training WGANEstimator with the package defaults ({final})")
    tick = time.perf_counter()
    WGANEstimator = _import_estimator()
    timings["import_tensorflow"] = time.perf_counter() - tick
    default = WGANEstimator(
        n_steps=budget["final_steps"],
        max_time=budget["final_time"],
        random_state=args.random_state,
        verbose=bar,
    )
    tick = time.perf_counter()
    _fit_quietly(default, train)
    timings["default_fit"] = time.perf_counter() - tick
    default_quality = _evaluate(default, holdout)
    floor = _real_floor(default, train, holdout, args.random_state)
    _say(
        args,
        f"      held-out FD {default_quality['fd']:.1f} (real data: {floor:.1f}); "
        + _diagnostics_line(default),
    )

    _say(
        args,
        f"[3/4] Evolving hyperparameters ('{args.space}' space): population "
        f"{budget['population']}, {budget['generations']} generations, each candidate "
        + _budget_text(budget["steps"], budget["candidate_time"]),
    )
    search, timings["search"] = _run_search(args, train, budget)
    _say(
        args,
        f"      {search.n_candidates_evaluated_} configurations trained, "
        f"{search.cache_hits_} cache hits, stopped by {search.stop_reason_}; "
        f"best CV score {search.best_score_:.1f}: " + _format_params(search.best_params_),
    )

    _say(args, f"[4/4] Refitting the best configuration ({final})")
    best, timings["refit"] = _refit_best(
        search, train, steps=budget["final_steps"], max_time=budget["final_time"], verbose=bar
    )
    best_quality = _evaluate(best, holdout)
    _say(args, f"      held-out FD {best_quality['fd']:.1f}; " + _diagnostics_line(best))

    tick = time.perf_counter()
    out = args.out
    files = {}
    for model in (default, best):
        model.set_params(verbose=0)  # a progress bar is no part of the saved model
    figure = _demo_samples_figure(plotting, holdout, default, best, args.random_state)
    files["samples.png"] = "generated samples beside held-out real ones"
    _save_figure(figure, os.path.join(out, "samples.png"), FIGURE_SIZES["samples.png"])
    figure = _demo_losses_figure(plotting, default, best)
    files["losses.png"] = "loss curves, gradient norms, normalised losses"
    _save_figure(figure, os.path.join(out, "losses.png"), FIGURE_SIZES["losses.png"])
    figure = plotting.plot_search(search)
    figure.suptitle("Evolutionary search: fitness = -FD on a held-out fold")
    files["fitness.png"] = "fitness by generation, parameters against score"
    _save_figure(figure, os.path.join(out, "fitness.png"), FIGURE_SIZES["fitness.png"])
    write_cv_results(search.cv_results_, os.path.join(out, "cv_results.csv"))
    files["cv_results.csv"] = f"{len(search.cv_results_['params'])} configurations evaluated"
    best.save(os.path.join(out, "best_model"))
    files["best_model/"] = "the refitted best model (WGANEstimator.load)"
    files["summary.json"] = "best parameters, scores, timings, diagnostics"
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
        "default_model": _model_report(default, timings["default_fit"], default_quality),
        "search": _search_report(search, timings["search"], args.space),
        "best_model": _model_report(best, timings["refit"], best_quality),
        "timings": timings,
        "files": {
            name: {"description": text, **_file_facts(os.path.join(out, name))}
            for name, text in files.items()
            if name != "summary.json"
        },
    }
    _write_json(os.path.join(out, "summary.json"), summary)

    _say(args)
    _say(args, f"Done in {timings['total']:.0f} s. Wrote to {out}{os.sep}:")
    for name, text in files.items():
        facts = summary["files"].get(name, {})
        size = f" ({facts['width']}x{facts['height']} px)" if "width" in facts else ""
        _say(args, f"  {name:<16}{text}{size}")
    _say(
        args,
        f"Held-out FD (lower is better; real data {floor:.1f}): package defaults "
        f"{default_quality['fd']:.1f}, evolved best {best_quality['fd']:.1f}",
    )
    _say(args, "Best parameters: " + _format_params(search.best_params_))
    return 0


def _file_facts(path):
    if path.endswith("/"):
        return {"path": path}
    facts = {"path": path, "bytes": os.path.getsize(path)}
    if path.endswith(".png"):
        facts["width"], facts["height"] = png_size(path)
    return facts


def _demo_samples_figure(plotting, holdout, default, best, random_state):
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


def _demo_losses_figure(plotting, default, best):
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


def _estimator_params(args):
    return {
        name: getattr(args, name) for name in _ESTIMATOR_OPTIONS if getattr(args, name) is not None
    }


def _run_fit(args):
    start = time.perf_counter()
    _prepare_folder(args.out, "model folder")
    X, description = load_data(args.data, data_home=args.data_home, label=args.label)
    params = _estimator_params(args)
    if params.get("network") == "conv" and X.ndim == 2:
        raise UserError("--network conv needs images; this data is a table (n, features)")
    _say(args, description)
    WGANEstimator = _import_estimator()
    params.update(random_state=args.random_state, verbose=0 if args.quiet else 1)
    make = WGANEstimator.reference if args.reference else WGANEstimator
    estimator = make(**params)
    _fit_quietly(estimator, X)
    estimator.set_params(verbose=0)
    estimator.save(args.out)
    _say(
        args,
        f"Trained {estimator.n_steps_} steps in {time.perf_counter() - start:.0f} s; "
        + _diagnostics_line(estimator),
    )
    _say(args, f"Saved to {args.out}{os.sep} (gan-estimators sample {args.out} --png grid.png)")
    return 0


def _run_sample(args):
    if args.npy is None and args.png is None:
        raise UserError("nothing to write: give --npy FILE and/or --png FILE")
    if not os.path.isdir(args.model):
        raise UserError(f"{args.model}: no such model folder")
    if not os.path.isfile(os.path.join(args.model, "estimator.json")):
        raise UserError(f"{args.model}: not a saved model (no estimator.json)")
    for path, what in ((args.npy, "samples"), (args.png, "the grid")):
        if path is not None:
            _check_parent(path, what)
    plotting = _require_plotting() if args.png is not None else None
    import numpy as np

    WGANEstimator = _import_estimator()
    try:
        estimator = WGANEstimator.load(args.model)
    except (ValueError, KeyError, OSError) as exc:
        raise UserError(f"{args.model}: cannot load the model ({exc})") from None
    samples = estimator.sample(args.n, random_state=args.random_state)
    if args.npy is not None:
        np.save(args.npy, samples)
        print(f"Wrote {args.n} samples of shape {samples.shape[1:]} to {args.npy}")
    if args.png is not None:
        if not hasattr(estimator, "image_shape_"):
            raise UserError("the model generates table rows, not images: use --npy")
        low, high = estimator.data_min_, estimator.data_max_
        fig = plotting.plot_samples(samples, n=args.n, value_range=(low, high))
        fig.savefig(args.png, dpi=FIGURE_DPI)
        import matplotlib.pyplot as plt

        plt.close(fig)
        print(f"Wrote a grid of {args.n} samples to {args.png}")
    return 0


def _run_search_command(args):
    start = time.perf_counter()
    _prepare_folder(args.out, "output folder")
    X, description = load_data(args.data, data_home=args.data_home, label=args.label)
    _say(args, description)
    budget = {key: getattr(args, key) for key in DEMO_BUDGETS["default"] if hasattr(args, key)}
    search, seconds = _run_search(args, X, budget)
    refit_steps = args.steps if args.refit_steps is None else args.refit_steps
    _say(args, f"Refitting the best configuration on all {len(X)} samples ({refit_steps} steps)")
    best, refit_seconds = _refit_best(
        search, X, steps=refit_steps, max_time=None, verbose=0 if args.quiet else 1
    )
    best.set_params(verbose=0)
    best.save(os.path.join(args.out, "best_model"))
    write_cv_results(search.cv_results_, os.path.join(args.out, "cv_results.csv"))
    report = _search_report(search, seconds, args.space)
    report.update(refit_steps=refit_steps, refit_seconds=refit_seconds, data=description)
    _write_json(os.path.join(args.out, "best_params.json"), report)
    _say(args, f"Best CV score {search.best_score_:.2f}: " + _format_params(search.best_params_))
    _say(
        args,
        f"Done in {time.perf_counter() - start:.0f} s. Wrote best_params.json, cv_results.csv "
        f"and best_model/ to {args.out}{os.sep}",
    )
    return 0


_COMMANDS = {
    "demo": _run_demo,
    "fit": _run_fit,
    "sample": _run_sample,
    "search": _run_search_command,
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
    except UserError as exc:
        message = " ".join(str(exc).split())
        print(f"gan-estimators {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gan-estimators {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
