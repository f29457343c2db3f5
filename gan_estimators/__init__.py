"""GANs as scikit-learn estimators, tuned by evolutionary search.

The public API is re-exported here.  Names are imported lazily (PEP 562) so that
``import gan_estimators`` does not start TensorFlow until a GAN is actually used: tuning an
SVC with :class:`EvolutionarySearchCV` or running ``gan-estimators --help`` never pays for
TensorFlow's import.  Importing the package does import scikit-learn, to register its scorer
names (:mod:`gan_estimators.quality.scorers`).
"""

import importlib

# Registers the package's scorer names ("fd", "kid", ...) with scikit-learn, so that any
# search accepts them as ``scoring=`` once ``gan_estimators`` is imported.
import gan_estimators.quality  # noqa: F401
from gan_estimators import gan as _gan
from gan_estimators._version import __version__

# public name -> module that defines it (the GAN names as the gan subpackage lists them)
_LAZY_ATTRIBUTES = {
    **_gan.LAZY_ATTRIBUTES,
    "EvolutionarySearchCV": "gan_estimators.search.search_cv",
    "Integer": "gan_estimators.search.space",
    "Real": "gan_estimators.search.space",
    "Categorical": "gan_estimators.search.space",
    "reference_space": "gan_estimators.search.presets",
    "GANTrainingWarning": "gan_estimators.quality.diagnostics",
    "ModelFolderError": "gan_estimators.gan.errors",
    "NetworkTooLargeError": "gan_estimators.gan.errors",
}

_SUBMODULES = {
    "cli",
    "datasets",
    "diagnostics",
    "features",
    "gan",
    "metrics",
    "plotting",
    "presets",
    "quality",
    "scorers",
    "search",
    "space",
    "wgan",
}

__all__ = ["__version__", *sorted(_LAZY_ATTRIBUTES), *sorted(_SUBMODULES)]


def __getattr__(name):
    if name in _LAZY_ATTRIBUTES:
        module = importlib.import_module(_LAZY_ATTRIBUTES[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"gan_estimators.{name}")
    raise AttributeError(f"module 'gan_estimators' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
