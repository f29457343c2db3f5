"""Held-out scores while training, and early stopping, as a user of the estimator sees them."""

import pickle
import time

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from gan_estimators import Checkpoint, GANEstimator
from gan_estimators.gan.monitoring import split_holdout
from gan_estimators.quality.diagnostics import diagnose
from gan_estimators.quality.history import HISTORY_KEYS, VALIDATION_KEYS
from gan_estimators.quality.scorers import loss_balance_fitness

TINY = {"network": "mlp", "n_filters": 2, "latent_dim": 2, "batch_size": 8, "random_state": 0}


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)) * [1.0, 5.0, 0.5]


HELD_OUT = _data(16, seed=1)


def _gan(**params):
    return GANEstimator(**{**TINY, **params})


def _without_clock(history):
    return {key: values for key, values in history.items() if key != "elapsed"}


@pytest.mark.parametrize(
    ("n_steps", "eval_every", "steps"),
    [(4, 2, [2, 4]), (7, 3, [3, 6, 7]), (20, None, list(range(2, 21, 2))), (3, 1e-9, [1, 2, 3])],
    ids=["every-2", "and-the-last", "auto-10-per-fit", "seconds"],
)
def test_held_out_scores_are_recorded_at_the_cadence(n_steps, eval_every, steps):
    gan = _gan(n_steps=n_steps, validation_data=HELD_OUT, eval_every=eval_every).fit(_data())
    assert gan.history_["val_step"] == steps
    assert len(gan.history_["val_score"]) == len(steps)
    assert len(gan.history_["step"]) == n_steps  # the iterations' lists are unchanged


def test_a_long_time_cadence_scores_after_the_last_iteration_only():
    gan = _gan(n_steps=3, validation_data=HELD_OUT, eval_every=1e6).fit(_data())
    assert gan.history_["val_step"] == [3]


def test_a_held_out_score_is_the_score_of_the_estimator_at_that_step():
    gan = _gan(n_steps=3, validation_data=HELD_OUT, eval_every=3).fit(_data())
    assert gan.history_["val_score"] == [gan.score(HELD_OUT)]
    # ... at every step: a fit stopped there scores as recorded.
    longer = _gan(n_steps=6, validation_data=HELD_OUT, eval_every=3).fit(_data())
    assert longer.history_["val_score"][0] == gan.score(HELD_OUT)
    assert longer.history_["val_score"][1] == longer.score(HELD_OUT)


def test_scores_during_training_follow_the_generator_as_it_changes():
    # score() called by a callback at every step, beside the held-out scores at steps 2 and 4:
    # features cached by one score must not be reused once the generator has moved.
    seen = {}

    def score_now(estimator, logs):
        seen[logs["step"]] = (estimator.score(HELD_OUT), logs.get("val_score"))

    gan = _gan(n_steps=4, validation_data=HELD_OUT, eval_every=2, callbacks=[score_now]).fit(
        _data()
    )
    first, second = gan.history_["val_score"]
    assert first != second
    assert seen[2] == (first, first) and seen[4] == (second, second)
    assert len({seen[step][0] for step in seen}) == 4  # the generator changed at every step
    assert gan.score(HELD_OUT) == second


def test_validation_leaves_training_as_it_was():
    plain = _gan(n_steps=4).fit(_data())
    watched = _gan(n_steps=4, validation_data=HELD_OUT, eval_every=1).fit(_data())
    for key in ("critic_loss", "generator_loss"):
        assert watched.history_[key] == plain.history_[key]
    np.testing.assert_array_equal(
        watched.sample(5, random_state=1), plain.sample(5, random_state=1)
    )
    assert watched.score(HELD_OUT) == plain.score(HELD_OUT)


