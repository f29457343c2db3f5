"""``WGANEstimator``: a Wasserstein (or vanilla) GAN behaving like a scikit-learn estimator."""

import json
import math
import os
import time
import warnings
from numbers import Integral
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from gan_estimators.gan import networks as _networks
from gan_estimators.gan._config import (
    DEFAULTS,
    PARAMETER_CONSTRAINTS,
    REFERENCE_PARAMS,
    STRUCTURAL_PARAMS,
)
from gan_estimators.gan.losses import make_loss
from gan_estimators.gan.optimizers import make_optimizer
from gan_estimators.gan.persistence import (
    describe_object,
    feature_map_from_json,
    feature_map_param_from_json,
    feature_map_param_to_json,
    feature_map_to_json,
    feature_map_was_saved,
    model_from_bytes,
    model_to_bytes,
    params_from_json,
    params_to_json,
)
from gan_estimators.gan.trainer import STEP_KEYS, GANTrainer
from gan_estimators.gan.validation import validate_training_data
from gan_estimators.quality.diagnostics import DiagnosticsReport
from gan_estimators.quality.evaluation import GenerativeScoreMixin
from gan_estimators.quality.features import UnsavedFeatureMap

__all__ = ["DEFAULTS", "REFERENCE_PARAMS", "WGANEstimator"]

_SAVE_FORMAT = "gan_estimators.WGANEstimator"
# 2: estimator.json also holds feature_map_ (state; arrays in arrays.npz) and diagnostics_;
# a feature_map parameter save() cannot store is a marker.  3: generator_ema.keras holds the
# averaged generator when ema_decay is set.  4: critic_width (older folders: 1.0).
# 5: upsampling (older folders: "nearest").  Older folders still load.
_SAVE_VERSION = 5
_FEATURE_MAP_PREFIX = "feature_map__"
# Structural parameters added after the first release, with the value that folders and pickles
# from before each one's time implied: critics as wide as their generator (before format 4) and
# nearest-neighbour upsampling (before format 5).
_LEGACY_STRUCTURE = {"critic_width": 1.0, "upsampling": "nearest"}
_SAMPLE_BATCH = 1024


def _with_legacy_structure(structure):
    """A copy of ``structure`` completed with the legacy values of the parameters it lacks.

    ``structure`` is a parameter dict or ``_structure_``; a parameter it predates gets the
    value older folders and pickles implied (``_LEGACY_STRUCTURE``).
    """
    return {**_LEGACY_STRUCTURE, **structure}


