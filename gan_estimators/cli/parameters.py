"""The estimator's parameters as ``fit`` options: help texts, value types and defaults shown.

Names, choices, constraints and defaults come from :mod:`gan_estimators.gan._config`, which
does not import TensorFlow; the one-line help texts live here, in :data:`PARAMETER_HELP`.
Each option's value is parsed and checked against the parameter's own constraints, so a bad
value is a one-line usage error before anything is loaded or trained.  An option left out is
absent from the parsed arguments and the estimator keeps its own default.
"""

import argparse
import re
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from gan_estimators.gan._config import (
    CHOICES,
    DEFAULTS,
    EARLY_STOPPING_FRACTION,
    EVALUATIONS_PER_FIT,
    PARAMETER_CONSTRAINTS,
    REFERENCE_DEFAULTS,
    TABLE_PARAMS,
    UNSTORED_PARAMS,
    WGAN_DEFAULTS,
)
from gan_estimators.quality.features import FEATURE_MAPS

#: Estimator parameters that hold data or objects, no command-line values:
#: ``--validation-fraction`` and ``--sample-grid`` stand for ``validation_data`` and
#: ``callbacks``.
NOT_OPTIONS = UNSTORED_PARAMS

#: Estimator parameters that options of the command's own set.
SET_BY_OTHER_OPTIONS = {"random_state": "--random-state", "verbose": "--quiet"}

#: One line of help per parameter given as an option, in ``--help`` order.
PARAMETER_HELP = {
    "loss": "training loss: non-saturating GAN, Wasserstein with gradient penalty, or "
    "Wasserstein with weight clipping",
    "latent_dim": "size of the latent vector z ~ N(0, I)",
    "n_filters": "base filter count F of the generator (4F hidden units in the MLP)",
    "critic_width": "width of the critic relative to the generator (its base filter count is "
    "round(critic_width * F))",
    "network": "network pair: DCGAN (images only), MLP, or auto (conv for images, mlp for tables)",
    "upsampling": "how the convolutional generator doubles its resolution",
    "generator_activation": "hidden activation of the generator",
    "critic_norm": "normalisation in the critic; auto: batch with gan / wgan and layer with "
    "wgan-gp for the conv critic, none for the MLP",
    "alpha": "negative slope of the LeakyReLU activations",
    "dropout": "dropout rate after each critic activation",
    "init_std": "standard deviation of the N(0, std) kernel initialiser; none: Glorot-uniform",
    "n_critic": "critic updates per generator iteration",
    "n_gen": "generator updates per generator iteration",
    "clip_value": "bound of the critic's weight clipping (--loss wgan only)",
    "gp_weight": "weight of the gradient penalty (--loss wgan-gp only)",
    "label_noise": "noise of the critic's targets (--loss gan only); true means 0.2",
    "optimizer": "optimizer of both networks",
    "learning_rate": "learning rate of both networks unless set per network",
    "generator_learning_rate": "learning rate of the generator; none: --learning-rate",
    "critic_learning_rate": "learning rate of the critic; none: --learning-rate",
    "beta_1": "Adam's first-moment decay rate (other optimizers ignore it)",
    "beta_2": "Adam's second-moment decay rate (other optimizers ignore it)",
    "ema_decay": "decay of the moving average of the generator's weights that sampling and "
    "scoring use; none: the last weights",
    "batch_size": "samples per critic / generator update",
    "n_steps": "budget in generator iterations; none: no such budget",
    "epochs": "budget in passes over the data, as the critic sees them; none: no such budget",
    "max_time": "budget in seconds, compilation included; none: no such budget",
    "feature_map": "feature space of the score: held-out scores, diagnostics",
    "discrete_columns": "for a table (--data file.csv): comma-separated names of the columns "
    "modelled as categories; auto: text, boolean and few-valued integer columns",
    "warm_start": "saved with the model: a later fit of the loaded model continues training "
    "(this fit starts anew)",
    "validation_fraction": "fraction of the training data held out and scored (the "
    "estimator's score) while training; none: no validation",
    "eval_every": "when the held-out score is computed: every N generator iterations or Xs "
    f"seconds (200, 5s), and at the end; none: about {EVALUATIONS_PER_FIT} times per fit",
    "early_stopping": "stop once --n-iter-no-change held-out scores in a row have not improved "
    "by more than --tol, and keep the generator of the best score (holds out "
    f"{EARLY_STOPPING_FRACTION} of the data unless --validation-fraction says otherwise)",
    "n_iter_no_change": "held-out scores without improvement before early stopping",
    "tol": "least improvement of the held-out score that counts for early stopping",
}

#: The options of validation and early stopping, shown in a group of their own.
WATCHING = ("validation_fraction", "eval_every", "early_stopping", "n_iter_no_change", "tol")