def test_validation_fraction_holds_out_part_of_x_and_never_trains_on_it():
    X = _data(40)
    gan = _gan(n_steps=4, validation_fraction=0.25, eval_every=2).fit(X)
    train, held_out = split_holdout(X.astype(np.float32), 0.25, gan._seed_)
    assert (len(train), len(held_out)) == (30, 10)
    same = _gan(n_steps=4, validation_data=held_out, eval_every=2).fit(train)
    assert _without_clock(gan.history_) == _without_clock(same.history_)
    np.testing.assert_array_equal(gan.sample(5, random_state=1), same.sample(5, random_state=1))
    # Continued training holds out the same samples.
    gan.partial_fit(X)
    same.partial_fit(train)
    assert gan.history_["val_step"] == [2, 4, 6, 8]
    assert _without_clock(gan.history_) == _without_clock(same.history_)


def test_warm_start_appends_held_out_scores_to_the_history():
    gan = _gan(n_steps=4, warm_start=True).fit(_data())
    gan.set_params(validation_data=HELD_OUT, eval_every=2).fit(_data())
    assert gan.history_["val_step"] == [6, 8]
    gan.set_params(validation_data=None).fit(_data())  # no scores this time: lists kept
    assert gan.history_["val_step"] == [6, 8] and gan.n_steps_ == 12
    gan.set_params(warm_start=False, validation_data=HELD_OUT).fit(_data())  # anew
    assert gan.history_["val_step"] == [2, 4]


def test_bad_held_out_data_is_refused_before_training():
    for bad, match in [
        (HELD_OUT[:, :2], r"validation_data must hold samples shaped like those of X, \(3,\)"),
        (np.full((4, 3), np.nan), "validation_data"),
        (HELD_OUT[:1], "validation_data"),
    ]:
        gan = _gan(n_steps=2, validation_data=bad)
        with pytest.raises(ValueError, match=match):
            gan.fit(_data())
        assert not hasattr(gan, "generator_")
    with pytest.raises(InvalidParameterError, match=r"validation_fraction=0\.5 splits the 3 "):
        _gan(n_steps=2, validation_fraction=0.5).fit(_data(3))


def test_images_may_be_held_out_with_or_without_their_channel_axis():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, size=(20, 4, 4))
    held_out = rng.uniform(0, 1, size=(6, 4, 4, 1))
    gan = _gan(n_steps=2, validation_data=held_out, eval_every=2).fit(images)
    assert gan.history_["val_score"] == [gan.score(held_out)]
    with pytest.raises(ValueError, match="validation_data"):
        _gan(n_steps=2, validation_data=held_out[:, :3]).fit(images)


def test_time_spent_watching_counts_neither_in_elapsed_nor_in_max_time():
    slow = 0.2

    def sleep_then_stop_at_step_7(estimator, logs):
        time.sleep(slow)
        return logs["step"] == 7

    gan = _gan(n_steps=2, warm_start=True).fit(_data())  # compiled: iterations are quick now
    gan.set_params(n_steps=None, max_time=2 * slow, callbacks=[sleep_then_stop_at_step_7])
    gan.fit(_data())
    assert gan.n_steps_ == 7  # five sleeps, yet max_time did not end training
    assert np.all(np.diff(gan.history_["elapsed"][2:]) < slow)


# ------------------------------------------------------------------------- early stopping


