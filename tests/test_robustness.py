"""A catalogue of misuse and faults: bad arrays, bad parameters, tampered model folders,
interrupted saves and command-line mistakes.

Every case ends in a clear error (the right class, a message naming the argument or the file)
or in correct behaviour, and no case leaves a folder that loads as a model it is not.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf
from sklearn.utils._param_validation import InvalidParameterError

from gan_estimators import GANEstimator, cli
from gan_estimators.gan import fitting as fitting_module
from gan_estimators.gan import folder as folder_module
from gan_estimators.gan import persistence
from gan_estimators.gan.errors import ModelFolderError, NetworkTooLargeError
from gan_estimators.gan.folder import write_manifest

TINY = {"network": "mlp", "n_filters": 2, "latent_dim": 3, "n_steps": 2, "batch_size": 8}


def _table(n=24, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 3)) * [1.0, 10.0, 100.0]


@pytest.fixture(scope="module")
def averaged():
    """A tiny fit with a weight average (generator_ema.keras)."""
    return GANEstimator(**TINY, random_state=0).fit(_table())


@pytest.fixture(scope="module")
def plain():
    """A tiny fit of another model, without a weight average."""
    return GANEstimator(**TINY, ema_decay=None, random_state=1).fit(_table(seed=1))


def _same_samples(a, b):
    return np.array_equal(a.sample(6, random_state=3), b.sample(6, random_state=3))


# ------------------------------------------------------------------------------ bad arrays

BAD_ARRAYS = {
    "nan": (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), ValueError, "NaN"),
    "inf": (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), ValueError, "infinity"),
    "one sample": (np.zeros((1, 3)), ValueError, "minimum of 2"),
    "1-D": (np.arange(5.0), ValueError, "Expected 2D array"),
    "5-D": (np.zeros((4, 2, 2, 2, 2)), ValueError, "got a 5-D array"),
    "strings": (np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert"),
    "complex": (np.ones((4, 2)) * 1j, ValueError, "[Cc]omplex"),
    "empty image side": (np.zeros((4, 0, 3)), ValueError, "empty image dimension"),
    "beyond float32": (np.array([[1e39, 0.0], [0.0, 1.0], [2.0, 3.0]]), ValueError, "infinity"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARRAYS))
def test_bad_arrays_get_a_clear_error(case):
    X, error, message = BAD_ARRAYS[case]
    with pytest.raises(error, match=message):
        GANEstimator(**TINY).fit(X)


def test_data_near_the_float32_limit_is_scaled_without_overflow():
    X = np.random.default_rng(0).uniform(-3e38, 3e38, size=(24, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # overflow, or a divergence warning
        gan = GANEstimator(**TINY, random_state=0).fit(X)
    assert np.isfinite(gan.history_["critic_loss"]).all()
    assert np.isfinite(gan.sample(50, random_state=0)).all()
    scaled = gan._data_layout_.scale(X, "mlp")
    assert scaled.min() == -1.0 and scaled.max() == 1.0
    np.testing.assert_allclose(gan._data_layout_.unscale(scaled), X, rtol=1e-6, atol=1e32)


# -------------------------------------------------------------------------- bad parameters

BAD_PARAMETERS = {
    "n_steps=True": ({"n_steps": True}, "'n_steps' parameter"),
    "latent_dim=False": ({"latent_dim": False}, "'latent_dim' parameter"),
    "batch_size=True": ({"batch_size": True}, "'batch_size' parameter"),
    "n_critic=True": ({"n_critic": True}, "'n_critic' parameter"),
    "n_filters=1.5": ({"n_filters": 1.5}, "'n_filters' parameter"),
    "loss unknown": ({"loss": "wasserstein"}, "'loss' parameter"),
    "no budget": ({"n_steps": None}, "At least one of n_steps"),
    "conv on a table": ({"network": "conv"}, "network='conv' needs images"),
    "batchnorm with a penalty": (
        {"loss": "wgan-gp", "critic_norm": "batch"},
        "critic_norm='batch' cannot be used",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PARAMETERS))
def test_bad_parameters_are_refused_before_training(case, monkeypatch):
    params, message = BAD_PARAMETERS[case]
    monkeypatch.setattr(fitting_module, "build_networks", _must_not_run)
    with pytest.raises(InvalidParameterError, match=message):
        GANEstimator(**{**TINY, **params}).fit(_table())


def _must_not_run(*args, **kwargs):
    raise AssertionError("training started")


@pytest.mark.parametrize("random_state", [-1, 2**32, True, "seed", 1.5])
def test_sample_refuses_a_bad_random_state(averaged, random_state):
    with pytest.raises(ValueError, match="random_state must be None, an integer"):
        averaged.sample(2, random_state=random_state)


def test_partial_fit_shape_error_does_not_suggest_warm_start(averaged):
    gan = GANEstimator(**TINY, random_state=0).fit(_table())
    with pytest.raises(ValueError, match="call fit to train new networks") as info:
        gan.partial_fit(np.zeros((8, 4, 4)))
    assert "warm_start" not in str(info.value)
    with pytest.raises(ValueError, match="set warm_start=False"):
        gan.set_params(warm_start=True).fit(np.zeros((8, 4, 4)))


@pytest.mark.parametrize("where", ["build", "train"])
def test_networks_too_large_for_memory_say_what_was_asked(where, monkeypatch):
    def exhausted(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[4000000,4000000] and type float"
        )

    target = "build_networks" if where == "build" else "train"
    monkeypatch.setattr(fitting_module, target, exhausted)
    with pytest.raises(NetworkTooLargeError, match=r"n_filters=2.*shape\[4000000,4000000\]"):
        GANEstimator(**TINY).fit(_table())


# ----------------------------------------------------------------------------------- saving


def test_saving_twice_to_one_folder_leaves_nothing_of_the_first_model(averaged, plain, tmp_path):
    path = tmp_path / "m"
    averaged.save(path)
    assert (path / "generator_ema.keras").exists()
    plain.save(path)
    assert not (path / "generator_ema.keras").exists()
    loaded = GANEstimator.load(path)
    assert not hasattr(loaded, "generator_ema_")
    assert _same_samples(loaded, plain) and not _same_samples(loaded, averaged)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging folder left


def test_save_refuses_a_folder_of_other_files_unless_overwrite(averaged, tmp_path):
    path = tmp_path / "mine"
    path.mkdir()
    (path / "notes.txt").write_text("keep me")
    with pytest.raises(ModelFolderError, match=r"holds no saved model.*overwrite=True"):
        averaged.save(path)
    assert sorted(p.name for p in path.iterdir()) == ["notes.txt"]
    averaged.save(path, overwrite=True)
    assert (path / "notes.txt").read_text() == "keep me"
    assert _same_samples(GANEstimator.load(path), averaged)


def test_replacing_a_model_beside_other_files_keeps_them(averaged, plain, tmp_path):
    path = tmp_path / "m"
    averaged.save(path)
    (path / "notes.txt").write_text("keep me")
    plain.save(path)
    assert (path / "notes.txt").read_text() == "keep me"
    assert not (path / "generator_ema.keras").exists()
    assert _same_samples(GANEstimator.load(path), plain)
    assert not [p for p in path.iterdir() if p.name.startswith(".")]


def test_save_refuses_a_file(averaged, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFolderError, match="exists and is not a folder"):
        averaged.save(tmp_path / "file")
    with pytest.raises(ModelFolderError, match="cannot be created"):
        averaged.save(tmp_path / "file" / "m")


def _interrupt_on_call(number, original):
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) == number:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    return interrupted


INTERRUPTS = {
    # (module, attribute, call that raises)
    "writing the second network": (persistence.keras.saving, "save_model", 2),
    "moving the old folder aside": (folder_module.os, "rename", 1),
    "renaming the new folder into place": (folder_module.os, "rename", 2),
}


@pytest.mark.parametrize("case", sorted(INTERRUPTS))
def test_an_interrupted_save_leaves_the_previous_model_whole(
    case, averaged, plain, tmp_path, monkeypatch
):
    path = tmp_path / "m"
    averaged.save(path)
    before = sorted(p.name for p in path.iterdir())
    module, name, number = INTERRUPTS[case]
    monkeypatch.setattr(module, name, _interrupt_on_call(number, getattr(module, name)))
    with pytest.raises(KeyboardInterrupt):
        plain.save(path)
    monkeypatch.undo()
    assert sorted(p.name for p in path.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert _same_samples(GANEstimator.load(path), averaged)


def test_an_interrupted_save_among_other_files_is_refused_until_complete(
    averaged, plain, tmp_path, monkeypatch
):
    path = tmp_path / "m"
    averaged.save(path)
    (path / "notes.txt").write_text("keep me")
    replace = folder_module.os.replace
    monkeypatch.setattr(folder_module.os, "replace", _interrupt_on_call(2, replace))
    with pytest.raises(KeyboardInterrupt):
        plain.save(path)
    monkeypatch.undo()
    with pytest.raises(ModelFolderError, match=r"manifest\.json: missing"):
        GANEstimator.load(path)
    plain.save(path)  # a new save completes it
    assert _same_samples(GANEstimator.load(path), plain)
    assert (path / "notes.txt").read_text() == "keep me"


# ------------------------------------------------------------------------- tampered folders


def _edit_json(key_path, value):
    def edit(folder):
        document = json.loads((folder / "estimator.json").read_text())
        target = document
        for key in key_path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[key_path[-1]]
        else:
            target[key_path[-1]] = value
        (folder / "estimator.json").write_text(json.dumps(document))

    return edit


_DELETE = object()


def _edit_arrays(**changes):
    def edit(folder):
        with np.load(folder / "arrays.npz") as stored:
            arrays = {name: stored[name] for name in stored.files}
        for name, value in changes.items():
            if value is _DELETE:
                del arrays[name]
            else:
                arrays[name] = value
        np.savez(folder / "arrays.npz", **arrays)

    return edit


def _rewrite(name, change):
    """An edit replacing the bytes ``data`` of the file ``name`` by ``change(data)``."""

    def edit(folder):
        (folder / name).write_bytes(change((folder / name).read_bytes()))

    return edit


def _truncate(name):
    return _rewrite(name, lambda data: data[: len(data) // 2])


def _swap(a, b):
    def edit(folder):
        (folder / a).rename(folder / "swap")
        (folder / b).rename(folder / a)
        (folder / "swap").rename(folder / b)

    return edit


def _flip_last(data):
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def _write(name, new):
    return _rewrite(name, lambda data: new)


def _delete(name):
    def edit(folder):
        (folder / name).unlink()

    return edit


def _copy_from_other_model(name):
    def edit(folder):
        shutil.copy(folder.parent / "other" / name, folder / name)

    return edit


# (edit, whether the manifest is rewritten to match -- an edit only the contents' checks
# can tell --, the file the error names, text of the message)
TAMPERS = {
    "average deleted": (_delete("generator_ema.keras"), False, "generator_ema.keras", "missing"),
    "stale average": (
        _copy_from_other_model("generator_ema.keras"),
        False,
        "generator_ema.keras",
        "not part of the saved model",
    ),
    "arrays truncated": (_truncate("arrays.npz"), False, "arrays.npz", "bytes where"),
    "network truncated": (_truncate("generator.keras"), False, "generator.keras", "bytes where"),
    "networks swapped": (
        _swap("generator.keras", "critic.keras"),
        False,
        "critic.keras",
        "truncated or altered",
    ),
    "byte flipped": (_rewrite("arrays.npz", _flip_last), False, "arrays.npz", "SHA-256 differs"),
    "manifest deleted": (_delete("manifest.json"), False, "manifest.json", "missing"),
    "manifest garbage": (
        _write("manifest.json", b"{nope"),
        False,
        "manifest.json",
        "not valid JSON",
    ),
    "json garbage": (_write("estimator.json", b"{nope"), True, "estimator.json", "not valid JSON"),
    "json not utf-8": (_write("estimator.json", b"\xff\xfe"), True, "estimator.json", "not valid"),
    "npz garbage": (_write("arrays.npz", b"PK nope"), True, "arrays.npz", "not a readable .npz"),
    "keras garbage": (_truncate("critic.keras"), True, "critic.keras", "not a readable Keras"),
    "resealed swap": (
        _swap("generator.keras", "critic.keras"),
        True,
        "generator.keras",
        "maps inputs of shape",
    ),
    "latent_dim edited": (
        _edit_json(("params", "latent_dim"), 7),
        True,
        "generator.keras",
        r"maps inputs of shape \(3,\)",
    ),
    "parameter of the wrong type": (
        _edit_json(("params", "n_filters"), "abc"),
        True,
        "estimator.json",
        "'n_filters' parameter",
    ),
    "unknown parameter": (
        _edit_json(("params", "colour"), "red"),
        True,
        "estimator.json",
        "unknown parameters",
    ),
    "random_state calls numpy": (
        _edit_json(
            ("params", "random_state"),
            {"__numpy_random__": "Generator", "state": {"bit_generator": "seed"}},
        ),
        True,
        "estimator.json",
        "unknown bit generator 'seed'",
    ),
    "random_state of another kind": (
        _edit_json(("params", "random_state"), {"__numpy_random__": "shuffle", "state": [1]}),
        True,
        "estimator.json",
        "unknown random generator encoding",
    ),
    "fitted key missing": (
        _edit_json(("fitted", "layout"), _DELETE),
        True,
        "estimator.json",
        "lacks 'layout'",
    ),
    "fitted value of the wrong type": (
        _edit_json(("fitted", "n_steps_"), "2"),
        True,
        "estimator.json",
        "n_steps_ must be an integer",
    ),
    "history uneven": (
        _edit_json(("history_", "step"), [1]),
        True,
        "estimator.json",
        "differ in length",
    ),
    "version not a number": (
        _edit_json(("version",), "6"),
        True,
        "estimator.json",
        "version must be a positive integer",
    ),
    "nan data_min_": (
        _edit_arrays(data_min_=np.array([np.nan, 0.0, 0.0])),
        True,
        "arrays.npz",
        "data_min_ holds NaN",
    ),
    "data range of another shape": (
        _edit_arrays(data_max_=np.zeros(4)),
        True,
        "arrays.npz",
        r"data_max_ has shape \(4,\)",
    ),
    "data range missing": (
        _edit_arrays(data_min_=_DELETE),
        True,
        "arrays.npz",
        "lacks the array 'data_min_'",
    ),
    "odd optimizer array": (
        _edit_arrays(optimizer_critic_abc=np.zeros(2)),
        True,
        "arrays.npz",
        "never writes",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERS))
def test_a_tampered_folder_is_refused_naming_the_file(case, averaged, plain, tmp_path):
    edit, reseal, name, message = TAMPERS[case]
    averaged.save(tmp_path / "other")
    folder = tmp_path / "m"
    (averaged if "stale" not in case else plain).save(folder)
    edit(folder)
    if reseal:
        write_manifest(folder, persistence.FORMAT, persistence.VERSION)
    with pytest.raises(ModelFolderError) as info:
        GANEstimator.load(folder)
    text = str(info.value)
    assert text.startswith(os.path.join(str(folder), name) + ": "), text
    assert re.search(message, text), text


# ------------------------------------------------------------------------- command line


def run_main(capsys, *argv):
    try:
        status = cli.main([str(part) for part in argv])
    except SystemExit as exc:
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, [line for line in captured.err.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def files(tmp_path_factory, averaged):
    folder = tmp_path_factory.mktemp("cli")
    np.save(folder / "ok.npy", _table())
    np.save(folder / "images.npy", np.random.default_rng(0).random((24, 8, 8)))
    (folder / "a_file").write_text("x")
    (folder / "user").mkdir()
    (folder / "user" / "notes.txt").write_text("x")
    averaged.save(folder / "model")
    truncated = folder / "truncated"
    averaged.save(truncated)
    _truncate("arrays.npz")(truncated)
    edited = folder / "edited"
    averaged.save(edited)
    _edit_json(("params", "n_filters"), -3)(edited)
    write_manifest(edited, persistence.FORMAT, persistence.VERSION)
    return folder


# (argv, with {f} the files folder; text of the one error line)
CLI_MISUSE = {
    "invalid combination": (
        ["fit", "--data", "{f}/images.npy", "--reference", "--loss", "wgan-gp", "--out", "{f}/r"],
        "critic_norm='batch' cannot be used",
    ),
    "negative sampling seed": (
        ["sample", "{f}/model", "--npy", "{f}/s.npy", "--random-state", "-1"],
        "--random-state must be in",
    ),
    "more folds than samples": (
        ["search", "--data", "{f}/ok.npy", "--cv", "50", "--out", "{f}/s"],
        "--cv 50 needs at least 100 samples",
    ),
    "truncated arrays": (
        ["sample", "{f}/truncated", "--npy", "{f}/s.npy"],
        "arrays.npz: ",
    ),
    "edited parameters": (
        ["sample", "{f}/edited", "--npy", "{f}/s.npy"],
        "'n_filters' parameter",
    ),
    "samples into a file's folder": (
        ["sample", "{f}/model", "--npy", "{f}/a_file/s.npy"],
        "does not exist",
    ),
    "grid into a file's folder": (
        ["sample", "{f}/model", "--png", "{f}/a_file/g.png"],
        "does not exist",
    ),
    "samples onto a folder": (["sample", "{f}/model", "--npy", "{f}/user.npy"], "it is a folder"),
    "model into a file's folder": (
        ["fit", "--data", "{f}/ok.npy", "--out", "{f}/a_file/m"],
        "cannot be created",
    ),
    "model into a folder of other files": (
        ["fit", "--data", "{f}/ok.npy", "--out", "{f}/user"],
        "holds no saved model",
    ),
    "search into a file": (
        ["search", "--data", "{f}/ok.npy", "--out", "{f}/a_file"],
        "not a folder",
    ),
}


@pytest.mark.parametrize("case", sorted(CLI_MISUSE))
def test_command_line_misuse_is_one_line_before_training(case, files, capsys, monkeypatch):
    argv, message = CLI_MISUSE[case]
    if case == "samples onto a folder":
        (files / "user.npy").mkdir(exist_ok=True)
    monkeypatch.setattr(fitting_module, "build_networks", _must_not_run)
    status, _, errors = run_main(capsys, *(part.format(f=files) for part in argv))
    assert status == 1
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"gan-estimators {argv[0]}: error: ")
    assert message in errors[0]
    assert not (files / "s.npy").exists()


def test_mnist_is_not_downloaded_unless_asked(tmp_path, capsys, monkeypatch):
    from gan_estimators import datasets

    for variable in ("HOME", "KERAS_HOME", datasets.ENV_VAR):
        monkeypatch.setenv(variable, str(tmp_path))
    monkeypatch.setattr(datasets, "_DEBIAN_FASHION_DIR", str(tmp_path / "debian"))
    monkeypatch.setattr(datasets, "_download_with_keras", _must_not_run)
    status, _, errors = run_main(capsys, "fit", "--data", "mnist", "--out", tmp_path / "m")
    assert status == 1 and len(errors) == 1
    assert "MNIST 'train' split not found" in errors[0] and "--data-home" in errors[0]


def test_misuse_in_a_real_process_shows_no_traceback(files):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_estimators",
            "search",
            "--data",
            files / "ok.npy",
            "--cv",
            "50",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def test_command_line_outputs_replace_files_whole(files, capsys, monkeypatch):
    from gan_estimators.cli import io

    target = files / "out.json"
    io.write_json(target, {"old": 1})
    monkeypatch.setattr(io, "_plain", _interrupting_plain)
    with pytest.raises(KeyboardInterrupt):
        io.write_json(target, {"new": 2})
    assert json.loads(target.read_text()) == {"old": 1}
    assert sorted(p.name for p in files.iterdir() if p.name.startswith(".")) == []


def _interrupting_plain(value):
    raise KeyboardInterrupt


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_destination_no_one_can_write_is_refused_before_training(tmp_path):
    # Permission bits allow root everything; /proc refuses new folders even to root.
    from gan_estimators.gan.errors import ModelFolderError
    from gan_estimators.gan.folder import check_destination

    with pytest.raises(ModelFolderError, match="/proc"):
        check_destination("/proc/gan-model")
    status = subprocess.run(
        [sys.executable, "-m", "gan_estimators", "fit", "--out", "/proc/gan-model", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 1
    assert status.stderr.strip().splitlines() == [
        "gan-estimators fit: error: /proc/gan-model: cannot be created: /proc is not writable"
    ]
