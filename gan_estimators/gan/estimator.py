"""``WGANEstimator``: a Wasserstein (or vanilla) GAN behaving like a scikit-learn estimator.

Its parts live in :mod:`.settings`, :mod:`.layout`, :mod:`.networks`, :mod:`.optimizers`,
:mod:`.trainer` and :mod:`.persistence`.
"""

import warnings
from typing import ClassVar

import numpy as np
import tensorflow as tf
from sklearn import get_config
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from gan_estimators._random import derive_seed, draw_seed, sampling_random_state
from gan_estimators.gan._config import DEFAULTS, PARAMETER_CONSTRAINTS, REFERENCE_PARAMS
from gan_estimators.gan.layout import IMAGE, TABULAR, DataLayout, layout_attribute, layout_kind
from gan_estimators.gan.networks import build_networks
from gan_estimators.gan.optimizers import build_optimizer
from gan_estimators.gan.persistence import PersistenceMixin, release
from gan_estimators.gan.settings import check_structure, network_structure, resolve_settings
from gan_estimators.gan.trainer import (
    GANTrainer,
    TrainerConfig,
    frozen_copy,
    iteration_budget,
    memory_guard,
    train,
)
from gan_estimators.gan.validation import check_sample_arguments, validate_training_data
from gan_estimators.quality.evaluation import GenerativeScoreMixin
from gan_estimators.quality.features import UnsavedFeatureMap
from gan_estimators.quality.history import HISTORY_KEYS, normalized_losses

__all__ = ["DEFAULTS", "REFERENCE_PARAMS", "WGANEstimator"]

#: Latent vectors per generator call of ``sample``.
_SAMPLE_BATCH = 1024


