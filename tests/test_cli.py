"""Tests of the ``gan-estimators`` command line: demo, fit / sample / search, user errors."""

import argparse
import contextlib
import csv
import io
import json
import os
import shutil
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
        # omitted options are left out of the parsed arguments: the estimator's default holds
        assert options[name].default is argparse.SUPPRESS
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
    (["demo", "--max-resources", "-3"], "positive number"),
    (["demo", "--min-resources", "nan"], "positive number"),
    (["demo", "--resource", "epochs"], "invalid choice"),
    (["demo", "--factor", "1"], "at least 2"),
    (["demo", "--steps", "100"], "unrecognized arguments"),
    (["demo", "--no-such-option"], "unrecognized arguments"),
    (["fit", "--data", "data.txt"], "unknown data source"),
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
    (["demo", "--resource", "n_steps", "--min-resources", "2.5"], "whole number"),
    (["demo", "--min-resources", "9", "--max-resources", "3"], "must be below --max-resources"),
    (["demo", "--min-resources", "3", "--max-resources", "3"], "must be below --max-resources"),
    (["demo", "--quick", "--cv", "200"], "--cv 200 needs at least"),
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
    """``demo --quick`` run in this process (progress output on): status, folder, output."""
    out = tmp_path_factory.mktemp("demo") / "gan-demo"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = cli.main(["demo", "--quick", "--out", str(out)])
    return status, out, stdout.getvalue() + stderr.getvalue()


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_demo_quick_writes_every_file_it_names(quick_demo):
    status, out, _ = quick_demo
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

    # the JSON holds the best parameters, decoded from the demo's search space, at the top budget
    quick = cli.DEMO_BUDGETS["quick"]
    fidelity = {key: quick[key] for key in ("resource", "min_resources", "max_resources")}
    space = cli.make_search(**fidelity).param_space
    best = summary["best_params"]
    assert best == summary["search"]["best_params"]
    assert set(best) == set(space) | {"max_time"}
    assert {"n_filters", "alpha", "n_critic", "learning_rate", "batch_size"} <= set(best)
    for name in space:
        assert space[name].low <= best[name] <= space[name].high
    assert best["max_time"] == quick["max_resources"]
    # the evolved best replaces the defaults only if it beat them on every split
    kept = summary["scores"]["best_is_default"]
    model_params = summary["default_model" if kept else "best_model"]["params"]
    assert summary["best_model"]["params"] == model_params
    if not kept:
        assert model_params["n_filters"] == best["n_filters"]
    for key in ("default_model", "best_model"):
        assert np.isfinite(summary["scores"][key])
        assert "diagnostics" in summary[key]
    assert summary["timings"]["total"] > 0

    # cv_results.csv: one row per configuration and budget, the best among the top budget's
    rows = read_rows(out / "cv_results.csv")
    assert len(rows) == summary["search"]["n_candidates_evaluated"]
    assert {"mean_test_score", "rank_test_score", "params", "generation", "n_resources"} <= set(
        rows[0]
    )
    top = [row for row in rows if float(row["n_resources"]) == best["max_time"]]
    best_row = max(top, key=lambda row: float(row["mean_test_score"]))
    assert json.loads(best_row["params"]) == best

    # the saved model loads and samples
    from gan_estimators import GANEstimator

    model = GANEstimator.load(out / "best_model")
    assert model.sample(4, random_state=0).shape == (4, 8, 8, 1)
    assert model.n_filters == model_params["n_filters"]


