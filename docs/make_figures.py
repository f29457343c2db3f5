"""Refresh the demo figures shown in the documentation (``docs/_static/demo/``).

Runs ``gan-estimators demo``, or reads the output folder of an earlier run, and copies its three
figures -- reduced to a 256-colour palette, so each stays well under 200 KB -- and an excerpt of
its ``summary.json`` into ``docs/_static/demo/``.  The documentation build never trains
anything: it uses the committed files.

    python docs/make_figures.py                  # run the demo, then copy
    python docs/make_figures.py --from gan-demo  # copy from an existing run
"""

import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "_static", "demo")
FIGURES = ("samples.png", "losses.png", "fitness.png")
# summary.json entries kept in the excerpt (the per-model parameter lists are long)
SUMMARY_KEYS = ("command", "options", "data", "best_params", "scores", "timings")


def copy_figure(source, target):
    from PIL import Image

    with Image.open(source) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        palette.save(target, optimize=True)
    return os.path.getsize(target)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", metavar="DIR", help="an existing demo folder")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        source = args.source
        if source is None:
            from gan_estimators import cli

            source = os.path.join(scratch, "gan-demo")
            status = cli.main(["demo", "--out", source, "--random-state", str(args.random_state)])
            if status:
                return status
        os.makedirs(TARGET, exist_ok=True)
        for name in FIGURES:
            size = copy_figure(os.path.join(source, name), os.path.join(TARGET, name))
            print(f"{os.path.join(TARGET, name)}: {size / 1024:.0f} KB")
        with open(os.path.join(source, "summary.json"), encoding="utf-8") as handle:
            summary = json.load(handle)
        excerpt = {key: summary[key] for key in SUMMARY_KEYS if key in summary}
        excerpt["search"] = {
            key: value for key, value in summary["search"].items() if key != "logbook"
        }
        with open(os.path.join(TARGET, "summary.json"), "w", encoding="utf-8") as handle:
            json.dump(excerpt, handle, indent=2)
            handle.write("\n")
        print(f"{os.path.join(TARGET, 'summary.json')}: excerpt of {source}/summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
