"""Callbacks: hooks around the compiled training iterations, stopping, and the ready-made ones."""

import csv

import numpy as np
import pytest

from gan_estimators import (
    Callback,
    Checkpoint,
    CSVLogger,
    GANEstimator,
    SampleGrid,
    StopTraining,
)
from gan_estimators.quality.diagnostics import GANTrainingWarning
from gan_estimators.quality.history import STEP_KEYS

TINY = {"network": "mlp", "n_filters": 2, "latent_dim": 2, "batch_size": 8, "random_state": 0}


def _data(n=40, n_features=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, n_features))


def _gan(**params):
    return GANEstimator(**{**TINY, **params})


class Recorder(Callback):
    """Records what each hook saw."""

    def __init__(self):
        self.events = []

    def on_fit_begin(self, estimator):
        self.events.append(("begin", estimator.n_steps_))

    def on_iteration_end(self, estimator, logs):
        self.events.append(("iteration", dict(logs)))

    def on_fit_end(self, estimator):
        self.events.append(("end", estimator.n_steps_, hasattr(estimator, "diagnostics_")))


def test_hooks_run_in_order_with_the_logs_of_each_iteration():
    recorder, seen = Recorder(), []
    held_out = _data(10, seed=1)
    gan = _gan(
        n_steps=4, validation_data=held_out, eval_every=2,
        callbacks=[recorder, lambda estimator, logs: seen.append(logs["step"])],
    ).fit(_data())  # fmt: skip
    assert seen == [1, 2, 3, 4]
    kinds = [event[0] for event in recorder.events]
    assert kinds == ["begin", "iteration", "iteration", "iteration", "iteration", "end"]
    assert recorder.events[0] == ("begin", 0)
    assert recorder.events[-1] == ("end", 4, True)  # the estimator is complete by then
    logs = [event[1] for event in recorder.events[1:-1]]
    for step, entry in enumerate(logs, start=1):
        i = step - 1
        assert entry["step"] == step
        assert entry["elapsed"] == gan.history_["elapsed"][i]
        assert {key: entry[key] for key in STEP_KEYS} == {k: gan.history_[k][i] for k in STEP_KEYS}
        assert ("val_score" in entry) == (step in (2, 4))
    assert [logs[1]["val_score"], logs[3]["val_score"]] == gan.history_["val_score"]


def test_a_callback_returning_true_stops_training():
    gan = _gan(n_steps=50, callbacks=[lambda estimator, logs: logs["step"] == 3]).fit(_data())
    assert gan.n_steps_ == 3 and len(gan.history_["step"]) == 3
    assert hasattr(gan, "diagnostics_")  # the fit ended normally
    # Anything but True goes on.
    gan = _gan(n_steps=4, callbacks=[lambda estimator, logs: "stop"]).fit(_data())
    assert gan.n_steps_ == 4


def test_stop_training_raised_in_a_hook_stops_training():
    def stop_at_2(estimator, logs):
        if logs["step"] == 2:
            raise StopTraining

    assert _gan(n_steps=50, callbacks=[stop_at_2]).fit(_data()).n_steps_ == 2

    class NotToday(Callback):
        def on_fit_begin(self, estimator):
            raise StopTraining

    with pytest.warns(GANTrainingWarning, match="mode collapse"):  # an untrained generator
        gan = _gan(n_steps=50, callbacks=[NotToday()]).fit(_data())
    assert gan.n_steps_ == 0 and gan.history_["step"] == []
    gan.sample(2)  # untrained, but a fitted estimator


def test_callbacks_do_not_retrace_the_compiled_step():
    gan = _gan(n_steps=3, warm_start=True).fit(_data())
    function = gan._trainer._iteration_fn
    assert function.experimental_get_tracing_count() == 1
    gan.set_params(
        callbacks=[Recorder(), lambda estimator, logs: None],
        validation_data=_data(10, seed=1),
        eval_every=1,
    ).fit(_data())
    gan.set_params(callbacks=[lambda estimator, logs: logs["step"] == 8]).fit(_data())
    assert gan._trainer._iteration_fn is function
    assert function.experimental_get_tracing_count() == 1
    assert gan.n_steps_ == 8


