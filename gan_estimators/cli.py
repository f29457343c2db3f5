"""The ``gan-estimators`` command line."""

import argparse
import sys

from gan_estimators._version import __version__


def build_parser():
    parser = argparse.ArgumentParser(
        prog="gan-estimators",
        description="GANs as scikit-learn estimators, tuned by evolutionary search.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    subcommands.add_parser("demo", help="run the demo on the embedded digits data")
    return parser


def _run_demo(args):
    from gan_estimators.datasets import load_digits_images

    images, labels = load_digits_images(return_X_y=True)
    print(
        f"Loaded {len(images)} embedded digit images of shape {images.shape[1:]} "
        f"({len(set(labels.tolist()))} classes), "
        f"pixel values in [{images.min():g}, {images.max():g}]."
    )
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return {"demo": _run_demo}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
