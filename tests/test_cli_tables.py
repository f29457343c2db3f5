"""Tests of the command line on tables: ``fit --data FILE.csv``, ``sample --csv`` and
``sample --condition``."""

import contextlib
import io
import json
import sys

import numpy as np
import pandas as pd
import pytest

from gan_estimators import cli
from gan_estimators.cli.commands import build_estimator
from gan_estimators.gan import _config

#: Options that make a fit take seconds.
TINY = ["--n-steps", "3", "--n-filters", "4", "--latent-dim", "8", "--batch-size", "16"]


def run_main(capsys, *argv):
    """Run ``cli.main`` in this process; returns (exit status, stdout, stderr)."""
    try:
        status = cli.main([str(part) for part in argv])
    except SystemExit as exc:  # argparse: --help, usage errors
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_captured(*argv):
    """``cli.main`` with its output captured, for module-scoped fixtures (no capsys)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main([str(part) for part in argv])
    return status, out.getvalue(), err.getvalue()


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.strip()]


def assert_one_line_error(status, err, expected_status, *texts):
    assert status == expected_status, err
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith("gan-estimators")
    for text in texts:
        assert text in lines[0], lines[0]


def mixed_frame(n=60, seed=0):
    """A small table of every kind of column: float, many-valued and few-valued integers,
    text and a float column with missing values, booleans."""
    rng = np.random.default_rng(seed)
    weight = rng.normal(70, 10, n)
    weight[rng.random(n) < 0.2] = np.nan
    colour = rng.choice(["red", "green", "blue"], n).astype(object)
    colour[rng.random(n) < 0.15] = None
    return pd.DataFrame(
        {
            "size": rng.normal(size=n),
            "count": rng.integers(0, 1000, n),
            "grade": rng.choice([1, 2, 3], n),
            "colour": colour,
            "flag": rng.choice([True, False], n),
            "weight": weight,
        }
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A table model fitted from a CSV file, an array model fitted from a .npy file."""
    folder = tmp_path_factory.mktemp("tables")
    frame = mixed_frame()
    csv = folder / "table.csv"
    frame.to_csv(csv, index=False)
    table_run = run_captured("fit", "--data", csv, *TINY, "--out", folder / "table_model")
    npy = folder / "array.npy"
    np.save(npy, np.random.default_rng(0).normal(size=(40, 3)))
    array_run = run_captured("fit", "--data", npy, *TINY, "--out", folder / "array_model", "-q")
    assert array_run[0] == 0, array_run[2]
    return {
        "folder": folder,
        "frame": pd.read_csv(csv),
        "csv": csv,
        "table_run": table_run,
        "table_model": folder / "table_model",
        "array_model": folder / "array_model",
    }


# ------------------------------------------------------------------------------------- fit


def test_fit_on_a_csv_saves_a_table_model_from_the_tables_starting_point(fitted):
    status, out, err = fitted["table_run"]
    assert status == 0, err
    assert "a table of 60 rows and 6 columns" in out
    assert "3 discrete (grade, colour, flag); 3 continuous (size, count, weight)" in out
    assert "(loss wgan-gp, n_critic 5)" in out and "table quality" in out
    assert "--csv" in out  # the sample command it suggests writes CSV
    saved = json.loads((fitted["table_model"] / "estimator.json").read_text())
    assert saved["params"]["loss"] == _config.TABLE_PARAMS["loss"]
    assert saved["params"]["n_critic"] == _config.TABLE_PARAMS["n_critic"]


def fit_args(*argv):
    args = cli.build_parser().parse_args(["fit", *argv])
    args.quiet = True
    return args


WGAN, REFERENCE, DEFAULTS = _config.WGAN_DEFAULTS, _config.REFERENCE_DEFAULTS, _config.DEFAULTS
STARTING_POINTS = [
    # (options, table, class name, expected loss, expected n_critic)
    ([], True, "GANEstimator", "wgan-gp", 5),
    (["--loss", "gan"], True, "GANEstimator", "gan", 5),
    (["--n-critic", "2"], True, "GANEstimator", "wgan-gp", 2),
    (["--wasserstein"], True, "WGANEstimator", WGAN["loss"], WGAN["n_critic"]),
    (["--reference"], True, "WGANEstimator", REFERENCE["loss"], REFERENCE["n_critic"]),
    ([], False, "GANEstimator", DEFAULTS["loss"], DEFAULTS["n_critic"]),
]


