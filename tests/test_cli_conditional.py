"""Conditional models on the command line: ``fit --conditional``, ``sample --class``,
``demo --conditional``."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gan_estimators import cli

#: The smallest networks that train: every fit here takes seconds.
TINY = ["--n-steps", "3", "--n-filters", "8", "--latent-dim", "8", "-q"]


def run_main(capsys, *argv):
    """Run ``cli.main`` in this process; returns (exit status, stdout, stderr)."""
    try:
        status = cli.main([str(arg) for arg in argv])
    except SystemExit as exc:  # argparse usage errors
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_error_line(err, command):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"gan-estimators {command}: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A conditional model of every digit and an unconditional one of the digit 3."""
    folder = tmp_path_factory.mktemp("models")
    paths = {"conditional": folder / "conditional", "plain": folder / "plain"}
    assert cli.main(["fit", "--conditional", "--out", str(paths["conditional"]), *TINY]) == 0
    assert cli.main(["fit", "--class", "3", "--out", str(paths["plain"]), *TINY]) == 0
    return paths


# ------------------------------------------------------------------------------ fit / sample


def test_fit_conditional_keeps_every_digit_class(models):
    from gan_estimators import GANEstimator

    model = GANEstimator.load(models["conditional"])
    np.testing.assert_array_equal(model.classes_, np.arange(10))
    assert model.class_prior_.shape == (10,)


def test_sample_class_writes_only_that_class_and_its_labels(capsys, models, tmp_path):
    npy = tmp_path / "sevens.npy"
    status, out, _ = run_main(
        capsys, "sample", models["conditional"], "--class", "7", "-n", "5", "--npy", npy,
        "--random-state", "1",
    )  # fmt: skip
    assert status == 0, out
    labels = np.load(tmp_path / "sevens_labels.npy")
    np.testing.assert_array_equal(labels, [7] * 5)
    assert labels.dtype.kind == "i"  # "7" was read as the model's integer class
    from gan_estimators import GANEstimator

    model = GANEstimator.load(models["conditional"])
    np.testing.assert_array_equal(np.load(npy), model.sample(5, y=7, random_state=1))


def test_sample_several_classes_n_of_each_and_a_grid_row_per_class(capsys, models, tmp_path):
    npy, png = tmp_path / "s.npy", tmp_path / "grid.png"
    status, _, _ = run_main(
        capsys, "sample", models["conditional"], "--class", "3", "--class", "8", "-n", "4",
        "--npy", npy, "--png", png, "--random-state", "0",
    )  # fmt: skip
    assert status == 0
    assert np.load(npy).shape == (8, 8, 8, 1)
    np.testing.assert_array_equal(np.load(tmp_path / "s_labels.npy"), [3] * 4 + [8] * 4)
    width, height = cli.png_size(png)
    assert width > 0 and height > 0


def test_sample_without_class_draws_labels_from_the_prior(capsys, models, tmp_path):
    npy = tmp_path / "s.npy"
    status, _, _ = run_main(
        capsys, "sample", models["conditional"], "-n", "40", "--npy", npy, "--random-state", "2"
    )
    assert status == 0
    labels = np.load(tmp_path / "s_labels.npy")
    assert labels.shape == (40,) and set(labels.tolist()) <= set(range(10))
    assert len(set(labels.tolist())) > 3  # drawn, not one class


@pytest.mark.parametrize(
    ("model", "argv", "text"),
    [
        ("plain", ["--class", "3"], "fitted with class labels"),
        ("conditional", ["--class", "12"], "its classes: 0, 1, 2"),
        ("conditional", ["--class", "seven"], "'seven' is not a class"),
        ("conditional", ["--class", "7.0"], "'7.0' is not a class"),
    ],
)
def test_bad_class_is_one_line_before_writing(capsys, models, tmp_path, model, argv, text):
    npy = tmp_path / "s.npy"
    status, _, err = run_main(capsys, "sample", models[model], *argv, "--npy", npy)
    assert status == 1
    assert text in one_error_line(err, "sample")
    assert not npy.exists()


