"""Sphinx configuration for the gan_estimators documentation.

Builds offline (no intersphinx inventories are fetched).  The command-line reference is
generated from the argparse parser at build time (``generated/cli/*.txt``); the demo's figures
in ``_static/demo/`` are committed and refreshed by ``python docs/make_figures.py``.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection._search import BaseSearchCV

from gan_estimators import __version__

project = "gan_estimators"
author = "gan_estimators developers"
copyright = "2026, gan_estimators developers"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
]

autosummary_generate = True
templates_path = ["_templates"]  # class pages: one autoclass; module pages: the docstring only
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Members inherited from the package's own classes and mixins are documented (``score`` of
# the generative estimators); those of scikit-learn's and Python's base classes are not: autodoc
# skips members defined in the classes named here.
_FOREIGN_BASES = (BaseEstimator, TransformerMixin, BaseSearchCV, FileNotFoundError, UserWarning)
autodoc_default_options = {
    "members": True,
    "inherited-members": ",".join(
        sorted({cls.__name__ for base in (*_FOREIGN_BASES, tuple) for cls in base.__mro__})
    ),
}

intersphinx_mapping = {}  # offline builds: no inventories are fetched

html_theme = "pydata_sphinx_theme"
html_title = f"gan_estimators {version}"
html_static_path = ["_static"]
exclude_patterns = ["_build"]


def write_cli_help(app):
    """Write ``gan-estimators [COMMAND] --help`` to ``generated/cli/`` for the CLI page."""
    from gan_estimators import cli

    os.environ["COLUMNS"] = "92"  # argparse wraps help text to this width
    folder = os.path.join(app.srcdir, "generated", "cli")
    os.makedirs(folder, exist_ok=True)
    parser = cli.build_parser()
    texts = {"gan-estimators": parser.format_help()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                texts[name] = subparser.format_help()
    for name, text in texts.items():
        path = os.path.join(folder, f"{name}.txt")
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                old = handle.read()
        if old != text:  # rewriting unchanged files would trigger rebuilds
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)


def setup(app):
    app.connect("builder-inited", write_cli_help)