@pytest.mark.parametrize(
    ("options", "table", "name", "loss", "n_critic"),
    STARTING_POINTS,
    ids=[f"{'table' if t else 'array'} {' '.join(o)}" for o, t, *_ in STARTING_POINTS],
)
def test_options_given_win_over_the_starting_point(options, table, name, loss, n_critic):
    estimator = build_estimator(fit_args(*options), table=table)
    assert type(estimator).__name__ == name
    assert (estimator.loss, estimator.n_critic) == (loss, n_critic)
    if options and options[0] in ("--wasserstein", "--reference"):
        # a starting point of its own: the table parameters do not apply
        own = build_estimator(fit_args(*options), table=False).get_params()
        assert estimator.get_params() == own


def test_fit_help_says_which_starting_point_wins(capsys):
    status, out, _ = run_main(capsys, "fit", "--help")
    assert status == 0
    text = " ".join(out.split())
    assert "GANEstimator.for_tables()" in text and "--loss wgan-gp --n-critic 5" in text
    assert "Every option given explicitly wins over the starting point" in text


# ---------------------------------------------------------------------------------- sample


def test_sample_csv_has_the_training_columns_and_only_training_categories(fitted, capsys):
    frame, out = fitted["frame"], fitted["folder"] / "samples.csv"
    argv = ["sample", fitted["table_model"], "-n", "50", "--csv", out, "--random-state", "1"]
    status, stdout, err = run_main(capsys, *argv)
    assert status == 0, err
    assert f"Wrote 50 rows of 6 columns to {out}" in stdout
    samples = pd.read_csv(out)
    assert list(samples.columns) == list(frame.columns)
    assert len(samples) == 50
    for name in ("grade", "colour", "flag"):
        assert set(samples[name].dropna()) <= set(frame[name].dropna()), name
    assert samples[["size", "count", "grade", "flag"]].notna().all().all()
    first = out.read_bytes()
    assert run_main(capsys, *argv)[0] == 0
    assert out.read_bytes() == first  # the same seed writes the same rows
    assert sorted(p.name for p in out.parent.glob("samples*")) == ["samples.csv"]


CONDITIONS = [
    ("colour=red", "colour", "red"),
    ("grade=2", "grade", 2),
    ("flag=true", "flag", True),
    ("flag=False", "flag", False),
    ("colour=", "colour", None),  # a missing value, as CSV files write it
]


@pytest.mark.parametrize(("condition", "column", "value"), CONDITIONS)
def test_condition_gives_only_that_value(fitted, capsys, condition, column, value):
    out = fitted["folder"] / f"{column}.csv"
    status, _, err = run_main(
        capsys, "sample", fitted["table_model"], "-n", "20", "--csv", out, "--condition", condition
    )
    assert status == 0, err
    samples = pd.read_csv(out)
    assert len(samples) == 20
    if value is None:
        assert samples[column].isna().all()
    else:
        assert (samples[column] == value).all()


SAMPLE_ERRORS = [
    (["--npy", "{folder}/s.npy"], "--csv"),
    (["--csv", "{folder}/s.csv", "--npy", "{folder}/s.npy"], "--csv"),
    (["--png", "{folder}/s.png"], "--csv"),
    (["--csv", "{folder}/s.csv", "--class", "1"], "--condition"),
    (["--csv", "{folder}/s.csv", "--condition", "colour=purple"], "blue, green, red"),
    (["--csv", "{folder}/s.csv", "--condition", "grade=7"], "1, 2, 3"),
    (["--csv", "{folder}/s.csv", "--condition", "shape=round"], "grade, colour, flag"),
    (["--csv", "{folder}/s.csv", "--condition", "size=1"], "continuous"),
    (
        ["--csv", "{folder}/s.csv", "--condition", "colour=red", "--condition", "colour=blue"],
        "twice",
    ),
]


@pytest.mark.parametrize(
    ("argv", "text"), SAMPLE_ERRORS, ids=[" ".join(a) for a, _ in SAMPLE_ERRORS]
)
def test_sample_errors_of_a_table_model_are_one_line(fitted, capsys, argv, text):
    argv = [part.format(folder=fitted["folder"]) for part in argv]
    status, _, err = run_main(capsys, "sample", fitted["table_model"], *argv)
    assert_one_line_error(status, err, 1, text)
    assert not (fitted["folder"] / "s.csv").exists()
    assert not (fitted["folder"] / "s.npy").exists()


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["--csv", "{folder}/a.csv"], "--npy"),
        (["--npy", "{folder}/a.npy", "--condition", "a=1"], "--condition needs a model fitted"),
    ],
)
def test_table_options_on_an_array_model_are_one_line_errors(fitted, capsys, argv, text):
    argv = [part.format(folder=fitted["folder"]) for part in argv]
    status, _, err = run_main(capsys, "sample", fitted["array_model"], *argv)
    assert_one_line_error(status, err, 1, text)
    assert not list(fitted["folder"].glob("a.*"))


