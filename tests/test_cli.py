"""Tests of the ``gan-estimators`` command line: demo, fit / sample / search, user errors."""

import argparse
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gan_estimators import cli


def run_module(*args, timeout=300):
    """``python -m gan_estimators ARGS`` in a fresh process."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "gan_estimators", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def run_main(capsys, *argv):
    """Run ``cli.main`` in this process; returns (exit status, stdout, stderr)."""
    try:
        status = cli.main(list(argv))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.strip()]


# ------------------------------------------------------------------------ start-up, --help


def test_version_through_python_dash_m():
    result = run_module("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"gan-estimators {cli.__version__}"


@pytest.mark.parametrize("command", [[], ["demo"], ["fit"], ["sample"], ["search"]])
def test_help_works_for_every_command(capsys, command):
    status, out, _ = run_main(capsys, *command, "--help")
    assert status == 0
    assert "usage: gan-estimators" in out


def test_estimator_options_take_choices_and_defaults_from_the_estimator_config():
    from gan_estimators.gan import _config

    parser = cli.build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    options = {action.dest: action for action in commands.choices["fit"]._actions}
    for name, choices in [
        ("loss", _config.LOSSES),
        ("optimizer", _config.OPTIMIZERS),
        ("network", _config.NETWORKS),
        ("upsampling", _config.UPSAMPLINGS),
    ]:
        assert tuple(options[name].choices) == choices
    for name in ("loss", "latent_dim", "learning_rate", "n_steps"):
        assert options[name].default is None  # omitted options keep the estimator's default
        assert f"(default: {_config.DEFAULTS[name]}" in options[name].help


def test_no_command_prints_help(capsys):
    status, out, _ = run_main(capsys)
    assert status == 0
    assert "demo" in out and "sample" in out


# ------------------------------------------------------------------------------ user errors


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    paths = {}
    paths["flat"] = folder / "flat.npy"
    np.save(paths["flat"], np.arange(10.0))
    paths["text"] = folder / "text.npy"
    np.save(paths["text"], np.array([["a", "b"], ["c", "d"]]))
    paths["nan"] = folder / "nan.npy"
    np.save(paths["nan"], np.array([[1.0, np.nan], [0.0, 1.0], [2.0, 3.0]]))
    paths["one"] = folder / "one.npy"
    np.save(paths["one"], np.zeros((1, 8, 8)))
    paths["corrupt"] = folder / "corrupt.npy"
    paths["corrupt"].write_bytes(b"this is not a numpy file")
    paths["objects"] = folder / "objects.npy"
    np.save(paths["objects"], np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    paths["table"] = folder / "table.npy"
    np.save(paths["table"], np.random.default_rng(0).random((20, 3)))
    paths["not_a_model"] = folder / "not_a_model"
    paths["not_a_model"].mkdir()
    paths["a_file"] = folder / "a_file.txt"
    paths["a_file"].write_text("x")
    paths["folder"] = folder
    return paths


# (argv with {name} placeholders for bad_files, expected exit status, text in the message)
USAGE_ERRORS = [
    (["demo", "--data", "cifar"], "invalid choice"),
    (["demo", "--population", "1"], "at least 2"),
    (["demo", "--generations", "abc"], "positive integer"),
    (["demo", "--class", "12"], "invalid choice"),
    (["demo", "--n-jobs", "0"], "number of jobs"),
    (["demo", "--space", "grid"], "invalid choice"),
    (["demo", "--steps", "-3"], "positive integer"),
    (["demo", "--candidate-time", "nan"], "positive number"),
    (["demo", "--no-such-option"], "unrecognized arguments"),
    (["fit", "--data", "data.csv"], "unknown data source"),
    (["fit", "--loss", "wasserstein"], "invalid choice"),
    (["fit", "--optimizer", "adagrad"], "invalid choice"),
    (["sample", "model", "-n", "0"], "positive integer"),
    (["sample"], "required"),
    (["explode"], "invalid choice"),
]


@pytest.mark.parametrize(("argv", "text"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_are_one_line_with_status_2(capsys, argv, text):
    status, _, err = run_main(capsys, *argv)
    assert status == 2
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith("gan-estimators")
    assert text in lines[0]


USER_ERRORS = [
    (["fit", "--data", "{folder}/missing.npy"], "no such file"),
    (["fit", "--data", "{flat}"], "expected shape"),
    (["fit", "--data", "{text}"], "expected numbers"),
    (["fit", "--data", "{nan}"], "NaN"),
    (["fit", "--data", "{one}"], "at least 2"),
    (["fit", "--data", "{corrupt}"], "not a readable .npy"),
    (["fit", "--data", "{objects}"], "not a readable .npy"),
    (["fit", "--data", "{table}", "--class", "3"], "--class"),
    (["fit", "--data", "{table}", "--network", "conv"], "needs images"),
    (["fit", "--data", "mnist", "--data-home", "{folder}/nowhere"], "no such folder"),
    (["fit", "--data", "digits", "--out", "{a_file}"], "not a folder"),
    (["demo", "--out", "{a_file}"], "not a folder"),
    (["demo", "--data", "fashion", "--data-home", "{folder}/nowhere"], "no such folder"),
    (["search", "--data", "{flat}"], "expected shape"),
    (["sample", "{folder}/missing", "--npy", "{folder}/s.npy"], "no such model folder"),
    (["sample", "{not_a_model}", "--npy", "{folder}/s.npy"], "not a saved model"),
    (["sample", "{not_a_model}"], "nothing to write"),
]


@pytest.mark.parametrize(("argv", "text"), USER_ERRORS, ids=[" ".join(a) for a, _ in USER_ERRORS])
def test_user_errors_are_one_line_with_status_1(capsys, bad_files, argv, text):
    argv = [part.format(**bad_files) for part in argv]
    status, _, err = run_main(capsys, *argv)
    assert status == 1
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith(f"gan-estimators {argv[0]}: error: ")
    assert text in lines[0]


def test_user_error_in_a_real_process_has_no_traceback(bad_files):
    result = run_module("fit", "--data", str(bad_files["flat"]))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(error_lines(result.stderr)) == 1


def test_invalid_estimator_parameter_is_one_line(capsys, tmp_path):
    # rejected while parsing, by the estimator's own constraint, before any training
    status, _, err = run_main(
        capsys, "fit", "--data", "digits", "--alpha", "5", "--out", str(tmp_path / "m"), "-q"
    )
    assert status == 2
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert "--alpha" in lines[0] and "[0.0, 1.0]" in lines[0]
    assert not (tmp_path / "m").exists()


# ------------------------------------------------------------------------------ demo --quick


def check_png(path, size):
    from matplotlib.image import imread

    assert cli.png_size(path) == size
    image = imread(path)
    width, height = size
    assert image.shape[:2] == (height, width)
    assert image.std() > 0  # not a blank canvas


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    """``demo --quick`` run in this process (progress output on)."""
    out = tmp_path_factory.mktemp("demo") / "gan-demo"
    status = cli.main(["demo", "--quick", "--out", str(out)])
    return status, out


@pytest.mark.slow
def test_demo_quick_writes_every_file_it_names(quick_demo, capsys):
    status, out = quick_demo
    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    named = set(summary["files"]) | {"summary.json"}
    assert named == {
        "samples.png",
        "losses.png",
        "fitness.png",
        "cv_results.csv",
        "summary.json",
        "best_model/",
    }
    for name in named:
        assert (out / name).exists(), name
    for name, size in cli.FIGURE_SIZES.items():
        check_png(out / name, size)
        facts = summary["files"][name]
        assert (facts["width"], facts["height"]) == size

    # the JSON holds the best parameters, decoded from the demo's search space
    space = cli.make_search().param_space
    best = summary["best_params"]
    assert best == summary["search"]["best_params"]
    assert set(best) == set(space)
    assert {"n_filters", "alpha", "n_critic", "learning_rate"} <= set(best)
    for name, value in best.items():
        assert space[name].low <= value <= space[name].high
    assert summary["best_model"]["params"]["n_filters"] == best["n_filters"]
    for key in ("default_model", "best_model"):
        assert np.isfinite(summary["scores"][key])
        assert "diagnostics" in summary[key]
    assert summary["timings"]["total"] > 0

    # cv_results.csv: one row per configuration, the best among them
    with open(out / "cv_results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == summary["search"]["n_candidates_evaluated"]
    assert {"mean_test_score", "rank_test_score", "params", "generation"} <= set(rows[0])
    ranked_first = [json.loads(row["params"]) for row in rows if row["rank_test_score"] == "1"]
    assert best in ranked_first

    # the saved best model loads and samples
    from gan_estimators import WGANEstimator

    model = WGANEstimator.load(out / "best_model")
    assert model.sample(4, random_state=0).shape == (4, 8, 8, 1)
    assert model.n_filters == best["n_filters"]


@pytest.mark.slow
def test_demo_quick_is_reproducible_in_a_fresh_process(quick_demo, tmp_path):
    _, out = quick_demo
    first = json.loads((out / "summary.json").read_text())
    result = run_module("demo", "--quick", "--quiet", "--out", str(tmp_path / "again"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == ""  # --quiet
    second = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert second["best_params"] == first["best_params"]
    assert second["search"]["logbook"][-1]["best"] == first["search"]["logbook"][-1]["best"]


# -------------------------------------------------------------------- fit / sample / search


@pytest.mark.slow
def test_fit_then_sample_round_trip(capsys, tmp_path):
    model = tmp_path / "model"
    status, out, _ = run_main(
        capsys,
        "fit",
        "--data",
        "digits",
        "--class",
        "3",
        "--n-steps",
        "5",
        "--n-filters",
        "8",
        "--latent-dim",
        "8",
        "--critic-width",
        "1.5",
        "--upsampling",
        "transposed",
        "--out",
        str(model),
    )
    assert status == 0
    assert "class 3" in out and str(model) in out
    from gan_estimators import WGANEstimator

    fitted = WGANEstimator.load(model)
    assert fitted.n_steps_ == 5 and fitted.n_filters == 8 and fitted.latent_dim == 8
    assert fitted.critic_width == 1.5 and fitted.upsampling == "transposed"

    npy, png = tmp_path / "s.npy", tmp_path / "grid.png"
    argv = ["sample", str(model), "-n", "9", "--npy", str(npy), "--png", str(png)]
    status, out, _ = run_main(capsys, *argv, "--random-state", "1")
    assert status == 0
    samples = np.load(npy)
    assert samples.shape == (9, 8, 8, 1)
    np.testing.assert_array_equal(samples, fitted.sample(9, random_state=1))
    width, height = cli.png_size(png)
    assert width > 0 and height > 0
    status, _, _ = run_main(capsys, *argv, "--random-state", "1")
    np.testing.assert_array_equal(np.load(npy), samples)


@pytest.mark.slow
def test_fit_on_a_table_and_sample_it(capsys, tmp_path):
    table = tmp_path / "table.npy"
    np.save(table, np.random.default_rng(0).normal(size=(40, 3)))
    model = tmp_path / "model"
    status, _, _ = run_main(
        capsys,
        "fit",
        "--data",
        str(table),
        "--n-steps",
        "3",
        "--batch-size",
        "16",
        "--out",
        str(model),
        "-q",
    )
    assert status == 0
    status, _, _ = run_main(capsys, "sample", str(model), "-n", "5", "--npy", str(tmp_path / "s"))
    assert status == 0
    assert np.load(tmp_path / "s.npy").shape == (5, 3)
    status, _, err = run_main(capsys, "sample", str(model), "--png", str(tmp_path / "g.png"))
    assert status == 1
    assert "table rows" in err and len(error_lines(err)) == 1


@pytest.mark.slow
def test_search_writes_best_parameters_results_and_model(capsys, tmp_path):
    out = tmp_path / "search"
    status, stdout, _ = run_main(
        capsys,
        "search",
        "--data",
        "digits",
        "--class",
        "1",
        "--population",
        "2",
        "--generations",
        "1",
        "--steps",
        "3",
        "--n-jobs",
        "1",
        "--out",
        str(out),
    )
    assert status == 0
    report = json.loads((out / "best_params.json").read_text())
    assert set(report["best_params"]) == {"n_filters", "alpha", "n_critic", "learning_rate"}
    with open(out / "cv_results.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == report["n_candidates_evaluated"] == 2
    from gan_estimators import WGANEstimator

    best = WGANEstimator.load(out / "best_model")
    assert best.n_filters == report["best_params"]["n_filters"]
    assert best.n_steps_ == 3
    assert "best_params.json" in stdout