#: The estimators ``fit`` can start from, with their defaults: (option, defaults).
STARTING_POINTS = (
    (None, DEFAULTS),
    ("--wasserstein", WGAN_DEFAULTS),
    ("--reference", REFERENCE_DEFAULTS),
)

_INTEGER = re.compile(r"[+-]?\d+")


def option_name(name):
    """The option of parameter ``name``: ``--n-steps`` for ``n_steps``."""
    return "--" + name.replace("_", "-")


def shown_value(value):
    """A parameter value as the command line spells it: ``none``, ``on`` / ``off``, ``0.5``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _constraints(name):
    constraints = PARAMETER_CONSTRAINTS[name]
    return constraints if isinstance(constraints, list) else [constraints]


def _is_flag(name):
    return _constraints(name) == ["boolean"]


def value_type(name):
    """The ``type=`` function of parameter ``name``'s option.

    It reads ``none`` as None (where the parameter accepts None), ``true`` / ``false`` (where
    it accepts booleans), an integer (where it accepts integers) and otherwise a float, and
    keeps the value only if one of the parameter's constraints accepts it.  A parameter that
    takes both integers and floats (``eval_every``: iterations or seconds) reads ``200`` as
    an integer and ``5s`` or ``2.5`` as a float.
    """
    constraints = _constraints(name)
    intervals = [c for c in constraints if isinstance(c, Interval)]
    integral = any(c.type is Integral for c in intervals)
    real = any(c.type is Real for c in intervals)
    nullable = None in constraints
    boolean = "boolean" in constraints
    expected = " or ".join(
        [str(c) for c in intervals] + ["none"] * nullable + ["true or false"] * boolean
    )

    def parse(text):
        word = text.strip().lower()
        if nullable and word == "none":
            return None
        if boolean and word in ("true", "false"):
            return word == "true"
        value = None
        if integral and _INTEGER.fullmatch(word):
            value = int(word)
        elif real:
            number = word[:-1] if integral and word.endswith("s") else word
            try:
                value = float(number)
            except ValueError:
                pass
        if value is None or not any(c.is_satisfied_by(value) for c in intervals):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    parse.__name__ = name  # argparse names the type in some messages
    return parse


def _column_names(text):
    """``auto``, or a comma-separated list of column names, as a list."""
    if text.strip() == "auto":
        return "auto"
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected auto or NAME,NAME,..., got {text!r}")
    return names


def _metavar(name):
    intervals = [c for c in _constraints(name) if isinstance(c, Interval)]
    kinds = {c.type for c in intervals}
    metavar = "N|Xs" if kinds == {Integral, Real} else "N" if Integral in kinds else "X"
    return metavar + "|none" if None in _constraints(name) else metavar


def _option_settings(name):
    """``add_argument`` settings of parameter ``name``, its help text included."""
    if _is_flag(name):
        settings = {"action": argparse.BooleanOptionalAction}
    elif name == "feature_map":
        settings = {"choices": tuple(FEATURE_MAPS)}
    elif name in CHOICES:
        settings = {"choices": CHOICES[name]}
    elif name == "discrete_columns":
        settings = {"type": _column_names, "metavar": "NAME,...|auto"}
    else:
        settings = {"type": value_type(name), "metavar": _metavar(name)}
    return {**settings, "default": argparse.SUPPRESS, "help": _help(name)}


def _help(name):
    """The help text, then ``(default: X; --wasserstein: Y; --reference: Z)``, a starting
    point's value shown where it differs from the package default."""
    default = DEFAULTS[name]
    shown = [f"default: {shown_value(default)}"]
    for option, defaults in STARTING_POINTS[1:]:
        if name in defaults and defaults[name] != default:
            shown.append(f"{option}: {shown_value(defaults[name])}")
    if name in TABLE_PARAMS:
        shown.append(f"a .csv/.parquet table: {shown_value(TABLE_PARAMS[name])}")
    # argparse formats help with %-interpolation
    return f"{PARAMETER_HELP[name]} ({'; '.join(shown)})".replace("%", "%%")


def add_parameter_options(parser):
    """Add the estimator's parameters as options of ``parser``, in two groups."""
    groups = {
        False: parser.add_argument_group(
            "estimator parameters", "omitted ones keep the estimator's defaults"
        ),
        True: parser.add_argument_group(
            "validation and early stopping",
            "score a held-out part of the training data while training",
        ),
    }
    for name in PARAMETER_HELP:
        groups[name in WATCHING].add_argument(option_name(name), **_option_settings(name))


def estimator_params(args):
    """The estimator parameters given on the command line, as a dict."""
    return {name: getattr(args, name) for name in PARAMETER_HELP if hasattr(args, name)}
