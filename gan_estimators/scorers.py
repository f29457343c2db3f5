"""Alias of :mod:`gan_estimators.quality.scorers`, kept so that imports and pickles naming
``gan_estimators.scorers`` keep working."""

import sys

from gan_estimators.quality import scorers as _module

sys.modules[__name__] = _module
