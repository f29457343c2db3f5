"""Alias of :mod:`gan_estimators.search.presets`, kept so that imports and pickles naming
``gan_estimators.presets`` keep working."""

import sys

from gan_estimators.search import presets as _module

sys.modules[__name__] = _module