def test_early_stopping_stops_and_restores_the_best_generator():
    # With a tolerance nothing improves on, the first score stays the best.
    gan = _gan(
        n_steps=50, validation_data=HELD_OUT, eval_every=2, early_stopping=True,
        n_iter_no_change=2, tol=1e9,
    ).fit(_data())  # fmt: skip
    assert gan.history_["val_step"] == [2, 4, 6] and gan.n_steps_ == 6
    assert (gan.best_step_, gan.best_val_score_) == (2, gan.history_["val_score"][0])
    assert gan.stopped_early_ is True
    at_best = _gan(n_steps=2).fit(_data())
    for name in ("generator_", "generator_ema_"):
        for restored, expected in zip(
            getattr(gan, name).get_weights(), getattr(at_best, name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(restored, expected)
    np.testing.assert_array_equal(gan.sample(8, random_state=3), at_best.sample(8, random_state=3))
    assert gan.score(HELD_OUT) == gan.best_val_score_


def test_early_stopping_keeps_the_best_of_a_whole_run_as_a_checkpoint_had_it(tmp_path):
    gan = _gan(
        n_steps=12, validation_data=HELD_OUT, eval_every=1, early_stopping=True,
        n_iter_no_change=100, callbacks=[Checkpoint(str(tmp_path / "step_{step}"), every=1)],
    ).fit(_data())  # fmt: skip
    scores = gan.history_["val_score"]
    assert gan.n_steps_ == 12 and gan.stopped_early_ is False  # restored at the end
    assert gan.best_step_ == 1 + int(np.argmax(scores))
    assert gan.best_val_score_ == max(scores)
    checkpoint = GANEstimator.load(tmp_path / f"step_{gan.best_step_}")
    np.testing.assert_array_equal(
        gan.sample(8, random_state=3), checkpoint.sample(8, random_state=3)
    )


def test_early_stopping_holds_out_a_tenth_of_x_by_default():
    gan = _gan(n_steps=4, early_stopping=True, eval_every=2).fit(_data(40))
    assert gan.history_["val_step"][:1] == [2]
    train, held_out = split_holdout(_data(40).astype(np.float32), 0.1, gan._seed_)
    assert (len(train), len(held_out)) == (36, 4)
    assert gan.history_["val_score"][0] == pytest.approx(
        _gan(n_steps=2, validation_data=held_out).fit(train).score(held_out)
    )
    gan.set_params(early_stopping=False, validation_data=None, n_steps=2).fit(_data())
    assert not hasattr(gan, "best_step_") and "val_step" not in gan.history_
    assert not hasattr(gan, "stopped_early_")


def test_a_stop_due_at_the_last_iteration_is_no_early_stop():
    # The second score without improvement comes with the budget's last iteration.
    gan = _gan(
        n_steps=6, validation_data=HELD_OUT, eval_every=2, early_stopping=True,
        n_iter_no_change=2, tol=1e9,
    ).fit(_data())  # fmt: skip
    assert gan.n_steps_ == 6 and gan.best_step_ == 2
    assert gan.stopped_early_ is False


# ---------------------------------------------------------------- the history's held-out keys


@pytest.fixture(scope="module")
def stopped_gan():
    return _gan(
        n_steps=50, validation_data=HELD_OUT, eval_every=2, early_stopping=True,
        n_iter_no_change=2, tol=1e9,
    ).fit(_data())  # fmt: skip


def test_held_out_keys_have_one_entry_per_evaluation_and_readers_of_the_history_ignore_them(
    stopped_gan,
):
    history = stopped_gan.history_
    assert set(history) == {*HISTORY_KEYS, *VALIDATION_KEYS}
    assert {len(history[key]) for key in HISTORY_KEYS} == {6}
    assert {len(history[key]) for key in VALIDATION_KEYS} == {3}
    without = {key: history[key] for key in HISTORY_KEYS}
    curves = stopped_gan.normalized_losses()
    assert {len(curve) for curve in curves.values()} == {6}
    assert loss_balance_fitness(history) == loss_balance_fitness(without)
    assert diagnose(history).to_dict() == diagnose(without).to_dict()


def test_save_load_and_pickle_keep_held_out_scores_and_the_early_stop(stopped_gan, tmp_path):
    stopped_gan.save(tmp_path / "model")
    loaded = GANEstimator.load(tmp_path / "model")
    restored = pickle.loads(pickle.dumps(stopped_gan))
    for copy in (loaded, restored):
        assert copy.history_ == stopped_gan.history_
        assert (copy.best_step_, copy.best_val_score_, copy.stopped_early_) == (
            2, stopped_gan.best_val_score_, True,
        )  # fmt: skip
        # A fit without early stopping drops them, as it does on the original.
        copy.set_params(early_stopping=False, validation_data=None, n_steps=1).fit(_data())
        assert not hasattr(copy, "stopped_early_") and "val_step" not in copy.history_
