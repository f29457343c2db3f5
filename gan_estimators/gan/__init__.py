"""The GAN estimator and the parts it is built from.

- :mod:`._config`: defaults, the reference configuration, option names and parameter
  constraints (no TensorFlow, so the command line can build its options from them);
- :mod:`.estimator`: :class:`WGANEstimator`, the scikit-learn estimator;
- :mod:`.settings`: the effective settings of the parameters for one fit;
- :mod:`.networks`, :mod:`.losses`, :mod:`.optimizers`, :mod:`.trainer`: the Keras networks,
  the loss strategies, the fused optimizers and the compiled train step;
- :mod:`.layout`: the data layout and scaling fitted on the training data;
- :mod:`.validation`: checks of training data;
- :mod:`.persistence`: the list of fitted attributes, pickling and the save/load folder
  format; :mod:`.encoding`: parameters and feature maps as JSON; :mod:`.folder`: a model
  folder written beside its destination and renamed into place, and its manifest;
  :mod:`.document`: the checks of a saved folder's JSON document and arrays;
- :mod:`.errors`: :class:`~.errors.ModelFolderError` (a folder that cannot be saved to or
  loaded) and :class:`~.errors.NetworkTooLargeError` (networks that do not fit in memory).

Importing this package does not import TensorFlow; importing :mod:`.estimator` does.
"""

import importlib

from gan_estimators.gan.errors import ModelFolderError, NetworkTooLargeError

__all__ = ["ModelFolderError", "NetworkTooLargeError", "WGANEstimator"]


def __getattr__(name):
    if name == "WGANEstimator":
        return importlib.import_module("gan_estimators.gan.estimator").WGANEstimator
    raise AttributeError(f"module 'gan_estimators.gan' has no attribute {name!r}")