def _numpy_rng(random_state):
    """NumPy generator for ``sample``: a fresh unseeded one for None (never the global one)."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    return check_random_state(random_state)


def _derive_seed(*entropy):
    """A 31-bit seed derived from integers (different entropy → independent streams)."""
    return int(np.random.SeedSequence([int(e) for e in entropy]).generate_state(1)[0] >> 1)


class WGANEstimator(GenerativeScoreMixin, BaseEstimator):
    """A GAN (WGAN-GP, WGAN with weight clipping, or vanilla) as a scikit-learn estimator.

    ``fit(X)`` learns the distribution of ``X``: tabular data ``(n_samples, n_features)``
    (numpy or pandas) or images ``(n_samples, height, width)`` /
    ``(n_samples, height, width, channels)``; ``sample(n)`` draws new data shaped and scaled
    like ``X``.  Training runs explicit ``GradientTape`` updates compiled into one
    ``tf.function`` per generator iteration (``n_critic`` critic updates then ``n_gen``
    generator updates), with the training set held as a tensor and batched in-graph.

    Every default lives in :data:`gan_estimators.gan._config.DEFAULTS`;
    :meth:`reference` gives the reference DCGAN/WGAN configuration of the specification.

    Parameters
    ----------
    loss : {"gan", "wgan-gp", "wgan"}, default="gan"
        ``"wgan-gp"``: Wasserstein loss with gradient penalty (Gulrajani et al. 2017);
        ``"wgan"``: Wasserstein loss with weight clipping of the critic's trainable kernels
        and biases to ``[-clip_value, clip_value]`` after every critic update (Arjovsky et
        al. 2017); ``"gan"``: vanilla binary cross-entropy GAN (sigmoid discriminator),
        optionally with ``label_noise``.
    latent_dim : int, default=128
        Size of the latent vector ``z ~ N(0, I)``.
    n_filters : int, default=32
        Base filter count ``F`` of the generator (convolutions ``F`` and ``F/2``; ``4·F``
        hidden units in the MLP) and, through ``critic_width``, of the critic (convolutions
        ``C/4, C/2, C, 2C`` with ``C = round(critic_width · F)``; ``4·C`` hidden units in the
        MLP).
    critic_width : float, default=2.0
        Width of the critic relative to the generator: the critic is built with base filter
        count ``round(critic_width · F)`` (at least 1), the generator with ``F``.  The critic
        is the cheap network of the pair (as wide as the generator, at ``F = 32`` on 28×28
        images, it costs about a sixth of its multiply-adds), so widening it buys a sharper
        training signal for little time: on Fashion-MNIST class 7, 60 s of training reached a
        Fréchet distance of 5.7 with 2.0 against 6.8 with 1.0, in 26% fewer iterations
        (``bench/time_to_quality.py``, both in one run).  1.0 is the reference architecture.
    alpha : float, default=0.2
        Negative slope of the LeakyReLU activations, in [0, 1]: every LeakyReLU of the
        critic, and the generator's when ``generator_activation="leaky_relu"``.
    n_critic : int, default=1
        Critic updates per generator iteration.
    n_gen : int, default=1
        Generator updates per generator iteration.
    clip_value : float, default=0.01
        Weight-clipping bound ``c`` (> 0), used by ``loss="wgan"`` only.
    gp_weight : float, default=10.0
        Gradient-penalty weight λ (>= 0), used by ``loss="wgan-gp"`` only.
    label_noise : float or bool, default=0.0
        Label noise η in [0, 0.5) for ``loss="gan"``: the critic's real targets are drawn
        from U(1 − η, 1) and its fake targets from U(0, η) at every update; the
        generator's targets stay 1.  ``True`` means η = 0.2, ``False`` means 0.
    learning_rate : float, default=5e-4
        Learning rate (> 0) of both optimizers unless overridden below.
    generator_learning_rate : float or None, default=None
        Generator learning rate; None uses ``learning_rate``.
    critic_learning_rate : float or None, default=None
        Critic learning rate; None uses ``learning_rate``.
    optimizer : {"adam", "rmsprop", "sgd"}, default="adam"
        Optimizer of both networks (each network has its own instance and state).
    beta_1, beta_2 : float, default=0.5, 0.9
        Adam's moment decay rates, in [0, 1) (ignored by the other optimizers).
    ema_decay : float or None, default=0.99
        Decay, in (0, 1), of an exponential moving average of the generator's weights
        (BatchNorm statistics included), updated after every generator iteration and used by
        ``sample`` and ``score`` (``generator_ema_``); None samples with the last weights
        instead.  Averaging cancels much of the step-to-step noise of adversarial training:
        on MNIST digit 5, 60 s of training reached a Fréchet distance of 5.1 with the
        average and 6.9 without (``bench/time_to_quality.py``; measured before the defaults
        gained ``latent_dim=128``, a ReLU generator and ``critic_width=2.0``).
        The decay warms up as ``min(ema_decay, (1 + t) / (10 + t))`` over the first
        updates ``t``, so the average soon forgets the random initial weights.
    batch_size : int, default=64
        Samples per critic / generator update.  Clamped, with a warning, to the number
        of training samples.
    n_steps : int or None, default=500
        Generator iterations to run per ``fit`` / ``partial_fit`` call.
    epochs : float or None, default=None
        Budget in passes over the data, as seen by the critic: one epoch is
        ``ceil(n_samples / (batch_size · n_critic))`` generator iterations.
    max_time : float or None, default=None
        Wall-clock budget in seconds per call (graph compilation included), checked
        between generator iterations, so at least one iteration runs.  Training stops at
        the first budget reached among ``n_steps``, ``epochs`` and ``max_time``; at least
        one must be set.  Gives candidates of a search equal compute.
    network : {"auto", "conv", "mlp"}, default="auto"
        ``"conv"``: the reference DCGAN pair (images only; any height / width, padded to a
        multiple of 4 inside the networks; any channel count); ``"mlp"``: a two-hidden-layer
        MLP pair (images are flattened); ``"auto"``: ``"conv"`` for image input, ``"mlp"``
        for 2-D input.
    generator_activation : {"leaky_relu", "relu"}, default="relu"
        Hidden activation of the generator (LeakyReLU uses ``alpha``).
    upsampling : {"transposed", "nearest"}, default="transposed"
        How the convolutional generator doubles its resolution, twice: one 4×4 transposed
        convolution of stride 2, or nearest-neighbour upsampling followed by a 3×3
        convolution with the same filter count (the reference architecture).  The transposed
        convolution costs about 2.25 times fewer multiply-adds; in the training guide's
        time-to-quality run the defaults made 13% more iterations with it and reached FD 4.49
        instead of 4.85 after 60 s on Fashion-MNIST sneakers (3.36 both on MNIST digit 5).
        The MLP generator ignores it.
    critic_norm : {"auto", "batch", "layer", "none"}, default="auto"
        Normalisation in the critic.  ``"auto"``: for the convolutional critic, BatchNorm
        (momentum 0.8) with ``"wgan"`` / ``"gan"`` and LayerNorm with ``"wgan-gp"``; none
        for the MLP critic.  ``"batch"`` with ``"wgan-gp"`` is rejected: BatchNorm couples
        the samples of a batch, which invalidates the per-sample gradient penalty.
    dropout : float, default=0.0
        Dropout rate in [0, 1) after each critic activation (0.25 in the reference).
    init_std : float or None, default=0.02
        Standard deviation of the N(0, std) kernel initialiser of both networks (the
        DCGAN initialisation); None uses Glorot-uniform, often better for MLPs.
    feature_map : str or object, default="auto"
        Feature space used by ``score``; see :mod:`gan_estimators.quality.features`.  Stored
        unchanged; not used for training.
    random_state : int, RandomState instance or None, default=None
        Seeds every source of randomness of ``fit``: weight initialisation, dropout masks,
        mini-batch selection, latent vectors, penalty interpolation and label noise.  The
        global Python, NumPy and TensorFlow generators are never reseeded.
    verbose : int, default=0
        ``0`` prints nothing; ``>= 1`` shows a tqdm progress bar with the step and
        current losses.
    warm_start : bool, default=False
        When True, ``fit`` on a fitted estimator continues training the same networks
        (and optimizer states) for another budget instead of starting anew.

    Attributes
    ----------
    generator_ : keras.Model
        The generator being trained, mapping ``(batch, latent_dim)`` to data scaled to
        [-1, 1].
    generator_ema_ : keras.Model
        A copy of ``generator_`` holding the moving average of its weights; ``sample`` and
        ``score`` use it.  Only set when ``ema_decay`` is not None.
    critic_ : keras.Model
        The critic (or discriminator for ``loss="gan"``).
    generator_optimizer_, critic_optimizer_ : object
        The optimizers (in-graph Adam / RMSprop / SGD with Keras's update rules; their
        ``iterations`` variable counts updates, ``learning_rate`` holds the rate).
    history_ : dict of str to list
        One entry per generator iteration under ``step``, ``critic_loss``,
        ``critic_real``, ``critic_fake``, ``generator_loss``, ``gradient_penalty``,
        ``critic_grad_norm``, ``generator_grad_norm`` and ``elapsed`` (seconds of training
        since the first fit).  ``critic_loss = critic_real + critic_fake +
        gradient_penalty``; for Wasserstein losses ``critic_real = -mean(D(real))`` and
        ``critic_fake = mean(D(fake))``; critic values are averaged over the iteration's
        ``n_critic`` updates.  ``pandas.DataFrame(history_)`` gives a table.
    n_steps_ : int
        Generator iterations done, over all ``fit`` / ``partial_fit`` calls.
    network_ : str
        The network kind used, ``"conv"`` or ``"mlp"``.
    batch_size_ : int
        The batch size used (``batch_size`` clamped to the number of samples).
    image_shape_ : tuple of int
        ``(height, width, channels)`` of image input (``channels = 1`` for 3-D input).
        Only set for image input.
    n_features_in_ : int
        Number of features of tabular input.  Only set for 2-D input.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame input with string column names.
    data_min_, data_max_ : float or ndarray
        Range of the training data used to scale it to [-1, 1]: one value for images,
        one per feature for tabular data.

    Notes
    -----
    Reproducibility: with an integer ``random_state``, two fits on the same CPU machine
    with the same TensorFlow build give identical networks and identical ``sample``
    output.  On a GPU, cuDNN convolution and reduction kernels may be nondeterministic, so
    runs can differ in the last bits and then diverge; ``sample(n, random_state=s)`` of one
    fitted estimator is still repeatable.  TensorFlow's global op-determinism switch is
    deliberately not touched.

    Persistence: fitted estimators survive ``pickle``, ``joblib.dump``, ``copy.deepcopy``
    and ``sklearn.base.clone``; :meth:`save` / :meth:`load` store the networks in Keras's
    ``.keras`` format and the parameters as JSON, loadable without unpickling.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from gan_estimators import WGANEstimator
    >>> X = load_digits().images                                # doctest: +SKIP
    >>> gan = WGANEstimator(n_steps=300, random_state=0).fit(X)  # doctest: +SKIP
    >>> gan.sample(16, random_state=0).shape                     # doctest: +SKIP
    (16, 8, 8)
    """

    _parameter_constraints: ClassVar[dict] = dict(PARAMETER_CONSTRAINTS)

    def __init__(
        self,
        loss=DEFAULTS["loss"],
        *,
        latent_dim=DEFAULTS["latent_dim"],
        n_filters=DEFAULTS["n_filters"],
        critic_width=DEFAULTS["critic_width"],
        alpha=DEFAULTS["alpha"],
        n_critic=DEFAULTS["n_critic"],
        n_gen=DEFAULTS["n_gen"],
        clip_value=DEFAULTS["clip_value"],
        gp_weight=DEFAULTS["gp_weight"],
        label_noise=DEFAULTS["label_noise"],
        learning_rate=DEFAULTS["learning_rate"],
        generator_learning_rate=DEFAULTS["generator_learning_rate"],
        critic_learning_rate=DEFAULTS["critic_learning_rate"],
        optimizer=DEFAULTS["optimizer"],
        beta_1=DEFAULTS["beta_1"],
        beta_2=DEFAULTS["beta_2"],
        ema_decay=DEFAULTS["ema_decay"],
        batch_size=DEFAULTS["batch_size"],
        n_steps=DEFAULTS["n_steps"],
        epochs=DEFAULTS["epochs"],
        max_time=DEFAULTS["max_time"],
        network=DEFAULTS["network"],
        generator_activation=DEFAULTS["generator_activation"],
        upsampling=DEFAULTS["upsampling"],
        critic_norm=DEFAULTS["critic_norm"],
        dropout=DEFAULTS["dropout"],
        init_std=DEFAULTS["init_std"],
        feature_map=DEFAULTS["feature_map"],
        random_state=DEFAULTS["random_state"],
        verbose=DEFAULTS["verbose"],
        warm_start=DEFAULTS["warm_start"],
    ):
        self.loss = loss
        self.latent_dim = latent_dim
        self.n_filters = n_filters
        self.critic_width = critic_width
        self.alpha = alpha
        self.n_critic = n_critic
        self.n_gen = n_gen
        self.clip_value = clip_value
        self.gp_weight = gp_weight
        self.label_noise = label_noise
        self.learning_rate = learning_rate
        self.generator_learning_rate = generator_learning_rate
        self.critic_learning_rate = critic_learning_rate
        self.optimizer = optimizer
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.ema_decay = ema_decay
        self.batch_size = batch_size
        self.n_steps = n_steps
        self.epochs = epochs
        self.max_time = max_time
        self.network = network
        self.generator_activation = generator_activation
        self.upsampling = upsampling
        self.critic_norm = critic_norm
        self.dropout = dropout
        self.init_std = init_std
        self.feature_map = feature_map
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ construction

    @classmethod
    def reference(cls, **overrides):
        """The reference DCGAN/WGAN configuration of the specification (SPEC §2).

        WGAN with weight clipping (c = 0.01), one RMSprop per network at lr 5e-5, 5 critic
        updates per generator update, latent size 100, N(0, 0.02) initialisation,
        BatchNorm momentum 0.8, dropout 0.25, the exact reference layer sequence
        (``network="conv"``) and base filter count 64.  α is applied to every LeakyReLU,
        fixing the reference's ignored-α defect.

        Parameters
        ----------
        **overrides
            Any constructor parameter to change (e.g. ``n_steps``, ``random_state``,
            or a gene's ``n_filters`` / ``alpha`` / ``n_critic`` / ``clip_value`` /
            ``learning_rate``).

        Returns
        -------
        WGANEstimator
            An unfitted estimator.
        """
        return cls(**{**REFERENCE_PARAMS, **overrides})

    def __sklearn_is_fitted__(self):
        return hasattr(self, "generator_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.target_tags.required = False
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        # Image stacks (n, h, w) are accepted as well as tables.
        tags.input_tags.three_d_array = True
        return tags

    def _resolved_settings(self, layout):
        """Effective settings for data of ``layout`` ("image" or "tabular"); checks the
        parameter combinations that ``_parameter_constraints`` cannot express."""
        if self.n_steps is None and self.epochs is None and self.max_time is None:
            raise ValueError(
                "At least one of n_steps, epochs and max_time must be set; all are None."
            )
        network = self.network
        if network == "auto":
            network = "conv" if layout == "image" else "mlp"
        if network == "conv" and layout != "image":
            raise ValueError(
                "network='conv' needs images, X of shape (n_samples, height, width) or "
                "(n_samples, height, width, channels); got 2-D X. Use network='mlp' or "
                "'auto' for tabular data."
            )
        norm = self.critic_norm
        if norm == "auto":
            if network == "mlp":
                norm = "none"
            else:
                norm = "layer" if self.loss == "wgan-gp" else "batch"
        if norm == "batch" and self.loss == "wgan-gp":
            raise ValueError(
                "critic_norm='batch' cannot be used with loss='wgan-gp': BatchNorm couples "
                "the samples of a batch, which breaks the per-sample gradient penalty. Use "
                "critic_norm='layer', 'none' or 'auto'."
            )
        label_noise = self.label_noise
        if isinstance(label_noise, bool | np.bool_):
            label_noise = 0.2 if label_noise else 0.0
        lr = float(self.learning_rate)
        return {
            "network": network,
            "critic_norm": norm,
            "label_noise": float(label_noise),
            "generator_learning_rate": float(
                lr if self.generator_learning_rate is None else self.generator_learning_rate
            ),
            "critic_learning_rate": float(
                lr if self.critic_learning_rate is None else self.critic_learning_rate
            ),
        }

    def _structure(self, settings):
        """What the networks' architecture depends on (compared on warm starts)."""
        structure = params_to_json({name: getattr(self, name) for name in STRUCTURAL_PARAMS})
        structure["network"] = settings["network"]
        structure["critic_norm"] = settings["critic_norm"]
        structure["critic_output"] = self.loss == "gan"
        return structure

    def _draw_seed(self):
        """The fit's master seed, from which every other seed is derived."""
        if self.random_state is None:
            # Fresh entropy without drawing from (and so disturbing) NumPy's global state.
            return int(np.random.default_rng().integers(2**31 - 1))
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _build_networks(self, settings, seed):
        data_shape = self._data_shape_
        output_activation = "sigmoid" if self.loss == "gan" else None
        init_std = None if self.init_std is None else float(self.init_std)
        common = {"alpha": float(self.alpha), "init_std": init_std}
        g_seed, c_seed = _derive_seed(seed, 1), _derive_seed(seed, 2)
        critic_filters = max(1, round(float(self.critic_width) * int(self.n_filters)))
        if settings["network"] == "conv":
            generator = _networks.build_conv_generator(
                data_shape,
                int(self.latent_dim),
                int(self.n_filters),
                activation=self.generator_activation,
                upsampling=self.upsampling,
                seed=g_seed,
                **common,
            )
            critic = _networks.build_conv_critic(
                data_shape,
                critic_filters,
                norm=settings["critic_norm"],
                dropout=float(self.dropout),
                output_activation=output_activation,
                seed=c_seed,
                **common,
            )
        else:
            n_features = int(data_shape[0])
            generator = _networks.build_mlp_generator(
                n_features,
                int(self.latent_dim),
                int(self.n_filters),
                activation=self.generator_activation,
                # Flattened images live in [-1, 1]; tabular samples may extrapolate.
                output_activation="tanh" if self._layout_ == "image" else None,
                seed=g_seed,
                **common,
            )
            critic = _networks.build_mlp_critic(
                n_features,
                critic_filters,
                norm=settings["critic_norm"],
                dropout=float(self.dropout),
                output_activation=output_activation,
                seed=c_seed,
                **common,
            )
        return generator, critic

    def _make_optimizer(self, learning_rate):
        return make_optimizer(
            self.optimizer, learning_rate, beta_1=float(self.beta_1), beta_2=float(self.beta_2)
        )

    def _optimizer_key(self):
        return (self.optimizer, float(self.beta_1), float(self.beta_2))

    def _ensure_optimizers(self, settings):
        """Create (or keep, on warm starts) the optimizers and set their learning rates."""
        key = self._optimizer_key()
        if getattr(self, "_optimizer_key_", None) != key or not hasattr(
            self, "generator_optimizer_"
        ):
            self.generator_optimizer_ = self._make_optimizer(settings["generator_learning_rate"])
            self.critic_optimizer_ = self._make_optimizer(settings["critic_learning_rate"])
            self.generator_optimizer_.build(self.generator_.trainable_variables)
            self.critic_optimizer_.build(self.critic_.trainable_variables)
            self._optimizer_key_ = key
            self._trainer = None
        else:
            # Learning rates are variables read by the compiled step: no retrace needed.
            self.generator_optimizer_.learning_rate.assign(settings["generator_learning_rate"])
            self.critic_optimizer_.learning_rate.assign(settings["critic_learning_rate"])

    def _get_trainer(self, settings, batch_size):
        key = (
            self.loss,
            float(self.clip_value),
            float(self.gp_weight),
            settings["label_noise"],
            int(batch_size),
            int(self.n_critic),
            int(self.n_gen),
            None if self.ema_decay is None else float(self.ema_decay),
        )
        trainer = getattr(self, "_trainer", None)
        if trainer is None or getattr(self, "_trainer_key", None) != key:
            strategy = make_loss(
                self.loss,
                clip_value=self.clip_value,
                gp_weight=self.gp_weight,
                label_noise=settings["label_noise"],
            )
            trainer = GANTrainer(
                self.generator_,
                self.critic_,
                strategy,
                self.generator_optimizer_,
                self.critic_optimizer_,
                latent_dim=int(self.latent_dim),
                batch_size=int(batch_size),
                n_critic=int(self.n_critic),
                n_gen=int(self.n_gen),
                seed=0,
                average_generator=getattr(self, "generator_ema_", None),
                average_decay=1.0 if self.ema_decay is None else float(self.ema_decay),
            )
            self._trainer, self._trainer_key = trainer, key
        return trainer

    def _release(self):
        """Drop networks, optimizers and compiled functions of a previous fit."""
        for name in (
            "generator_",
            "generator_ema_",
            "critic_",
            "generator_optimizer_",
            "critic_optimizer_",
            "_trainer",
            "_trainer_key",
            "_optimizer_key_",
            "image_shape_",
        ):
            self.__dict__.pop(name, None)

    # ------------------------------------------------------------------ data scaling

    def _set_layout(self, X):
        if X.ndim == 2:
            self._layout_ = "tabular"
            self._input_ndim_ = 2
            self.data_min_ = X.min(axis=0).astype(np.float64)
            self.data_max_ = X.max(axis=0).astype(np.float64)
        else:
            self._layout_ = "image"
            self._input_ndim_ = X.ndim
            # Tabular attributes of an earlier fit (validate_data is not used for images).
            self.__dict__.pop("n_features_in_", None)
            self.__dict__.pop("feature_names_in_", None)
            channels = int(X.shape[3]) if X.ndim == 4 else 1
            self.image_shape_ = (int(X.shape[1]), int(X.shape[2]), channels)
            self.data_min_ = float(X.min())
            self.data_max_ = float(X.max())

    def _check_layout(self, X):
        if X.ndim == 2:
            if self._layout_ != "tabular":
                raise ValueError(
                    f"X is 2-D but this estimator was fitted on images of shape "
                    f"{self.image_shape_}; set warm_start=False to refit."
                )
            return
        image_shape = tuple(X.shape[1:3]) + ((X.shape[3],) if X.ndim == 4 else (1,))
        if self._layout_ != "image" or image_shape != self.image_shape_:
            expected = getattr(self, "image_shape_", None) or f"{self.n_features_in_} features"
            raise ValueError(
                f"X has samples of shape {image_shape}, but this estimator was fitted on "
                f"{expected}; set warm_start=False to refit."
            )

    @property
    def _data_shape_(self):
        """Per-sample shape the networks see."""
        if self._layout_ == "tabular":
            return (len(np.atleast_1d(self.data_min_)),)
        if self.network_ == "mlp":
            return (int(np.prod(self.image_shape_)),)
        return self.image_shape_

    def _span(self):
        span = np.asarray(self.data_max_ - self.data_min_, dtype=np.float64)
        # A constant feature maps to -1 and back to its value.
        return np.where(span > 0, span, 1.0)

    def _scale(self, X):
        # float32 arithmetic: a float64 temporary of a large image set would double memory.
        low = np.asarray(self.data_min_, dtype=np.float32)
        factor = np.asarray(2.0 / self._span(), dtype=np.float32)
        scaled = (np.asarray(X, dtype=np.float32) - low) * factor - np.float32(1.0)
        return scaled.reshape((len(X), *self._data_shape_))

    def _unscale(self, G):
        out = (G.astype(np.float64) + 1.0) / 2.0 * self._span() + self.data_min_
        if self._layout_ == "image":
            out = out.reshape((len(G), *self.image_shape_))
            if self._input_ndim_ == 3:
                out = out[..., 0]
        return out.astype(np.float32)

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the GAN to ``X`` (or continue training it when ``warm_start=True``).

        Parameters
        ----------
        X : array-like or DataFrame
            ``(n_samples, n_features)`` tabular data, or images of shape
            ``(n_samples, height, width)`` or ``(n_samples, height, width, channels)``.
            At least 2 samples; finite numbers only.
        y : None
            Ignored (accepted for pipeline compatibility).

        Returns
        -------
        self : WGANEstimator
            The fitted estimator.
        """
        return self._fit(X, resume=bool(self.warm_start) and self.__sklearn_is_fitted__())

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one more budget on ``X``, continuing the same networks.

        The first call initialises the networks like ``fit``; later calls keep the
        networks, optimizer states and the data scaling of the first call.

        Parameters
        ----------
        X : array-like or DataFrame
            Data shaped like the data of the first call.
        y : None
            Ignored.

        Returns
        -------
        self : WGANEstimator
            The estimator.
        """
        return self._fit(X, resume=self.__sklearn_is_fitted__())

    def _fit(self, X, *, resume):
        # _fit_context skips validation for a fitted partial_fit; parameters may have
        # been changed since, so always validate.
        self._validate_params()
        if isinstance(self.feature_map, UnsavedFeatureMap):
            # Its fit would fail at the end of training; fail before it instead.
            self.feature_map.raise_not_saved()
        X = validate_training_data(self, X, reset=not resume)
        if resume:
            self._check_layout(X)
            layout = self._layout_
        else:
            layout = "tabular" if X.ndim == 2 else "image"
        settings = self._resolved_settings(layout)

        if resume:
            if self._structure(settings) != self._structure_:
                changed = sorted(
                    k for k, v in self._structure(settings).items() if self._structure_.get(k) != v
                )
                raise ValueError(
                    f"Cannot continue training: {', '.join(changed)} changed the network "
                    "architecture since the networks were built. Set warm_start=False (or "
                    "call fit on a clone) to train new networks."
                )
        else:
            self._release()
            self._set_layout(X)
            self.network_ = settings["network"]
            self._structure_ = self._structure(settings)
            self._seed_ = self._draw_seed()
            self.generator_, self.critic_ = self._build_networks(settings, self._seed_)
            self.history_ = {key: [] for key in ("step", *STEP_KEYS, "elapsed")}
            self.n_steps_ = 0

        n_samples = len(X)
        batch_size = int(self.batch_size)
        if batch_size > n_samples:
            warnings.warn(
                f"batch_size={batch_size} is larger than the number of samples "
                f"({n_samples}); using batch_size={n_samples}.",
                UserWarning,
                stacklevel=3,
            )
            batch_size = n_samples
        self.batch_size_ = batch_size

        self._ensure_optimizers(settings)
        self._ensure_average()
        trainer = self._get_trainer(settings, batch_size)
        # A stream per (fit seed, iterations done): resumed training does not replay the
        # batches and noise of earlier calls.
        trainer.reseed(_derive_seed(self._seed_, 3, self.n_steps_))

        budget = self._iteration_budget(n_samples, batch_size)
        data = tf.convert_to_tensor(self._scale(X))
        diverged = self._train(trainer, data, budget)
        del data

        if diverged:
            # Non-finite samples have no features: leave this fit without sample-quality
            # state (score() then fails loudly) instead of failing the fit itself.
            self.__dict__.pop("feature_map_", None)
            self.__dict__.pop("diagnostics_", None)
        else:
            self._fit_sample_quality(X)
        return self

    def _ensure_average(self):
        """Create or drop ``generator_ema_`` to match ``ema_decay``.

        A fit continued with ``ema_decay`` newly set starts the average from the current
        weights; one continued with ``ema_decay=None`` drops it.
        """
        if self.ema_decay is None:
            if self.__dict__.pop("generator_ema_", None) is not None:
                self._trainer = None
            return
        if getattr(self, "generator_ema_", None) is None:
            average = keras.models.clone_model(self.generator_)
            average.set_weights(self.generator_.get_weights())
            average.trainable = False
            self.generator_ema_ = average
            self._trainer = None

    def _sampling_generator(self):
        average = getattr(self, "generator_ema_", None)
        return self.generator_ if average is None else average

    def _iteration_budget(self, n_samples, batch_size):
        limits = []
        if self.n_steps is not None:
            limits.append(int(self.n_steps))
        if self.epochs is not None:
            per_epoch = math.ceil(n_samples / (batch_size * int(self.n_critic)))
            limits.append(max(1, math.ceil(float(self.epochs) * per_epoch)))
        return min(limits) if limits else None

    def _train(self, trainer, data, budget):
        """Run generator iterations until the budget is spent; True if training diverged."""
        history = self.history_
        offset = history["elapsed"][-1] if history["elapsed"] else 0.0
        max_time = None if self.max_time is None else float(self.max_time)
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=budget, desc=type(self).__name__, unit="step", leave=True)
        start = time.perf_counter()
        done = 0
        diverged = False
        try:
            while budget is None or done < budget:
                values = dict(zip(STEP_KEYS, trainer.iteration_values(data), strict=True))
                done += 1
                self.n_steps_ += 1
                elapsed = time.perf_counter() - start
                history["step"].append(self.n_steps_)
                for key in STEP_KEYS:
                    history[key].append(values[key])
                history["elapsed"].append(offset + elapsed)
                if bar is not None:
                    bar.set_postfix(
                        step=self.n_steps_,
                        critic=f"{values['critic_loss']:.4g}",
                        generator=f"{values['generator_loss']:.4g}",
                        refresh=False,
                    )
                    bar.update(1)
                if not all(math.isfinite(v) for v in values.values()):
                    diverged = True
                    warnings.warn(
                        f"Training diverged at step {self.n_steps_} (non-finite losses); "
                        "stopping, without sample-quality diagnostics. Try a lower "
                        "learning_rate.",
                        RuntimeWarning,
                        stacklevel=4,
                    )
                    break
                if max_time is not None and elapsed >= max_time:
                    break
        finally:
            if bar is not None:
                bar.close()
        return diverged

    # ------------------------------------------------------------------ using the model

    def sample(self, n, random_state=None):
        """Generate ``n`` samples shaped and scaled like the training data.

        The generator runs in inference mode (BatchNorm moving statistics, no dropout),
        in batches, with the averaged weights of ``generator_ema_`` when there are any.

        Parameters
        ----------
        n : int
            Number of samples (>= 0).
        random_state : int, RandomState instance, numpy Generator or None, default=None
            Seed of the latent vectors; the same value gives the same samples.  None
            draws fresh entropy (the global NumPy generator is not used).

        Returns
        -------
        ndarray of float32
            ``(n, n_features)`` for tabular data; ``(n, height, width)`` or
            ``(n, height, width, channels)`` for images, as given to ``fit``.
        """
        check_is_fitted(self)
        if isinstance(n, bool) or not isinstance(n, Integral | np.integer) or n < 0:
            raise ValueError(f"n must be a non-negative integer; got {n!r}.")
        z = _numpy_rng(random_state).standard_normal((int(n), int(self.latent_dim)))
        z = z.astype(np.float32)
        generator = self._sampling_generator()
        chunks = [
            np.asarray(generator(z[i : i + _SAMPLE_BATCH], training=False))
            for i in range(0, int(n), _SAMPLE_BATCH)
        ]
        generated = (
            np.concatenate(chunks)
            if chunks
            else np.zeros((0, *generator.output_shape[1:]), np.float32)
        )
        return self._unscale(generated)

    def score(self, X, y=None):
        """Negative Fréchet distance between generated samples and ``X`` (greater is better).

        ``X`` is first checked against the training data (number of features and column
        names for tabular data, image shape for images) with scikit-learn's usual errors;
        the score itself is :meth:`GenerativeScoreMixin.score
        <gan_estimators.quality.evaluation.GenerativeScoreMixin.score>`, computed in the
        feature space of ``feature_map``.

        Parameters
        ----------
        X : array-like or DataFrame
            At least 2 real samples, shaped and scaled like the training data.
        y : None
            Ignored.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        if self._layout_ == "tabular":
            X = validate_data(self, X, reset=False, ensure_min_samples=2, ensure_all_finite=True)
        else:
            X = check_array(
                X, allow_nd=True, ensure_min_samples=2, ensure_all_finite=True, input_name="X"
            )
            shape = tuple(X.shape[1:])
            accepted = {self.image_shape_}
            if self.image_shape_[2] == 1:
                accepted.add(self.image_shape_[:2])
            if shape not in accepted:
                raise ValueError(
                    f"X has samples of shape {shape}, but {type(self).__name__} was fitted "
                    f"on images of shape {self.image_shape_}."
                )
        return super().score(X, y)

    def normalized_losses(self):
        """The reference fitness signal: min–max-normalised losses per step (SPEC §2).

        Each of ``critic_real``, ``critic_fake`` and ``generator_loss`` in ``history_`` is
        rescaled to [0, 1] over the run (a constant series becomes 0); ``mean`` is their
        per-step average, and ``mean(result["mean"])`` the reference's single number.  It
        says how a run moved, not how good its samples are.

        Returns
        -------
        dict of str to ndarray
            Keys ``critic_real``, ``critic_fake``, ``generator_loss`` and ``mean``, each of
            length ``n_steps_``.
        """
        check_is_fitted(self)
        result = {}
        for key in ("critic_real", "critic_fake", "generator_loss"):
            values = np.asarray(self.history_[key], dtype=np.float64)
            if values.size == 0:
                result[key] = values
                continue
            low, high = np.nanmin(values), np.nanmax(values)
            span = high - low
            result[key] = (values - low) / span if span > 0 else np.zeros_like(values)
        result["mean"] = (
            result["critic_real"] + result["critic_fake"] + result["generator_loss"]
        ) / 3
        return result

    # ------------------------------------------------------------------ persistence

    _RUNTIME_ATTRIBUTES = ("_trainer", "_trainer_key", "generator_optimizer_", "critic_optimizer_")

    def __getstate__(self):
        state = dict(super().__getstate__())
        for name in self._RUNTIME_ATTRIBUTES:
            state.pop(name, None)
        if "generator_" in state:
            for name in ("generator_", "generator_ema_", "critic_"):
                if name in state:
                    state[name] = model_to_bytes(state[name])
            state["_optimizer_states_"] = self._optimizer_states()
        return state

    def __setstate__(self, state):
        state = _with_legacy_structure(state)  # a copy: the caller's dict is left alone
        if "_structure_" in state:
            state["_structure_"] = _with_legacy_structure(state["_structure_"])
        optimizer_states = state.pop("_optimizer_states_", None)
        for name in ("generator_", "generator_ema_", "critic_"):
            if isinstance(state.get(name), bytes):
                state[name] = model_from_bytes(state[name])
        super().__setstate__(state)
        if optimizer_states is not None:
            self._restore_optimizers(optimizer_states)

    def _optimizer_states(self):
        if not hasattr(self, "generator_optimizer_"):
            return None
        return {
            "generator": self.generator_optimizer_.get_state(),
            "critic": self.critic_optimizer_.get_state(),
        }

    def _restore_optimizers(self, states):
        """Rebuild the optimizers of a deserialised estimator and reload their state."""
        self.__dict__.pop("_optimizer_key_", None)
        self._ensure_optimizers(self._resolved_settings(self._layout_))
        self.generator_optimizer_.set_state(states["generator"])
        self.critic_optimizer_.set_state(states["critic"])

    def save(self, path):
        """Save the fitted estimator to the folder ``path`` (created if needed).

        The folder holds ``generator.keras``, ``critic.keras`` and, with ``ema_decay`` set,
        ``generator_ema.keras`` (Keras's native format),
        ``estimator.json`` (parameters, fitted attributes, ``history_``, ``diagnostics_`` and
        the fitted feature map's parameters) and ``arrays.npz`` (data range, optimizer states
        and the feature map's arrays) -- nothing that needs unpickling.  A loaded estimator
        scores exactly as this one does.

        A ``feature_map`` that is a user object -- a function, a Keras model, a scikit-learn
        transformer or a custom :class:`~gan_estimators.quality.features.FeatureMap` -- cannot be
        written that way: ``save`` then stores neither it nor ``feature_map_``, and warns.
        See :meth:`load` for what such an estimator does after loading; pickle or joblib
        keep it whole.

        Parameters
        ----------
        path : str or os.PathLike
            Destination folder.

        Raises
        ------
        TypeError
            If another parameter cannot be written as JSON; pickle or joblib can store such
            estimators.

        Warns
        -----
        UserWarning
            When ``feature_map`` (and so ``feature_map_``) is not stored.
        """
        check_is_fitted(self)
        raw_params = self.get_params(deep=False)
        feature_map_param, not_saved = feature_map_param_to_json(raw_params.pop("feature_map"))
        params = params_to_json(raw_params)
        params["feature_map"] = feature_map_param
        feature_map_state = None
        if not_saved is None and getattr(self, "feature_map_", None) is not None:
            feature_map_state = feature_map_to_json(self.feature_map_, _FEATURE_MAP_PREFIX)
            if feature_map_state is None:  # pragma: no cover - a storable parameter fits storably
                not_saved = describe_object(self.feature_map_)
        if not_saved is not None:
            warnings.warn(
                f"save() cannot store feature_map={not_saved} without pickle, so neither it "
                "nor the fitted feature_map_ is saved. The loaded estimator samples as this "
                "one but cannot score() until the map is passed again: "
                f"{type(self).__name__}.load(path, feature_map=<the same object>). Use pickle "
                "or joblib to keep it.",
                UserWarning,
                stacklevel=2,
            )
        os.makedirs(path, exist_ok=True)
        fitted = {
            "n_steps_": int(self.n_steps_),
            "network_": self.network_,
            "batch_size_": int(self.batch_size_),
            "layout": self._layout_,
            "input_ndim": int(self._input_ndim_),
            "seed": int(self._seed_),
            "structure": self._structure_,
        }
        if self._layout_ == "image":
            fitted["image_shape_"] = list(self.image_shape_)
        else:
            fitted["n_features_in_"] = int(self.n_features_in_)
            if hasattr(self, "feature_names_in_"):
                fitted["feature_names_in_"] = [str(c) for c in self.feature_names_in_]
        diagnostics = getattr(self, "diagnostics_", None)
        document = {
            "format": _SAVE_FORMAT,
            "version": _SAVE_VERSION,
            "params": params,
            "fitted": fitted,
            "history_": self.history_,
            # None where a diverged fit left no sample-quality state (or it was not saved).
            "feature_map_": None if feature_map_state is None else feature_map_state[0],
            "diagnostics_": None if diagnostics is None else diagnostics.to_dict(),
        }
        with open(os.path.join(path, "estimator.json"), "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
        keras.saving.save_model(self.generator_, os.path.join(path, "generator.keras"))
        keras.saving.save_model(self.critic_, os.path.join(path, "critic.keras"))
        if getattr(self, "generator_ema_", None) is not None:
            keras.saving.save_model(self.generator_ema_, os.path.join(path, "generator_ema.keras"))
        arrays = {
            "data_min_": np.asarray(self.data_min_),
            "data_max_": np.asarray(self.data_max_),
        }
        states = self._optimizer_states() or {}
        for network, values in states.items():
            for i, value in enumerate(values):
                arrays[f"optimizer_{network}_{i}"] = value
        if feature_map_state is not None:
            arrays.update(feature_map_state[1])
        np.savez(os.path.join(path, "arrays.npz"), **arrays)

    @classmethod
    def load(cls, path, *, feature_map=None):
        """Load an estimator written by :meth:`save` (no unpickling involved).

        ``feature_map_`` and ``diagnostics_`` come back as they were, so ``score`` gives the
        saved estimator's values.  Two cases lack ``feature_map_``:

        - the estimator was saved with a user-object ``feature_map`` (see :meth:`save`).
          Pass that object again as ``feature_map``: it becomes the parameter, and
          ``score`` fits it on the data it scores -- exactly the saved map for a function or
          a Keras model, which learn nothing from data; a transformer or custom
          :class:`~gan_estimators.quality.features.FeatureMap` is fitted on the scored data instead
          of the training data.  Without it the parameter is an
          :class:`~gan_estimators.quality.features.UnsavedFeatureMap` and ``score`` (like a new
          ``fit``) raises a ValueError saying so; ``sample`` works either way;
        - the folder was written by gan_estimators before version 2 of the format, which did
          not store them (a UserWarning says so): ``score`` then fits the ``feature_map``
          parameter on the data it scores, and ``diagnostics_`` is absent.

        Parameters
        ----------
        path : str or os.PathLike
            Folder written by :meth:`save`.
        feature_map : object or None, default=None
            The ``feature_map`` the estimator was saved with, when :meth:`save` could not
            store it (like Keras's ``custom_objects``); None keeps what the folder holds.
            Refused when the folder stores the feature map.

        Returns
        -------
        WGANEstimator
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``path`` holds no saved estimator, a newer format, or ``feature_map`` is
            given although the folder stores one.
        """
        with open(os.path.join(path, "estimator.json"), encoding="utf-8") as handle:
            document = json.load(handle)
        if document.get("format") != _SAVE_FORMAT:
            raise ValueError(f"{path} does not hold a saved {cls.__name__}.")
        version = int(document.get("version", 1))
        if version > _SAVE_VERSION:
            raise ValueError(
                f"{path} was saved in format version {version}, newer than this "
                f"gan_estimators understands ({_SAVE_VERSION}); upgrade gan_estimators."
            )
        encoded = dict(document["params"])
        encoded_feature_map = encoded.pop("feature_map", DEFAULTS["feature_map"])
        # Folders of format 2 and older come from fits without a weight average.
        encoded.setdefault("ema_decay", None)
        params = params_from_json(_with_legacy_structure(encoded))
        if feature_map is None:
            params["feature_map"] = feature_map_param_from_json(encoded_feature_map)
        elif feature_map_was_saved(encoded_feature_map):
            raise ValueError(
                f"feature_map was given, but {path} stores the estimator's feature map "
                f"({encoded_feature_map!r}); load without it and use set_params to change it."
            )
        else:
            params["feature_map"] = feature_map
        estimator = cls(**params)
        fitted = document["fitted"]
        estimator.n_steps_ = fitted["n_steps_"]
        estimator.network_ = fitted["network_"]
        estimator.batch_size_ = fitted["batch_size_"]
        estimator._layout_ = fitted["layout"]
        estimator._input_ndim_ = fitted["input_ndim"]
        estimator._seed_ = fitted["seed"]
        estimator._structure_ = _with_legacy_structure(fitted["structure"])
        if "image_shape_" in fitted:
            estimator.image_shape_ = tuple(fitted["image_shape_"])
        if "n_features_in_" in fitted:
            estimator.n_features_in_ = fitted["n_features_in_"]
        if "feature_names_in_" in fitted:
            estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
        estimator.history_ = document["history_"]
        if document.get("diagnostics_") is not None:
            estimator.diagnostics_ = DiagnosticsReport.from_dict(document["diagnostics_"])
        with np.load(os.path.join(path, "arrays.npz"), allow_pickle=False) as arrays:
            data_min, data_max = arrays["data_min_"], arrays["data_max_"]
            if estimator._layout_ == "image":
                data_min, data_max = float(data_min), float(data_max)
            estimator.data_min_, estimator.data_max_ = data_min, data_max
            states = {
                network: [
                    arrays[key]
                    for key in sorted(
                        (k for k in arrays.files if k.startswith(f"optimizer_{network}_")),
                        key=lambda k: int(k.rsplit("_", 1)[1]),
                    )
                ]
                for network in ("generator", "critic")
            }
            if document.get("feature_map_") is not None:
                estimator.feature_map_ = feature_map_from_json(
                    document["feature_map_"], arrays, _FEATURE_MAP_PREFIX
                )
        estimator.generator_ = keras.saving.load_model(
            os.path.join(path, "generator.keras"), compile=False
        )
        estimator.critic_ = keras.saving.load_model(
            os.path.join(path, "critic.keras"), compile=False
        )
        average_path = os.path.join(path, "generator_ema.keras")
        if os.path.exists(average_path):
            estimator.generator_ema_ = keras.saving.load_model(average_path, compile=False)
        estimator._restore_optimizers(states)
        if version < 2:
            warnings.warn(
                f"{path} was saved by an older gan_estimators (format version {version}) that "
                "did not store feature_map_ or diagnostics_: score() fits the feature map on "
                "the data it scores, so its values differ from the saved estimator's. Fit "
                "again and save to store them.",
                UserWarning,
                stacklevel=2,
            )
        return estimator