def test_fit_conditional_on_a_table_with_string_labels(capsys, tmp_path):
    rng = np.random.default_rng(0)
    table, labels = tmp_path / "table.npy", tmp_path / "labels.npy"
    np.save(table, rng.normal(size=(40, 3)))
    np.save(labels, np.array(["cat", "dog"] * 20))
    model = tmp_path / "model"
    status, _, err = run_main(
        capsys, "fit", "--data", table, "--conditional", "--labels", labels,
        "--batch-size", "8", "--out", model, *TINY,
    )  # fmt: skip
    assert status == 0, err
    status, _, err = run_main(
        capsys, "sample", model, "--class", "dog", "-n", "3", "--npy", tmp_path / "s.npy"
    )
    assert status == 0, err
    assert np.load(tmp_path / "s.npy").shape == (3, 3)
    np.testing.assert_array_equal(np.load(tmp_path / "s_labels.npy"), ["dog"] * 3)


# -------------------------------------------------------------------- errors before training


@pytest.fixture
def files(tmp_path):
    paths = {"table": tmp_path / "table.npy", "folder": tmp_path}
    np.save(paths["table"], np.zeros((20, 3)))
    for name, labels in {
        "short": np.arange(5) % 2,
        "single": np.zeros(20, dtype=int),
        "nan": np.where(np.arange(20) == 3, np.nan, np.arange(20) % 2),
        "two_d": np.zeros((20, 2)),
        "good": np.arange(20) % 2,
    }.items():
        paths[name] = tmp_path / f"{name}.npy"
        np.save(paths[name], labels)
    return paths


USER_ERRORS = [
    (["fit", "--conditional", "--class", "3"], "leave out --class"),
    (["fit", "--labels", "{good}", "--data", "{table}"], "add --conditional"),
    (["fit", "--conditional", "--data", "{table}"], "needs --labels"),
    (["fit", "--conditional", "--labels", "{good}"], "--labels is for a .npy --data"),
    (["fit", "--conditional", "--data", "{table}", "--labels", "{folder}/no.npy"], "no such"),
    (["fit", "--conditional", "--data", "{table}", "--labels", "{short}"], "one label per"),
    (["fit", "--conditional", "--data", "{table}", "--labels", "{single}"], "at least 2 classes"),
    (["fit", "--conditional", "--data", "{table}", "--labels", "{nan}"], "missing labels"),
    (["fit", "--conditional", "--data", "{table}", "--labels", "{two_d}"], "1-D"),
    (["demo", "--conditional", "--class", "3"], "leave out --class"),
    (["demo", "--conditional", "--population", "4"], "--population sets the search"),
    (["demo", "--conditional", "--space", "reference"], "--space sets the search"),
]


@pytest.mark.parametrize(("argv", "text"), USER_ERRORS, ids=[" ".join(a) for a, _ in USER_ERRORS])
def test_conditional_mistakes_are_one_line_with_status_1(capsys, files, argv, text):
    argv = [part.format(**files) for part in argv]
    status, _, err = run_main(capsys, *argv, "--out", files["folder"] / "out")
    assert status == 1
    assert text in one_error_line(err, argv[0])
    assert not (files["folder"] / "out").exists()


def test_help_of_the_conditional_options_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from gan_estimators import cli\n"
        "for command in ('demo', 'fit', 'sample'):\n"
        "    try:\n"
        "        cli.main([command, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "--conditional" in result.stdout and "--class LABEL" in result.stdout
    assert result.stdout.strip().endswith("False")


# ---------------------------------------------------------------------- demo --conditional


@pytest.mark.slow
def test_demo_conditional_quick_scores_every_class(capsys, tmp_path):
    out = tmp_path / "demo"
    status, stdout, err = run_main(capsys, "demo", "--conditional", "--quick", "--out", out, "-q")
    assert status == 0, err
    assert stdout == ""
    summary = json.loads((out / "summary.json").read_text())
    per_class = summary["scores"]["per_class"]
    assert list(per_class) == [str(digit) for digit in range(10)]
    for scores in per_class.values():
        assert scores["fd"] > scores["real_data_fd"] > 0 and scores["n_holdout"] >= 2
    mean = np.mean([scores["score"] for scores in per_class.values()])
    assert summary["scores"]["mean_per_class_score"] == pytest.approx(mean)
    assert summary["options"]["max_time"] == 3.0  # the quick refit budget
    assert cli.png_size(out / "samples.png") == (1100, 500)
    from gan_estimators import GANEstimator

    model = GANEstimator.load(out / "model")
    np.testing.assert_array_equal(model.classes_, np.arange(10))