class WGANEstimator(PersistenceMixin, GenerativeScoreMixin, BaseEstimator):
    """A GAN (WGAN-GP, WGAN with weight clipping, or vanilla) as a scikit-learn estimator.

    ``fit(X)`` learns the distribution of ``X``: tabular data ``(n_samples, n_features)``
    (numpy or pandas) or images ``(n_samples, height, width)`` /
    ``(n_samples, height, width, channels)``; ``sample(n)`` draws new data shaped and scaled
    like ``X``.  Training runs explicit ``GradientTape`` updates compiled into one
    ``tf.function`` per generator iteration (``n_critic`` critic updates then ``n_gen``
    generator updates), with the training set held as a tensor and batched in-graph.

    Every default lives in :data:`gan_estimators.gan._config.DEFAULTS`;
    :meth:`reference` gives the reference DCGAN/WGAN configuration
    (``docs/user_guide/reference_configuration.rst``).

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
        training signal for little time (``bench/time_to_quality.py`` compares widths).
        1.0 is the reference architecture.
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
        instead.  Averaging cancels much of the step-to-step noise of adversarial training
        (``bench/time_to_quality.py`` compares sample quality with and without it).
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
        convolution costs about 2.25 times fewer multiply-adds, so more iterations fit in a
        time budget (the training guide compares both).  The MLP generator ignores it.
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
        """The reference DCGAN/WGAN configuration (``REFERENCE_PARAMS``).

        WGAN with weight clipping, RMSprop, 5 critic updates per generator update and the
        reference layer sequence; ``docs/user_guide/reference_configuration.rst`` lists it.
        α is applied to every LeakyReLU, fixing the reference's ignored-α defect.

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

    image_shape_ = layout_attribute("image_shape", "image_shape_")
    data_min_ = layout_attribute("data_min", "data_min_")
    data_max_ = layout_attribute("data_max", "data_max_")

    def _build_optimizers(self, key, rates):
        """New optimizers of kind ``key`` = (name, beta_1, beta_2) with learning ``rates``."""
        self.generator_optimizer_, self.critic_optimizer_ = (
            build_optimizer(key, rate, model.trainable_variables)
            for rate, model in zip(rates, (self.generator_, self.critic_), strict=True)
        )
        self._optimizer_key_ = tuple(key)

    def _optimizer_key(self):
        """What the optimizers are built from: (name, beta_1, beta_2)."""
        return (self.optimizer, float(self.beta_1), float(self.beta_2))

    def _ensure_optimizers(self, settings):
        """Create (or keep, on warm starts) the optimizers and set their learning rates."""
        key = self._optimizer_key()
        rates = settings.generator_learning_rate, settings.critic_learning_rate
        if getattr(self, "_optimizer_key_", None) != key or not hasattr(
            self, "generator_optimizer_"
        ):
            self._build_optimizers(key, rates)
        else:
            # Learning rates are variables read by the compiled step: no retrace needed.
            self.generator_optimizer_.learning_rate.assign(rates[0])
            self.critic_optimizer_.learning_rate.assign(rates[1])

    def _ensure_average(self):
        """Create or drop ``generator_ema_`` to match ``ema_decay`` (a new average starts
        from the current weights)."""
        if self.ema_decay is None:
            self.__dict__.pop("generator_ema_", None)
        elif getattr(self, "generator_ema_", None) is None:
            self.generator_ema_ = frozen_copy(self.generator_)

    def _ensure_trainer(self, settings):
        """The optimizers, the weight average and the compiled trainer for ``settings``:
        those of the previous call while nothing they were built for has changed.  The
        trainer's random stream is seeded for this call."""
        self._ensure_optimizers(settings)
        self._ensure_average()
        config = TrainerConfig(
            loss=settings.loss,
            latent_dim=int(self.latent_dim),
            batch_size=self.batch_size_,
            n_critic=int(self.n_critic),
            n_gen=int(self.n_gen),
            ema_decay=None if self.ema_decay is None else float(self.ema_decay),
        )
        parts = (self.generator_, self.critic_, self.generator_optimizer_, self.critic_optimizer_)
        average = getattr(self, "generator_ema_", None)
        trainer = getattr(self, "_trainer", None)
        if trainer is None or not trainer.trains(config, *parts, average):
            trainer = GANTrainer(config, *parts, average_generator=average)
            self._trainer = trainer
        # A stream per (fit seed, iterations done): resumed training does not replay the
        # batches and noise of earlier calls.
        trainer.reseed(derive_seed(self._seed_, 3, self.n_steps_))
        return trainer

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
        resume = bool(self.warm_start) and self.__sklearn_is_fitted__()
        return self._fit(X, resume=resume, remedy="set warm_start=False to train new networks")

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
        resume = self.__sklearn_is_fitted__()
        if resume and not get_config()["skip_parameter_validation"]:
            # _fit_context validates only a first call's parameters; they may have changed.
            self._validate_params()
        return self._fit(X, resume=resume, remedy="call fit to train new networks")

    def _fit(self, X, *, resume, remedy):
        """Fit (``resume``: continue training) on ``X``; ``remedy`` ends the messages of
        the data and parameters that cannot continue the previous fit."""
        if isinstance(self.feature_map, UnsavedFeatureMap):
            # Its fit would fail at the end of training; fail before it instead.
            self.feature_map.raise_not_saved()
        X = validate_training_data(self, X, reset=not resume)
        if resume:
            self._data_layout_.check(X, remedy)
        params = self.get_params(deep=False)
        settings = resolve_settings(params, layout_kind(X))
        if resume:
            check_structure(self._structure_, network_structure(params, settings), remedy)
        else:
            self._start(X, params, settings)

        self.batch_size_ = self._clamped_batch_size(len(X))
        with memory_guard(params, self.batch_size_):
            diverged = self._train(self._ensure_trainer(settings), X)
        if diverged:
            # Non-finite samples have no features: leave this fit without sample-quality
            # state (score() then fails loudly) instead of failing the fit itself.
            self.__dict__.pop("feature_map_", None)
            self.__dict__.pop("diagnostics_", None)
        else:
            self._fit_sample_quality(X)
        return self

    def _start(self, X, params, settings):
        """Drop a previous fit, fit the layout on ``X`` and build new networks."""
        release(self)
        self._data_layout_ = DataLayout.fit(X)
        if self._data_layout_.kind == IMAGE:
            # Tabular attributes of an earlier fit (validate_data is not used for images).
            self.__dict__.pop("n_features_in_", None)
            self.__dict__.pop("feature_names_in_", None)
        self.network_ = settings.network
        self._structure_ = network_structure(params, settings)
        self._seed_ = draw_seed(self.random_state)
        with memory_guard(params, None):
            self.generator_, self.critic_ = build_networks(
                params, settings, self._data_layout_, self._seed_
            )
        self.history_ = {key: [] for key in HISTORY_KEYS}
        self.n_steps_ = 0

    def _clamped_batch_size(self, n_samples):
        if int(self.batch_size) <= n_samples:
            return int(self.batch_size)
        warnings.warn(
            f"batch_size={self.batch_size} is larger than the number of samples "
            f"({n_samples}); using batch_size={n_samples}.",
            UserWarning,
            stacklevel=4,
        )
        return n_samples

    def _train(self, trainer, X):
        """Run the budgeted iterations on ``X``; True if training diverged."""
        budget = iteration_budget(
            len(X), self.batch_size_, self.n_critic, n_steps=self.n_steps, epochs=self.epochs
        )
        data = tf.convert_to_tensor(self._data_layout_.scale(X, self.network_))
        max_time = None if self.max_time is None else float(self.max_time)
        progress = type(self).__name__ if self.verbose else None
        try:
            diverged = train(
                trainer, data, self.history_, budget=budget, max_time=max_time, progress=progress
            )
        finally:
            self.n_steps_ = self.history_["step"][-1] if self.history_["step"] else 0
        if diverged:
            warnings.warn(
                f"Training diverged at step {self.n_steps_} (non-finite losses); "
                "stopping, without sample-quality diagnostics. Try a lower learning_rate.",
                RuntimeWarning,
                stacklevel=4,
            )
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
        check_sample_arguments(n, random_state)
        rng = sampling_random_state(random_state)
        z = rng.standard_normal((int(n), int(self.latent_dim))).astype(np.float32)
        average = getattr(self, "generator_ema_", None)
        generator = self.generator_ if average is None else average
        chunks = [
            np.asarray(generator(z[i : i + _SAMPLE_BATCH], training=False))
            for i in range(0, int(n), _SAMPLE_BATCH)
        ]
        empty = np.zeros((0, *generator.output_shape[1:]), np.float32)
        return self._data_layout_.unscale(np.concatenate([empty, *chunks]))

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
        if self._data_layout_.kind == TABULAR:
            X = validate_data(self, X, reset=False, ensure_min_samples=2, ensure_all_finite=True)
        else:
            X = check_array(
                X, allow_nd=True, ensure_min_samples=2, ensure_all_finite=True, input_name="X"
            )
            self._data_layout_.check_images(X, type(self).__name__)
        return super().score(X, y)

    def normalized_losses(self):
        """The reference fitness signal: min–max-normalised losses per step.

        :func:`gan_estimators.quality.history.normalized_losses` of ``history_``: how a run
        moved, not how good its samples are (see the reference configuration,
        ``docs/user_guide/reference_configuration.rst``).  ``mean(result["mean"])`` is the
        reference's single number.

        Returns
        -------
        dict of str to ndarray
            Keys ``critic_real``, ``critic_fake``, ``generator_loss`` and ``mean``, each of
            length ``n_steps_``.
        """
        check_is_fitted(self)
        return normalized_losses(self.history_)
