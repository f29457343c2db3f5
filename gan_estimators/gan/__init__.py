"""The GAN estimator and the parts it is built from.

- :mod:`._config`: defaults (``DEFAULTS``, ``WGAN_DEFAULTS``), the reference configuration,
  option names and parameter constraints (no TensorFlow, so the command line can build its
  options from them);
- :mod:`.estimator`: :class:`GANEstimator`, the scikit-learn estimator, and
  :class:`WGANEstimator`, the same with Wasserstein defaults (:mod:`.variants` gives it its
  own signature and docstring from ``WGAN_DEFAULTS``);
- :mod:`.fitting`: one ``fit`` / ``partial_fit`` call, from data to fitted state;
- :mod:`.settings`: the effective settings of the parameters for one fit;
- :mod:`.networks`, :mod:`.losses`, :mod:`.optimizers`, :mod:`.trainer`: the Keras networks,
  the loss strategies, the fused optimizers and the compiled train step;
- :mod:`.monitoring`: held-out scores and early stopping while training;
  :mod:`.callbacks`: :class:`~.callbacks.StopTraining`, :class:`~.callbacks.SampleGrid`,
  :class:`~.callbacks.Checkpoint`, :class:`~.callbacks.CSVLogger` and how callbacks run;
- :mod:`.layout`: the data layout and scaling fitted on the training data;
- :mod:`.validation`: checks of training and held-out data;
- :mod:`.fitted_state`: the list of fitted attributes and the folder format's name and
  version; :mod:`.persistence`: pickling and saving; :mod:`.loading`: loading a saved folder;
  :mod:`.encoding`: parameters and feature maps as JSON; :mod:`.folder`: a model folder
  written beside its destination and renamed into place, and its manifest;
  :mod:`.document`: the checks of a saved folder's JSON document and arrays;
- :mod:`.errors`: :class:`~.errors.ModelFolderError` (a folder that cannot be saved to or
  loaded) and :class:`~.errors.NetworkTooLargeError` (networks that do not fit in memory).

Importing this package does not import TensorFlow; importing :mod:`.estimator` does
(:mod:`.callbacks` does not).
"""

import importlib

from gan_estimators.gan.errors import ModelFolderError, NetworkTooLargeError

#: Public name -> module that defines it, imported when first asked for.
LAZY_ATTRIBUTES = {
    "GANEstimator": "gan_estimators.gan.estimator",
    "WGANEstimator": "gan_estimators.gan.estimator",
    "StopTraining": "gan_estimators.gan.callbacks",
    "Callback": "gan_estimators.gan.callbacks",
    "SampleGrid": "gan_estimators.gan.callbacks",
    "Checkpoint": "gan_estimators.gan.callbacks",
    "CSVLogger": "gan_estimators.gan.callbacks",
}

__all__ = ["ModelFolderError", "NetworkTooLargeError", *sorted(LAZY_ATTRIBUTES)]


def __getattr__(name):
    if name in LAZY_ATTRIBUTES:
        return getattr(importlib.import_module(LAZY_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'gan_estimators.gan' has no attribute {name!r}")
