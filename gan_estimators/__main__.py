"""``python -m gan_estimators`` runs the command-line interface."""

import sys

from gan_estimators.cli import main

if __name__ == "__main__":
    sys.exit(main())
