"""Alias of :mod:`gan_estimators.search.space`, kept so that imports and pickles naming
``gan_estimators.space`` keep working."""

import sys

from gan_estimators.search import space as _module

sys.modules[__name__] = _module
