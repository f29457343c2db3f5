"""Alias of :mod:`gan_estimators.quality.diagnostics`, kept so that imports and pickles naming
``gan_estimators.diagnostics`` keep working."""

import sys

from gan_estimators.quality import diagnostics as _module

sys.modules[__name__] = _module
