"""The ``gan-estimators`` command line (also ``python -m gan_estimators``).

Commands:

``demo``
    The main job end to end, offline: train a :class:`~gan_estimators.GANEstimator` with the
    package defaults on one class of a dataset, evolve its hyperparameters with
    :class:`~gan_estimators.EvolutionarySearchCV` over the reference genes, refit the best, and
    write figures, ``cv_results.csv``, ``summary.json`` and the saved model to a folder.
``fit``
    Train a ``GANEstimator`` (or, with ``--wasserstein`` / ``--reference``, a
    ``WGANEstimator``) on a dataset class or a ``.npy`` array and save it; every estimator
    parameter is an option, and ``--validation-fraction``, ``--early-stopping`` and
    ``--sample-grid`` watch the training.
``sample``
    Generate samples from a saved model, as ``.npy`` and/or a PNG grid.
``search``
    Evolve a GAN's hyperparameters; write the best parameters, the results table
    and the refitted best model.

Modules:

- :mod:`.options`: the argument parser, its value types and defaults;
- :mod:`.parameters`: the estimator's parameters as options, their help texts, value types
  and defaults (from :mod:`gan_estimators.gan._config`);
- :mod:`.console`: user errors, progress messages, importing TensorFlow quietly;
- :mod:`.io`: training data, folders, JSON, CSV and PNG files;
- :mod:`.training`: the search the commands run, fits, refits, scores and their reports;
- :mod:`.demo`: the ``demo`` command;
- :mod:`.commands`: the ``fit``, ``sample`` and ``search`` commands and :func:`main`.

Importing this package does not import TensorFlow, so ``--help`` and ``--version`` do not
start it: the commands that train or load a model import it.
"""

from gan_estimators._version import __version__
from gan_estimators.cli.commands import main
from gan_estimators.cli.console import UserError
from gan_estimators.cli.demo import FIGURE_SIZES
from gan_estimators.cli.io import DATA_SOURCES, FIGURE_DPI, load_data, png_size, write_cv_results
from gan_estimators.cli.options import DEMO_BUDGETS, SPACES, build_parser
from gan_estimators.cli.training import HOLDOUT_FRACTION, make_search

__all__ = [
    "DATA_SOURCES",
    "DEMO_BUDGETS",
    "FIGURE_DPI",
    "FIGURE_SIZES",
    "HOLDOUT_FRACTION",
    "SPACES",
    "UserError",
    "__version__",
    "build_parser",
    "load_data",
    "main",
    "make_search",
    "png_size",
    "write_cv_results",
]