@pytest.mark.slow
def test_demo_quick_evolves_from_the_defaults_at_the_refit_budget(quick_demo):
    _, out, _ = quick_demo
    summary = json.loads((out / "summary.json").read_text())
    quick = cli.DEMO_BUDGETS["quick"]
    rungs = summary["search"]["rungs"]
    assert rungs["n_resources"] == [quick["min_resources"], quick["max_resources"]]
    low, high = rungs["configurations"]
    assert 1 <= high < low  # the best 1/factor of each generation is promoted
    assert sum(rungs["configurations"]) == summary["search"]["n_candidates_evaluated"]
    assert sum(rungs["fit_seconds_fraction"]) == pytest.approx(1, abs=1e-3)

    # the package defaults are in the first generation, at the lowest budget
    defaults = {"n_filters": 32, "alpha": 0.2, "n_critic": 1, "learning_rate": 5e-4}
    defaults["batch_size"] = 64
    first = [json.loads(row["params"]) for row in read_rows(out / "cv_results.csv")]
    assert {**defaults, "max_time": quick["min_resources"]} in first

    # both models train for the budget the candidates were compared at
    for key in ("default_model", "best_model"):
        assert summary[key]["params"]["max_time"] == quick["max_resources"]
        assert summary[key]["params"]["n_steps"] is None
    wins = summary["scores"]["best_split_wins_over_default"]
    refit = summary["scores"]["training_image_scores_of_refit"]
    if summary["scores"]["best_is_default"]:
        assert summary["scores"]["best_model"] == summary["scores"]["default_model"]
        best_was_defaults = summary["best_params"] == {
            **defaults,
            "max_time": quick["max_resources"],
        }
        refit_lost = refit is not None and refit["best"] < refit["default"]
        assert best_was_defaults or refit_lost or wins[0] < wins[1]
    else:
        assert wins is None or wins[0] == wins[1]
        assert refit["best"] >= refit["default"]


@pytest.mark.slow
def test_demo_keeps_the_defaults_when_the_refitted_best_trains_worse(tmp_path, monkeypatch):
    from gan_estimators import GANEstimator
    from gan_estimators.cli import demo

    def refit_for_one_step(search, X, **kwargs):
        # a refit that went wrong: the best configuration trained for one step only
        params = {**search.best_params_, "n_steps": 1, "max_time": None}
        return GANEstimator(**params, random_state=0).fit(X), 0.0

    monkeypatch.setattr(demo, "split_wins", lambda search, default: (3, 3))
    monkeypatch.setattr(demo, "same_configuration", lambda params, default: False)
    monkeypatch.setattr(demo, "refit_best", refit_for_one_step)
    out = tmp_path / "gan-demo"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        assert (
            demo.run_demo(cli.build_parser().parse_args(["demo", "--quick", "--out", str(out)]))
            == 0
        )
    summary = json.loads((out / "summary.json").read_text())
    refit = summary["scores"]["training_image_scores_of_refit"]
    assert refit["best"] < refit["default"]
    assert summary["scores"]["best_is_default"]
    assert summary["scores"]["best_model"] == summary["scores"]["default_model"]
    assert "keeping the defaults" in stdout.getvalue()


@pytest.mark.slow
def test_demo_prints_no_candidate_warnings_and_compares_at_one_budget(quick_demo):
    status, _, output = quick_demo
    assert status == 0
    assert "Warning" not in output
    assert "held-out fd, both trained for 3 s" in output.lower()
    assert "package defaults in the first generation" in output


@pytest.mark.slow
def test_demo_quick_first_generation_is_reproducible_in_a_fresh_process(quick_demo, tmp_path):
    _, out, _ = quick_demo
    result = run_module("demo", "--quick", "--quiet", "--out", str(tmp_path / "again"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == ""  # --quiet

    # Budgets in seconds make promotions and later generations depend on the machine's
    # speed; the configurations of the first generation depend on --random-state alone.
    def first_generation(folder):
        rows = read_rows(folder / "cv_results.csv")
        return [row["params"] for row in rows if row["generation"] == "0" and row["rung"] == "0"]

    assert first_generation(tmp_path / "again") == first_generation(out)


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
    assert "Trained GANEstimator" in out
    from gan_estimators import GANEstimator

    fitted = GANEstimator.load(model)
    assert type(fitted) is GANEstimator
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
    from gan_estimators import GANEstimator

    best = GANEstimator.load(out / "best_model")
    assert type(best) is GANEstimator  # the package defaults, evolved
    assert best.n_filters == report["best_params"]["n_filters"]
    assert best.n_steps_ == 3
    assert "best_params.json" in stdout


@pytest.mark.slow
def test_an_interrupted_demo_never_looks_finished(quick_demo, tmp_path, monkeypatch):
    from gan_estimators.cli import demo

    _, finished, _ = quick_demo
    out = tmp_path / "gan-demo"
    shutil.copytree(finished, out)
    before = (out / "samples.png").read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "save_figure", interrupted)
    with pytest.raises(KeyboardInterrupt), contextlib.redirect_stdout(io.StringIO()):
        demo.run_demo(cli.build_parser().parse_args(["demo", "--quick", "-q", "--out", str(out)]))
    assert not (out / "summary.json").exists()  # the old one described the old files
    assert (out / "samples.png").read_bytes() == before  # old outputs are whole, not truncated
