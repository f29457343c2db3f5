"""Alias of :mod:`gan_estimators.quality.features`, kept so that imports and pickles naming
``gan_estimators.features`` keep working."""

import sys

from gan_estimators.quality import features as _module

sys.modules[__name__] = _module
