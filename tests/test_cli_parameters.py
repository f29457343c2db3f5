"""Tests of ``gan-estimators fit``'s estimator options: one per parameter, their help texts and
defaults from one source, their values checked on the command line, and what reaches the
estimator (its class, parameters, validation, early stopping and sample grids)."""

import argparse
import subprocess
import sys

import numpy as np
import pytest

from gan_estimators import cli
from gan_estimators.cli import commands, parameters
from gan_estimators.gan import _config

#: The parameters of issue 18 that watch the training from the command line.
WATCHING = ("validation_fraction", "eval_every", "early_stopping", "n_iter_no_change", "tol")

#: A value other than the package default for every parameter given as an option: the text
#: typed, and the value the estimator must receive.
OTHER_VALUES = {
    "loss": ("wgan-gp", "wgan-gp"),
    "latent_dim": ("7", 7),
    "n_filters": ("5", 5),
    "critic_width": ("1.5", 1.5),
    "network": ("mlp", "mlp"),
    "upsampling": ("nearest", "nearest"),
    "generator_activation": ("leaky_relu", "leaky_relu"),
    "critic_norm": ("layer", "layer"),
    "discrete_columns": ("species,island", ["species", "island"]),
    "alpha": ("0.3", 0.3),
    "dropout": ("0.1", 0.1),
    "init_std": ("none", None),
    "n_critic": ("2", 2),
    "n_gen": ("3", 3),
    "clip_value": ("0.05", 0.05),
    "gp_weight": ("5", 5.0),
    "label_noise": ("0.1", 0.1),
    "optimizer": ("rmsprop", "rmsprop"),
    "learning_rate": ("1e-3", 1e-3),
    "generator_learning_rate": ("2e-3", 2e-3),
    "critic_learning_rate": ("3e-3", 3e-3),
    "beta_1": ("0.4", 0.4),
    "beta_2": ("0.95", 0.95),
    "ema_decay": ("none", None),
    "batch_size": ("16", 16),
    "n_steps": ("none", None),
    "epochs": ("2.5", 2.5),
    "max_time": ("30", 30.0),
    "feature_map": ("standardize", "standardize"),
    "warm_start": (None, True),
    "validation_fraction": ("0.2", 0.2),
    "eval_every": ("3", 3),
    "early_stopping": (None, True),
    "n_iter_no_change": ("2", 2),
    "tol": ("0.5", 0.5),
}


def fit_options():
    """The ``fit`` subparser's actions by destination."""
    parser = cli.build_parser()
    (commands_action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {action.dest: action for action in commands_action.choices["fit"]._actions}


def parse_fit(*argv):
    return cli.build_parser().parse_args(["fit", *argv])


def typed(name, text, value):
    """The command-line words setting ``name`` to ``value`` (``text`` None: a flag)."""
    option = parameters.option_name(name)
    if text is None:
        return [option if value else "--no-" + option[2:]]
    return [option, text]


def spelled(value):
    """How ``--help`` must show a default: the command line's spelling of the value."""
    if value is None:
        return "none"
    if value is True or value is False:
        return "on" if value else "off"
    return str(value)


# ------------------------------------------------------------ one option per parameter


def test_fit_help_lists_every_option_without_importing_tensorflow():
    code = (
        "import contextlib, io, sys\n"
        "from gan_estimators import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out, "
        "contextlib.suppress(SystemExit):\n"
        "    cli.main(['fit', '--help'])\n"
        "print(out.getvalue())\n"
        "print([m for m in ('tensorflow', 'keras') if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    *help_text, loaded = result.stdout.strip().splitlines()
    assert loaded == "[]"
    for name in parameters.PARAMETER_HELP:
        assert parameters.option_name(name) in "\n".join(help_text)


def test_every_estimator_parameter_is_settable_on_the_command_line():
    parameter_names = (set(_config.DEFAULTS) | set(WATCHING)) - set(parameters.NOT_OPTIONS)
    options = fit_options()
    for name in parameter_names:
        if name in parameters.SET_BY_OTHER_OPTIONS:
            flag = parameters.SET_BY_OTHER_OPTIONS[name]
            assert any(flag in action.option_strings for action in options.values()), name
        else:
            assert name in parameters.PARAMETER_HELP, f"{name} has no option"
            assert options[name].option_strings[0] == parameters.option_name(name)
    # no option for a parameter the estimator does not have
    assert set(parameters.PARAMETER_HELP) <= parameter_names
    assert set(parameters.NOT_OPTIONS) == {"validation_data", "callbacks"} <= set(_config.DEFAULTS)
    assert set(OTHER_VALUES) == set(parameters.PARAMETER_HELP)


def test_every_default_shown_is_the_package_default_and_parses_back_to_it():
    options = fit_options()
    for name in parameters.PARAMETER_HELP:
        default = _config.DEFAULTS[name]
        action = options[name]
        assert action.default is argparse.SUPPRESS  # left out: the estimator's own default
        assert f"(default: {spelled(default)}" in action.help.replace("\n", " "), name
        assert action.help.split(" (default: ")[0] == parameters.PARAMETER_HELP[name]
        args = parse_fit(*typed(name, None if action.nargs == 0 else spelled(default), default))
        value = parameters.estimator_params(args)[name]
        assert value == default and type(value) is type(default), name


def test_options_left_out_are_absent_and_choices_come_from_the_configuration():
    assert parameters.estimator_params(parse_fit()) == {}
    options = fit_options()
    for name, choices in _config.CHOICES.items():
        assert tuple(options[name].choices) == choices


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--eval-every", "200"], {"eval_every": 200}),
        (["--eval-every", "5s"], {"eval_every": 5.0}),
        (["--eval-every", "2.5"], {"eval_every": 2.5}),
        (["--eval-every", "none"], {"eval_every": None}),
        (["--ema-decay", "None"], {"ema_decay": None}),
        (["--label-noise", "true"], {"label_noise": True}),
        (["--early-stopping", "--no-early-stopping"], {"early_stopping": False}),
        (
            ["--learning-rate", "5e-4", "--n-steps", "none"],
            {"learning_rate": 5e-4, "n_steps": None},
        ),
    ],
)
def test_values_are_read_as_the_estimator_takes_them(argv, expected):
    params = parameters.estimator_params(parse_fit(*argv))
    assert params == expected
    assert [type(v) for v in params.values()] == [type(v) for v in expected.values()]


