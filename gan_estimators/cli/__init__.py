"""The ``gan-estimators`` command line (also ``python -m gan_estimators``).

Only the standard library and the TensorFlow-free option tables are imported with this
package, so ``--help`` and ``--version`` do not start TensorFlow.
"""

from gan_estimators.cli.commands import main

__all__ = ["main"]
