"""Alias of :mod:`gan_estimators.quality.metrics`, kept so that imports and pickles naming
``gan_estimators.metrics`` keep working."""

import sys

from gan_estimators.quality import metrics as _module

sys.modules[__name__] = _module