BAD_VALUES = [
    (["--ema-decay", "1"], "--ema-decay", "(0.0, 1.0) or none"),
    (["--ema-decay", "fast"], "--ema-decay", "got 'fast'"),
    (["--beta-1", "1.0"], "--beta-1", "[0.0, 1.0)"),
    (["--n-gen", "0"], "--n-gen", "an int in the range [1, inf)"),
    (["--n-gen", "1.5"], "--n-gen", "an int"),
    (["--n-critic", "none"], "--n-critic", "got 'none'"),
    (["--learning-rate", "none"], "--learning-rate", "got 'none'"),
    (["--gp-weight", "nan"], "--gp-weight", "got 'nan'"),
    (["--dropout", "-0.1"], "--dropout", "[0.0, 1.0)"),
    (["--label-noise", "0.5"], "--label-noise", "[0.0, 0.5)"),
    (["--validation-fraction", "1.5"], "--validation-fraction", "got '1.5'"),
    (["--eval-every", "0"], "--eval-every", "got '0'"),
    (["--eval-every=-2s"], "--eval-every", "got '-2s'"),
    (["--n-iter-no-change", "0"], "--n-iter-no-change", "got '0'"),
    (["--tol", "-1"], "--tol", "got '-1'"),
    (["--feature-map", "pixels"], "--feature-map", "invalid choice"),
    (["--critic-norm", "group"], "--critic-norm", "invalid choice"),
    (["--early-stopping", "yes"], "unrecognized arguments", "yes"),
    (["--wasserstein", "--reference"], "--reference", "not allowed with"),
    (["--sample-grid-every", "0"], "--sample-grid-every", "positive integer"),
]


