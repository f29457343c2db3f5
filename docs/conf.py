"""Sphinx configuration for the gan_estimators documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from gan_estimators import __version__  # noqa: E402

project = "gan_estimators"
author = "gan_estimators developers"
copyright = "2026, gan_estimators developers"  # noqa: A001
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
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_default_options = {"members": True, "inherited-members": False}

intersphinx_mapping = {}  # offline builds: no inventories are fetched

html_theme = "pydata_sphinx_theme"
html_title = f"gan_estimators {version}"
exclude_patterns = ["_build"]