# ---------------------------------------------------------------------------- fit errors


@pytest.fixture
def table_files(tmp_path):
    frame = mixed_frame(20)
    paths = {"folder": tmp_path}
    paths["csv"] = tmp_path / "t.csv"
    frame.to_csv(paths["csv"], index=False)
    paths["empty"] = tmp_path / "empty.csv"
    paths["empty"].write_text("")
    paths["one_row"] = tmp_path / "one_row.csv"
    frame.head(1).to_csv(paths["one_row"], index=False)
    paths["parquet"] = tmp_path / "t.parquet"
    paths["parquet"].write_bytes(b"PAR1")
    return paths


FIT_ERRORS = [
    (["--data", "{folder}/missing.csv"], "no such file"),
    (["--data", "{empty}"], "not a readable CSV table"),
    (["--data", "{one_row}"], "at least 2 rows"),
    (["--data", "{csv}", "--discrete-columns", "colour,shape"], "['shape']"),
    (["--data", "{csv}", "--discrete-columns", "grade"], "colour"),
    (["--data", "{csv}", "--conditional"], "COLUMN=VALUE"),
    (["--data", "{csv}", "--class", "3"], "not of a table"),
    (["--data", "{csv}", "--network", "conv"], "needs images"),
    (["--data", "{csv}", "--sample-grid", "{folder}/grids"], "draws images"),
]


@pytest.mark.parametrize(("argv", "text"), FIT_ERRORS, ids=[" ".join(a) for a, _ in FIT_ERRORS])
def test_fit_errors_on_tables_are_one_line_before_training(table_files, capsys, argv, text):
    argv = [part.format(**table_files) for part in argv]
    model = table_files["folder"] / "model"
    status, _, err = run_main(capsys, "fit", *argv, *TINY, "--out", model, "-q")
    assert_one_line_error(status, err, 1, text)
    assert not model.exists()


def test_parquet_without_pyarrow_names_the_missing_package(table_files, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` fail
    model = table_files["folder"] / "model"
    status, _, err = run_main(
        capsys, "fit", "--data", table_files["parquet"], *TINY, "--out", model, "-q"
    )
    assert_one_line_error(status, err, 1, "needs the package pyarrow", "pip install pyarrow")
    assert not model.exists()


def test_fit_on_parquet_reads_the_table(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    mixed_frame(20).to_parquet(path)
    status, out, err = run_main(capsys, "fit", "--data", path, *TINY, "--out", tmp_path / "m")
    assert status == 0, err
    assert "a table of 20 rows and 6 columns" in out
    assert (tmp_path / "m" / "estimator.json").is_file()


USAGE_ERRORS = [
    (["fit", "--data", "table.txt"], "unknown data source"),
    (["search", "--data", "table.csv"], "unknown data source"),
    (["sample", "model", "--csv", "s.csv", "--condition", "colour"], "COLUMN=VALUE"),
    (["sample", "model", "--csv", "s.csv", "--condition", "=red"], "COLUMN=VALUE"),
]


@pytest.mark.parametrize(("argv", "text"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_on_tables_are_one_line_with_status_2(capsys, argv, text):
    status, _, err = run_main(capsys, *argv)
    assert_one_line_error(status, err, 2, text)


def test_condition_option_keeps_the_value_after_the_first_equals_sign():
    args = cli.build_parser().parse_args(
        ["sample", "m", "--condition", "note=a=b", "--condition", "sex="]
    )
    assert args.conditions == [("note", "a=b"), ("sex", "")]


def test_quality_line_of_a_table_without_column_trends():
    # Columns without any trend in the training rows leave pair trends unrated (None).
    from types import SimpleNamespace

    from gan_estimators.cli.tables import table_quality_line

    report = {"overall": 0.81, "column_shapes": 0.81, "column_pair_trends": None}
    estimator = SimpleNamespace(diagnostics_=SimpleNamespace(table_quality=report))
    line = table_quality_line(estimator)
    assert line.startswith("table quality 0.81 against the training rows")
    assert "column pair trends none to rate" in line