@pytest.mark.parametrize(
    ("argv", "option", "text"), BAD_VALUES, ids=[" ".join(argv) for argv, _, _ in BAD_VALUES]
)
def test_bad_values_are_one_line_usage_errors(capsys, argv, option, text):
    with pytest.raises(SystemExit) as stop:
        cli.main(["fit", *argv])
    assert stop.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("gan-estimators")  # "fit: error:" but for unknown arguments
    assert option in lines[0] and text in lines[0]


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["--data", "{table}", "--sample-grid", "{folder}/grids"], "square images"),
        (["--sample-grid-every", "5"], "needs --sample-grid"),
        (["--sample-grid", "{table}"], "not a folder"),
        (["--sample-grid", "{folder}/model/grids"], "outside the model folder"),
        # held-out scores need 2 samples or more on either side of the split
        (["--data", "{table}", "--early-stopping"], "validation_fraction=0.1"),
        (["--data", "{table}", "--validation-fraction", "0.9"], "validation_fraction=0.9"),
    ],
)
def test_mistakes_of_watching_options_are_one_line_before_training(capsys, tmp_path, argv, text):
    table = tmp_path / "table.npy"
    np.save(table, np.zeros((10, 3)))
    argv = [part.format(table=table, folder=tmp_path) for part in argv]
    status = cli.main(["fit", *argv, "--out", str(tmp_path / "model"), "-q"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 1 and len(lines) == 1, lines
    assert text in lines[0]
    assert not (tmp_path / "model").exists()


# ----------------------------------------------------- what reaches the estimator (TensorFlow)


@pytest.fixture(scope="module")
def classes():
    from gan_estimators import GANEstimator, WGANEstimator

    return GANEstimator, WGANEstimator


def test_defaults_shown_are_the_classes_own(classes):
    GANEstimator, WGANEstimator = classes
    starting_points = {
        None: GANEstimator().get_params(),
        "--wasserstein": WGANEstimator().get_params(),
        "--reference": WGANEstimator.reference().get_params(),
    }
    options = fit_options()
    for name in parameters.PARAMETER_HELP:
        text = options[name].help.replace("\n", " ")
        package_default = starting_points[None][name]
        assert f"(default: {spelled(package_default)}" in text, name
        for option in ("--wasserstein", "--reference"):
            value = starting_points[option][name]
            if value != package_default:
                assert f"{option}: {spelled(value)}" in text, (name, option)
            else:
                assert f"{option}:" not in text, (name, option)
    # every parameter of the estimator is an option, set by another option, or no value
    every = set(parameters.PARAMETER_HELP) | set(parameters.SET_BY_OTHER_OPTIONS)
    assert set(starting_points[None]) == every | set(parameters.NOT_OPTIONS)


@pytest.mark.parametrize("start", [None, "--wasserstein", "--reference"])
def test_every_option_reaches_the_estimator_of_the_chosen_class(classes, start):
    GANEstimator, WGANEstimator = classes
    argv = [] if start is None else [start]
    for name, (text, value) in OTHER_VALUES.items():
        argv += typed(name, text, value)
    estimator = commands.build_estimator(parse_fit(*argv, "--random-state", "3", "-q"))
    expected_class = GANEstimator if start is None else WGANEstimator
    assert type(estimator) is expected_class
    params = estimator.get_params()
    for name, (_, value) in OTHER_VALUES.items():
        assert params[name] == value and type(params[name]) is type(value), name
    assert params["random_state"] == 3 and params["verbose"] == 0
    assert params["callbacks"] is None and params["validation_data"] is None


@pytest.mark.parametrize("start", [None, "--wasserstein", "--reference"])
def test_options_left_out_keep_the_chosen_class_defaults(classes, start):
    GANEstimator, WGANEstimator = classes
    argv = [] if start is None else [start]
    built = commands.build_estimator(parse_fit(*argv, "--random-state", "3", "-q"))
    expected = {
        None: GANEstimator,
        "--wasserstein": WGANEstimator,
        "--reference": WGANEstimator.reference,
    }[start](random_state=3, verbose=0)
    assert type(built) is type(expected)
    assert built.get_params() == expected.get_params()


@pytest.mark.slow
def test_fit_validates_stops_early_and_writes_sample_grids(capsys, tmp_path, monkeypatch):
    from gan_estimators import GANEstimator, SampleGrid

    fitted = []
    fit = commands.fit_quietly

    def keep(estimator, X, y=None):
        fitted.append((estimator, estimator.callbacks))
        return fit(estimator, X, y)

    monkeypatch.setattr(commands, "fit_quietly", keep)
    grids, model = tmp_path / "grids", tmp_path / "model"
    status = cli.main(
        [
            "fit",
            "--class",
            "3",
            "--n-steps",
            "12",
            "--n-filters",
            "4",
            "--latent-dim",
            "4",
            "--batch-size",
            "16",
            "--validation-fraction",
            "0.25",
            "--eval-every",
            "2",
            "--early-stopping",
            "--n-iter-no-change",
            "1",
            "--tol",
            "1000",
            "--sample-grid",
            str(grids),
            "--sample-grid-every",
            "2",
            "--out",
            str(model),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    ((estimator, callbacks),) = fitted
    assert estimator.validation_fraction == 0.25 and estimator.early_stopping is True
    (callback,) = callbacks
    assert isinstance(callback, SampleGrid) and callback.every == 2
    # no held-out score improves on the first by 1000: training stops at the second one
    assert estimator.history_["val_step"] == [2, 4] and estimator.n_steps_ == 4
    assert estimator.best_step_ == 2
    assert "stopped early (no improvement in 1 evaluation); best " in out
    assert "at step 2, whose generator the model keeps" in out
    pngs = sorted(grids.glob("*.png"))
    assert len(pngs) == 2  # after steps 2 and 4
    for png in pngs:
        width, height = cli.png_size(png)
        assert width > 0 and height > 0
    saved = GANEstimator.load(model)
    assert saved.early_stopping is True and saved.callbacks is None


@pytest.mark.parametrize(
    ("stopped_early", "n_steps_", "said"),
    [(True, 6, "; stopped early (no improvement in 2 evaluations); best"), (False, 8, "; best")],
)
def test_fit_says_it_stopped_early_only_when_it_did(stopped_early, n_steps_, said):
    val_steps = [2, 4, 6, 8][: n_steps_ // 2]
    fitted = argparse.Namespace(
        history_={"val_step": val_steps, "val_score": [-1.0, -2.0, -3.0, -4.0][: len(val_steps)]},
        early_stopping=True,
        n_iter_no_change=2,
        n_steps_=n_steps_,
        best_step_=2,
        best_val_score_=-1.0,
        stopped_early_=stopped_early,
    )
    line = commands._validation_line(fitted)
    assert said + " -1.00 at step 2, whose generator the model keeps" in line
    assert ("stopped early" in line) is stopped_early
