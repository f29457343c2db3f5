"""The package's architecture, read from its source: dependency rules and size limits.

The rules (``CONTRIBUTING.md``): ``search`` never imports ``gan`` (nor TensorFlow); ``quality``
never imports TensorFlow, Keras or ``gan``; ``cli`` is the only subpackage that imports
everything, and nothing but the command-line entry points imports ``cli``.  Imports are read
with :mod:`ast`, so every ``import`` counts, at module level or inside a function.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import gan_estimators

PACKAGE_DIR = Path(gan_estimators.__file__).parent
SUBPACKAGES = ("cli", "gan", "quality", "search", "tables")
THIRD_PARTY_DEEP_LEARNING = ("tensorflow", "keras", "tf_keras")
# Entry points that exist to run the command line.
CLI_ENTRY_POINTS = ("gan_estimators/__main__.py",)
MAX_FILE_LINES = 600
MAX_CLASS_CODE_LINES = 450


def _module_name(path):
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files():
    return sorted(PACKAGE_DIR.rglob("*.py"))


def _alias_targets():
    """``gan_estimators.<old name>`` -> the module it stands for (the alias modules replace
    themselves in ``sys.modules`` with the module they import)."""
    targets = {}
    for path in PACKAGE_DIR.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "sys.modules[__name__]" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.names[0].asname:
                targets[_module_name(path)] = f"{node.module}.{node.names[0].name}"
    return targets


ALIASES = _alias_targets()


def _canonical(name):
    """The module ``name`` really loads: aliases and the package's lazy attributes resolved."""
    parts = name.split(".")
    if parts[0] != "gan_estimators" or len(parts) < 2:
        return name
    head = ".".join(parts[:2])
    if head in ALIASES:
        return ".".join([ALIASES[head], *parts[2:]])
    if parts[1] in gan_estimators._LAZY_ATTRIBUTES:
        return gan_estimators._LAZY_ATTRIBUTES[parts[1]]
    return name


def _imported_modules(path):
    """Every module an ``import`` statement of ``path`` names (see :func:`_imports_in`)."""
    return _imports_in(path.read_text(encoding="utf-8"), _module_name(path), path.name)


def _imports_in(source, module, filename):
    """Every module an ``import`` statement of ``source`` names, relative imports resolved
    against ``module``; ``from X import y`` counts as ``X`` and as ``X.y`` (``y`` may be a
    module)."""
    package = module if filename == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source_module = ".".join(base + ([node.module] if node.module else []))
            else:
                source_module = node.module
            names.add(source_module)
            names.update(f"{source_module}.{alias.name}" for alias in node.names)
    return {_canonical(name) for name in names}


def _subpackage(name):
    parts = name.split(".")
    if parts[0] == "gan_estimators" and len(parts) > 1 and parts[1] in SUBPACKAGES:
        return parts[1]
    return None


def _relative(path):
    return path.relative_to(PACKAGE_DIR.parent).as_posix()


def _violations(subpackage, is_forbidden):
    found = []
    for path in sorted((PACKAGE_DIR / subpackage).rglob("*.py")):
        found += [
            f"{_relative(path)} imports {n}" for n in _imported_modules(path) if is_forbidden(n)
        ]
    return sorted(found)


def _is_deep_learning(name):
    return name.split(".")[0] in THIRD_PARTY_DEEP_LEARNING


def test_import_reader_resolves_relative_aliased_and_lazy_names():
    assert _canonical("gan_estimators.wgan") == "gan_estimators.gan.estimator"
    assert _canonical("gan_estimators.GANEstimator") == "gan_estimators.gan.estimator"
    assert _canonical("gan_estimators.WGANEstimator") == "gan_estimators.gan.estimator"
    assert _canonical("gan_estimators.metrics.kid") == "gan_estimators.quality.metrics.kid"
    source = (
        "from . import store\n"
        "def f():\n"
        "    from ..gan import estimator\n"
        "    import keras.layers\n"
        "    from gan_estimators import GANEstimator\n"
    )
    names = _imports_in(source, "gan_estimators.search.probe", "probe.py")
    assert {
        "gan_estimators.search.store",
        "gan_estimators.gan",
        "gan_estimators.gan.estimator",
        "keras.layers",
    } <= names
    assert _imports_in("from .. import cli", "gan_estimators.quality", "__init__.py") >= {
        "gan_estimators.cli"
    }


def test_search_never_imports_gan_or_deep_learning():
    assert _violations("search", lambda n: _subpackage(n) == "gan" or _is_deep_learning(n)) == []


def test_quality_never_imports_tensorflow_keras_or_gan():
    # Keras models a user passes as feature maps bring TensorFlow along: quality/ works with
    # them through their own methods and classes, never by importing Keras.
    assert _violations("quality", lambda n: _subpackage(n) == "gan" or _is_deep_learning(n)) == []


def test_only_cli_imports_every_subpackage_and_nothing_else_imports_cli():
    others = set(SUBPACKAGES) - {"cli"}
    for subpackage in sorted(others):
        reached = {
            _subpackage(name)
            for path in (PACKAGE_DIR / subpackage).rglob("*.py")
            for name in _imported_modules(path)
        }
        assert not others <= reached, f"{subpackage}/ imports all of {sorted(others)}"
    importers = [
        _relative(path)
        for path in _source_files()
        if _subpackage(_module_name(path)) != "cli"
        and _relative(path) not in CLI_ENTRY_POINTS
        and any(_subpackage(name) == "cli" for name in _imported_modules(path))
    ]
    assert importers == []


def test_tables_import_no_other_subpackage_nor_deep_learning():
    # Column kinds and encodings serve gan/ (training) and quality/ (table metrics) alike.
    others = set(SUBPACKAGES) - {"tables"}
    assert _violations("tables", lambda n: _subpackage(n) in others or _is_deep_learning(n)) == []


def test_gan_never_imports_search():
    assert _violations("gan", lambda n: _subpackage(n) == "search") == []


def test_import_registers_scorer_names_without_tensorflow():
    code = (
        "import sys\n"
        "import gan_estimators, gan_estimators.cli\n"
        "from sklearn.metrics import get_scorer_names\n"
        "from sklearn.mixture import GaussianMixture\n"
        "from gan_estimators import EvolutionarySearchCV, Integer\n"
        "from gan_estimators.quality.scorers import SCORER_NAMES\n"
        "missing = set(SCORER_NAMES) - set(get_scorer_names())\n"
        "assert not missing, missing\n"
        "search = EvolutionarySearchCV(\n"
        "    GaussianMixture(), {'n_components': Integer(1, 3)}, scoring='kid'\n"
        ")\n"
        "search._validate_params()\n"
        "loaded = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("path", _source_files(), ids=_relative)
def test_source_file_size(path):
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_FILE_LINES, f"{_relative(path)} has {n_lines} lines"


def _code_lines(node, source_lines, docstring_lines):
    lines = range(node.lineno, node.end_lineno + 1)
    return sum(
        1
        for number in lines
        if number not in docstring_lines
        and source_lines[number - 1].strip()
        and not source_lines[number - 1].strip().startswith("#")
    )


def _docstring_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


@pytest.mark.parametrize("path", _source_files(), ids=_relative)
def test_class_body_size(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstrings = _docstring_lines(tree)
    lines = source.splitlines()
    too_long = {
        node.name: n
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and (n := _code_lines(node, lines, docstrings)) > MAX_CLASS_CODE_LINES
    }
    assert too_long == {}, f"{_relative(path)}: lines of code per class {too_long}"
