"""A fake generative estimator and synthetic training histories for the sample-quality tests.

:class:`FakeGenerator` follows the estimator contract of ``CONTRIBUTING.md`` (``fit``,
``sample(n, random_state)``, ``history_``, ``random_state`` and ``feature_map`` parameters,
``fit`` ending with ``self._fit_sample_quality(X)``) without any network, so ``score``, the
scorers and the diagnostics can be tested in milliseconds and without TensorFlow.
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from gan_estimators.quality.evaluation import GenerativeScoreMixin


def _finish(critic_real, critic_fake, generator_loss, generator_grad_norm, rng):
    n = len(critic_real)
    steps = np.arange(1, n + 1)
    return {
        "step": steps.tolist(),
        "critic_loss": (np.asarray(critic_real) + np.asarray(critic_fake)).tolist(),
        "critic_real": np.asarray(critic_real, dtype=float).tolist(),
        "critic_fake": np.asarray(critic_fake, dtype=float).tolist(),
        "generator_loss": np.asarray(generator_loss, dtype=float).tolist(),
        "gradient_penalty": [0.0] * n,
        "critic_grad_norm": (1.0 + 0.1 * rng.random(n)).tolist(),
        "generator_grad_norm": np.asarray(generator_grad_norm, dtype=float).tolist(),
        "elapsed": (0.01 * steps).tolist(),
    }


def make_history(kind="healthy_wgan", n=200, seed=0):
    """A synthetic ``history_`` showing one behaviour.

    ``healthy_wgan``: the critic's distance estimate rises, then shrinks slowly as the generator
    improves; gradients stay O(1).  ``healthy_gan``: binary cross-entropies of a fairly
    confident discriminator (0.45 and 0.5) with noise, no trend.  ``vanishing``: a BCE
    discriminator drives its loss to ~0 and the generator's gradient norm decays by 10^4 while
    its loss sits still.
    ``diverging``: over the second half the generator loss climbs steadily while the critic
    loss keeps falling.  ``wgan_drift``: the Wasserstein generator loss drifts upwards while
    the critic's distance estimate is unchanged (an arbitrary offset, not a failure).
    ``chance_gan``: both BCE terms sit at ln 2 (outputs 0.5).  ``chance_wgan``: the distance
    estimate decays to ~0.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    noise = rng.normal(size=(3, n))
    if kind == "healthy_wgan":
        distance = 4.0 * (1 - np.exp(-t / 10)) * np.exp(-t / 150) + 0.5
        real = -(1.0 + distance / 2) + 0.05 * noise[0]
        fake = 1.0 - distance / 2 + 0.05 * noise[1]
        gen = -(1.0 - distance / 2) + 0.1 * noise[2]
        grad = 1.0 + 0.2 * np.abs(noise[2])
    elif kind == "healthy_gan":
        real = 0.45 + 0.05 * noise[0]
        fake = 0.5 + 0.05 * noise[1]
        gen = 0.9 + 0.1 * noise[2]
        grad = 1.0 + 0.2 * np.abs(noise[2])
    elif kind == "vanishing":
        real = 0.7 * np.exp(-t / 20) + 1e-3 * np.abs(noise[0])
        fake = 0.7 * np.exp(-t / 20) + 1e-3 * np.abs(noise[1])
        gen = 8.0 - 7.0 * np.exp(-t / 20) + 1e-4 * noise[2]
        grad = np.exp(-t / 20) + 1e-6 * np.abs(noise[2])
    elif kind == "diverging":
        ramp = np.clip(t - n / 2, 0, None) / (n / 2)
        real = -1.0 - 3.0 * ramp + 0.05 * noise[0]
        fake = 1.0 - 3.0 * ramp + 0.05 * noise[1]
        gen = -1.0 + 6.0 * ramp + 0.1 * noise[2]
        grad = 1.0 + 0.2 * np.abs(noise[2])
    elif kind == "wgan_drift":
        drift = t / n
        real = -1.5 + drift + 0.05 * noise[0]
        fake = 0.5 - drift + 0.05 * noise[1]
        gen = -0.5 + 3.0 * drift + 0.1 * noise[2]
        grad = 1.0 + 0.2 * np.abs(noise[2])
    elif kind == "chance_gan":
        real = np.log(2) + 0.02 * noise[0]
        fake = np.log(2) + 0.02 * noise[1]
        gen = np.log(2) + 0.02 * noise[2]
        grad = 1.0 + 0.2 * np.abs(noise[2])
    elif kind == "chance_wgan":
        distance = 3.0 * np.exp(-t / 10) + 0.01 * noise[0]
        real = -distance / 2
        fake = -distance / 2 + 0.001 * noise[1]
        gen = 0.1 * noise[2]
        grad = 1.0 + 0.2 * np.abs(noise[2])
    else:  # pragma: no cover - test helper misuse
        raise ValueError(kind)
    return _finish(real, fake, gen, grad, rng)


class FakeGenerator(GenerativeScoreMixin, BaseEstimator):
    """Generator that resamples its training data, optionally degraded.

    Parameters
    ----------
    noise : float
        Standard deviation of Gaussian noise added to each sample, as a fraction of the
        training data's value range.
    n_modes : int or None
        Only the first ``n_modes`` training samples are ever emitted (mode collapse).
    uniform : bool
        Emit uniform noise over the data's range instead (a generator that learnt nothing).
    history_kind : str
        Which synthetic history ``fit`` records (see :func:`make_history`).
    loss : str
        Reported to the diagnostics like ``GANEstimator.loss``.
    feature_map, random_state
        As for ``GANEstimator``.
    """

    def __init__(
        self,
        noise=0.0,
        n_modes=None,
        uniform=False,
        history_kind="healthy_wgan",
        loss="wgan-gp",
        feature_map="auto",
        random_state=None,
    ):
        self.noise = noise
        self.n_modes = n_modes
        self.uniform = uniform
        self.history_kind = history_kind
        self.loss = loss
        self.feature_map = feature_map
        self.random_state = random_state

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        self.train_ = X.copy()
        self.low_, self.high_ = float(X.min()), float(X.max())
        self.history_ = make_history(self.history_kind)
        self.n_steps_ = len(self.history_["step"])
        self.n_sample_calls_ = 0
        self._fit_sample_quality(X)
        return self

    def sample(self, n, random_state=None):
        self.n_sample_calls_ += 1
        rng = check_random_state(random_state)
        span = self.high_ - self.low_
        shape = (n, *self.train_.shape[1:])
        if self.uniform:
            return rng.uniform(self.low_, self.high_, size=shape)
        pool = self.train_ if self.n_modes is None else self.train_[: self.n_modes]
        out = pool[rng.randint(len(pool), size=n)]
        if self.noise:
            out = out + self.noise * span * rng.normal(size=shape)
        return out
