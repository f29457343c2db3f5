"""Alias of :mod:`gan_estimators.gan.estimator`, kept so that imports and pickles naming
``gan_estimators.wgan`` keep working."""

import sys

from gan_estimators.gan import estimator as _module

sys.modules[__name__] = _module
