"""``python -m gan_estimators.cli`` runs the command-line interface."""

import sys

from gan_estimators.cli.commands import main

if __name__ == "__main__":
    sys.exit(main())