def test_sample_grid_writes_a_png_at_every_multiple_and_at_the_end(tmp_path):
    pytest.importorskip("matplotlib")
    folder = tmp_path / "grids"
    # 16 features form 4x4 images.
    _gan(n_steps=5, callbacks=[SampleGrid(folder, every=2, n_samples=9)]).fit(_data(n_features=16))
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["samples_000002.png", "samples_000004.png", "samples_000005.png"]
    assert (folder / names[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sample_grid_refuses_data_it_cannot_draw_before_training(tmp_path):
    gan = _gan(n_steps=5, callbacks=[SampleGrid(tmp_path / "g")])
    with pytest.raises(ValueError, match="SampleGrid draws images"):
        gan.fit(_data(n_features=3))
    assert gan.history_["step"] == []


@pytest.mark.parametrize(
    ("make", "name", "value"),
    [
        (lambda: SampleGrid("g", every=0), "every", "0"),
        (lambda: SampleGrid("g", n_samples=2.5), "n_samples", "2.5"),
        (lambda: Checkpoint("c", every=True), "every", "True"),
        (lambda: CSVLogger("log.csv", every=-1), "every", "-1"),
    ],
)
def test_a_bad_count_is_refused_where_the_callback_is_made_naming_it(make, name, value):
    with pytest.raises(ValueError, match=rf"'{name}' parameter of \w+ must be an int in the "
                       rf"range \[1, inf\); got {value}"):  # fmt: skip
        make()


def test_a_count_changed_after_construction_is_checked_before_training(tmp_path):
    grid = SampleGrid(tmp_path / "g", every=2)
    grid.every = 0
    gan = _gan(n_steps=5, callbacks=[grid])
    with pytest.raises(ValueError, match=r"'every' parameter of SampleGrid"):
        gan.fit(_data(n_features=16))
    assert gan.history_["step"] == []


def test_checkpoint_saves_loadable_models(tmp_path):
    gan = _gan(n_steps=4, callbacks=[Checkpoint(tmp_path / "latest", every=3)])
    gan.fit(_data())
    latest = GANEstimator.load(tmp_path / "latest")  # the end of the fit replaced step 3
    assert latest.n_steps_ == 4
    np.testing.assert_array_equal(latest.sample(5, random_state=1), gan.sample(5, random_state=1))
    assert latest.callbacks is None

    _gan(n_steps=4, callbacks=[Checkpoint(str(tmp_path / "at_{step}"), every=2)]).fit(_data())
    assert sorted(p.name for p in tmp_path.glob("at_*")) == ["at_2", "at_4"]
    at_2 = GANEstimator.load(tmp_path / "at_2")
    assert at_2.n_steps_ == 2 and len(at_2.history_["step"]) == 2
    np.testing.assert_array_equal(
        at_2.sample(5, random_state=1), _gan(n_steps=2).fit(_data()).sample(5, random_state=1)
    )


def test_csv_logger_writes_every_iteration(tmp_path):
    path = tmp_path / "log.csv"
    gan = _gan(
        n_steps=5, warm_start=True, validation_data=_data(10, seed=1), eval_every=2,
        callbacks=[CSVLogger(path, every=2)],
    ).fit(_data())  # fmt: skip
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["step"]) for row in rows] == [1, 2, 3, 4, 5]
    assert list(rows[0]) == ["step", *STEP_KEYS, "elapsed", "val_score"]
    assert [float(row["generator_loss"]) for row in rows] == gan.history_["generator_loss"]
    assert [float(row["val_score"]) for row in rows if row["val_score"]] == gan.history_[
        "val_score"
    ]
    assert not list(tmp_path.glob(".*.tmp"))  # every write was renamed into place

    gan.set_params(callbacks=[CSVLogger(path, append=True)]).fit(_data())  # continues the file
    with open(path, newline="") as handle:
        assert [int(row["step"]) for row in csv.DictReader(handle)] == list(range(1, 11))
    gan.set_params(callbacks=[CSVLogger(path)]).fit(_data())  # starts anew
    with open(path, newline="") as handle:
        assert [int(row["step"]) for row in csv.DictReader(handle)] == list(range(11, 16))
