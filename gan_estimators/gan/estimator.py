"""``GANEstimator`` and ``WGANEstimator``: GANs behaving like scikit-learn estimators.

``GANEstimator`` trains a non-saturating GAN by default; ``WGANEstimator`` is the same class
with Wasserstein defaults (:data:`~gan_estimators.gan._config.WGAN_DEFAULTS`).  Their parts
live in :mod:`.fitting` (a fit call), :mod:`.settings`, :mod:`.layout`, :mod:`.networks`,
:mod:`.optimizers`, :mod:`.trainer`, :mod:`.monitoring`, :mod:`.callbacks`,
:mod:`.sampling`, :mod:`.persistence`, and for class-conditional models :mod:`.labels` and
:mod:`.conditioning`.
"""

from typing import ClassVar

from sklearn import get_config
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from gan_estimators.gan._config import (
    DEFAULTS,
    PARAMETER_CONSTRAINTS,
    REFERENCE_DEFAULTS,
    REFERENCE_PARAMS,
    TABLE_PARAMS,
    WGAN_DEFAULTS,
)
from gan_estimators.gan.fitting import TrainingMixin
from gan_estimators.gan.labels import check_labels
from gan_estimators.gan.layout import TABULAR, layout_attribute
from gan_estimators.gan.persistence import PersistenceMixin
from gan_estimators.gan.sampling import SamplingMixin
from gan_estimators.gan.table_path import check_frame, check_same_kind, fitted_on_table, table_score
from gan_estimators.gan.variants import changed_defaults, documented_defaults, init_with_defaults
from gan_estimators.quality.evaluation import GenerativeScoreMixin
from gan_estimators.quality.history import normalized_losses
from gan_estimators.tables.columns import is_frame

__all__ = ["DEFAULTS", "REFERENCE_PARAMS", "WGAN_DEFAULTS", "GANEstimator", "WGANEstimator"]


class GANEstimator(
    TrainingMixin, SamplingMixin, PersistenceMixin, GenerativeScoreMixin, BaseEstimator
):
    """A GAN (non-saturating by default, or Wasserstein) as a scikit-learn estimator.

    ``fit(X)`` learns the distribution of ``X``: tabular data ``(n_samples, n_features)``
    (numpy or pandas) or images ``(n_samples, height, width)`` /
    ``(n_samples, height, width, channels)``; ``sample(n)`` draws new data shaped and scaled
    like ``X``.  ``fit(X, y)`` with class labels trains a class-conditional GAN (a label
    embedding in the generator, a projection critic) whose ``sample(n, y=...)`` draws the
    classes asked for.  Training runs explicit ``GradientTape`` updates compiled into one
    ``tf.function`` per generator iteration (``n_critic`` critic updates then ``n_gen``
    generator updates), with the training set held as a tensor and batched in-graph.

    Every default lives in :data:`gan_estimators.gan._config.DEFAULTS`;
    :class:`WGANEstimator` is this class with Wasserstein defaults, and :meth:`reference`
    gives the reference DCGAN/WGAN configuration
    (``docs/user_guide/reference_configuration.rst``).  While it trains, the estimator can
    score held-out data (``validation_data`` / ``validation_fraction``), stop early
    (``early_stopping``) and run ``callbacks``.

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
    discrete_columns : "auto" or list of str, default="auto"
        For a DataFrame ``X``: the columns modelled as categories (one-hot, each sample
        one of the training categories).  ``"auto"``: object, string, category and boolean
        columns, and integer columns with at most 10 distinct values.  Ignored for arrays.
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
    validation_data : array-like or None, default=None
        Held-out data shaped like ``X``, scored while training (the held-out score is
        ``score(validation_data)`` at that point: negative FD in the feature space of
        ``feature_map``, fitted on the training data).  Not trained on.
    validation_fraction : float or None, default=None
        Fraction in (0, 1) of ``X`` held out and scored instead of ``validation_data``
        (``ceil(fraction · n_samples)`` samples drawn with ``random_state``; the same ones
        at every call of one fit).  None holds nothing out, unless ``early_stopping`` is
        on without ``validation_data``: then 0.1 is held out.  Cannot be set together with
        ``validation_data``.
    eval_every : int, float or None, default=None
        When the held-out score is computed: an int every that many generator iterations
        of a ``fit`` / ``partial_fit`` call, a float every that many seconds of training,
        and in both cases after the call's last iteration.  None: about 10 times per call,
        every ``ceil(budget / 10)`` iterations when the budget is in iterations (``n_steps``
        or ``epochs``), else every ``max_time / 10`` seconds.  Each score is appended to
        ``history_["val_score"]``, its step to ``history_["val_step"]``.
    early_stopping : bool, default=False
        Stop once ``n_iter_no_change`` held-out scores in a row have not improved on the
        best one by more than ``tol``, and, at the end of every call (stopped or not), put
        back the generator weights -- and the weight average's -- of the best score
        (``best_step_``, ``best_val_score_``); the critic and the optimizers keep their last
        state.  Scores ``validation_data``, else holds out ``validation_fraction`` (0.1
        when None).
    n_iter_no_change : int, default=5
        Held-out scores without improvement after which ``early_stopping`` stops.
    tol : float, default=0.0
        Least improvement (>= 0, in units of ``score``) of the held-out score that counts
        for ``early_stopping``.
    callbacks : list or None, default=None
        Callables ``f(estimator, logs)`` run after each generator iteration, or objects
        with any of ``on_fit_begin(estimator)``, ``on_iteration_end(estimator, logs)`` and
        ``on_fit_end(estimator)`` (:mod:`gan_estimators.gan.callbacks`; ready-made:
        :class:`~gan_estimators.SampleGrid`, :class:`~gan_estimators.Checkpoint`,
        :class:`~gan_estimators.CSVLogger`).  ``logs`` holds the ``step``, its losses and
        gradient norms, ``elapsed`` and, where it was computed, ``val_score``.  Returning
        True or raising :class:`~gan_estimators.StopTraining` stops training.  They run
        between compiled iterations, never inside them; their time, like the held-out
        scores', counts neither in ``history_["elapsed"]`` nor towards ``max_time``.

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
        ``n_critic`` updates.  ``pandas.DataFrame(history_)`` gives a table.  Held-out
        scores add ``val_step`` and ``val_score``, one entry per evaluation: their table is
        ``pandas.DataFrame({k: history_[k] for k in ("val_step", "val_score")})``, the
        iterations' one leaves them out.  Continued training (``partial_fit``,
        ``warm_start``) appends to every list.
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
    best_step_ : int or None
        With ``early_stopping``: the step of the best held-out score of the last fit call,
        whose generator weights the estimator holds (None if no score was computed).
    best_val_score_ : float or None
        With ``early_stopping``: that score.
    classes_ : ndarray
        The sorted distinct class labels of ``y``, for a model fitted with labels only.
    class_prior_ : ndarray of float64
        Frequency of each class of ``classes_`` in the labels of the fit that started
        training; ``sample`` draws classes from it when ``y`` is None.  Training draws the
        generator's classes from each call's own labels (and gives the fakes the critic
        compares with a real batch that batch's labels).
    per_class_scores_ : dict
        Set by ``score(X, y)`` of a conditional model: each class of ``y`` -> its score.
    stopped_early_ : bool
        With ``early_stopping``: whether it ended the last fit call before its budget was
        spent (False when the call ran its whole budget or a callback stopped it).

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
    >>> from gan_estimators import GANEstimator
    >>> X = load_digits().images                                # doctest: +SKIP
    >>> gan = GANEstimator(n_steps=300, random_state=0).fit(X)   # doctest: +SKIP
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
        discrete_columns=DEFAULTS["discrete_columns"],
        random_state=DEFAULTS["random_state"],
        verbose=DEFAULTS["verbose"],
        warm_start=DEFAULTS["warm_start"],
        validation_data=DEFAULTS["validation_data"],
        validation_fraction=DEFAULTS["validation_fraction"],
        eval_every=DEFAULTS["eval_every"],
        early_stopping=DEFAULTS["early_stopping"],
        n_iter_no_change=DEFAULTS["n_iter_no_change"],
        tol=DEFAULTS["tol"],
        callbacks=DEFAULTS["callbacks"],
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
        self.discrete_columns = discrete_columns
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.validation_data = validation_data
        self.validation_fraction = validation_fraction
        self.eval_every = eval_every
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks

    # ------------------------------------------------------------------ construction

    @classmethod
    def for_tables(cls, **overrides):
        """An estimator for mixed-type tables: this class with ``TABLE_PARAMS``.

        ``TABLE_PARAMS`` (:data:`gan_estimators.gan._config.TABLE_PARAMS`) sets a
        Wasserstein loss with gradient penalty and several critic updates per generator
        update, as CTGAN trains; every other parameter keeps the class's default.

        Parameters
        ----------
        **overrides
            Parameters to set as well (they win over ``TABLE_PARAMS``).

        Returns
        -------
        estimator : instance of this class
        """
        return cls(**{**TABLE_PARAMS, **overrides})

    @classmethod
    def reference(cls, **overrides):
        """The reference DCGAN/WGAN configuration (``REFERENCE_PARAMS``).

        WGAN with weight clipping, RMSprop, 5 critic updates per generator update and the
        reference layer sequence; ``docs/user_guide/reference_configuration.rst`` lists it.
        α is applied to every LeakyReLU, fixing the reference's ignored-α defect.  The
        parameters it does not set are those of ``DEFAULTS`` whichever the class, so
        ``GANEstimator.reference()`` and ``WGANEstimator.reference()`` train alike.

        Parameters
        ----------
        **overrides
            Any constructor parameter to change (e.g. ``n_steps``, ``random_state``,
            or a gene's ``n_filters`` / ``alpha`` / ``n_critic`` / ``clip_value`` /
            ``learning_rate``).

        Returns
        -------
        estimator of class ``cls``
            An unfitted estimator.
        """
        names = cls._get_param_names()
        defaults = {name: value for name, value in REFERENCE_DEFAULTS.items() if name in names}
        return cls(**{**defaults, **overrides})

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
        y : array-like of shape (n_samples,) or None, default=None
            Class labels (integers, floats, booleans or strings, of one type; a pandas
            Series too): with them the estimator trains a class-conditional GAN (see the
            ``classes_`` attribute) and ``sample`` takes the classes to draw.  At least 2
            classes, no missing labels.  Continued training (``warm_start``) takes labels
            if and only if the first fit did, of its classes only.

        Returns
        -------
        self : GANEstimator
            The fitted estimator.
        """
        resume = bool(self.warm_start) and self.__sklearn_is_fitted__()
        return self._fit(X, y, resume=resume, remedy="set warm_start=False to train new networks")

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one more budget on ``X``, continuing the same networks.

        The first call initialises the networks like ``fit``; later calls keep the
        networks, optimizer states and the data scaling of the first call, and append to
        ``history_`` (held-out scores included).  With ``validation_fraction`` (or
        ``early_stopping``), every call holds out the same samples of the same ``X``.

        Parameters
        ----------
        X : array-like or DataFrame
            Data shaped like the data of the first call.
        y : array-like of shape (n_samples,) or None, default=None
            Class labels, as for :meth:`fit`: given to the first call, they make the model
            conditional and every later call must pass labels of its classes; not given to
            the first call, no later call may pass them.

        Returns
        -------
        self : GANEstimator
            The estimator.
        """
        resume = self.__sklearn_is_fitted__()
        if resume and not get_config()["skip_parameter_validation"]:
            # _fit_context validates only a first call's parameters; they may have changed.
            self._validate_params()
        return self._fit(X, y, resume=resume, remedy="call fit to train new networks")

    # ------------------------------------------------------------------ using the model

    def score(self, X, y=None):
        """Negative Fréchet distance between generated samples and ``X`` (greater is better).

        ``X`` is first checked against the training data (number of features and column
        names for tabular data, image shape for images) with scikit-learn's usual errors;
        the score itself is :meth:`GenerativeScoreMixin.score
        <gan_estimators.quality.evaluation.GenerativeScoreMixin.score>`, computed in the
        feature space of ``feature_map``.  With labels ``y``, a conditional model is
        scored class by class: the mean of the scores of each class's samples against the
        rows of ``X`` of that class, each kept in ``per_class_scores_``.

        Parameters
        ----------
        X : array-like or DataFrame
            At least 2 real samples, shaped and scaled like the training data.
        y : array-like of shape (n_samples,) or None, default=None
            Labels of ``X`` (at least 2 samples of each class present, each one of
            ``classes_``), for a model fitted with labels; None scores the pooled samples
            (classes drawn from ``class_prior_``).  Ignored by a model fitted without
            labels.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        X = self._scoring_data(X)
        if fitted_on_table(self):
            return table_score(self, X)
        if y is None or not hasattr(self, "classes_"):
            return super().score(X)
        return super().score(X, check_labels(y, len(X)))

    def _scoring_data(self, X):
        """``X`` checked against the training data as :meth:`score` checks it."""
        if fitted_on_table(self) or is_frame(X):
            check_same_kind(self, X, "score it with data like the training data")
            return check_frame(self, X, reset=False)
        if self._data_layout_.kind == TABULAR:
            return validate_data(self, X, reset=False, ensure_min_samples=2, ensure_all_finite=True)
        X = check_array(
            X, allow_nd=True, ensure_min_samples=2, ensure_all_finite=True, input_name="X"
        )
        self._data_layout_.check_images(X, type(self).__name__)
        return X

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


class WGANEstimator(GANEstimator):
    __doc__ = (
        """A Wasserstein GAN as a scikit-learn estimator: :class:`GANEstimator` with
    Wasserstein defaults.

    The same parameters, attributes and methods as :class:`GANEstimator`; only the defaults
    differ.  They all live in :data:`gan_estimators.gan._config.WGAN_DEFAULTS`, which
    sets """
        + changed_defaults(WGAN_DEFAULTS, DEFAULTS)
        + """ and keeps every other default of ``GANEstimator``.  :meth:`reference` gives
    the reference DCGAN/WGAN configuration.

    Pickles and folders saved by earlier versions of the package, whose ``WGANEstimator``
    had the defaults of today's ``GANEstimator``, load as ``WGANEstimator`` with the
    parameters they were saved with.

    """
        + documented_defaults(
            GANEstimator.__doc__[
                GANEstimator.__doc__.index("Parameters\n") : GANEstimator.__doc__.index(
                    "Examples\n"
                )
            ],
            WGAN_DEFAULTS,
            DEFAULTS,
        )
        + """Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from gan_estimators import WGANEstimator
    >>> X = load_digits().images                                 # doctest: +SKIP
    >>> gan = WGANEstimator(n_steps=300, random_state=0).fit(X)  # doctest: +SKIP
    >>> gan.sample(16, random_state=0).shape                      # doctest: +SKIP
    (16, 8, 8)
    """
    )

    __init__ = init_with_defaults(GANEstimator.__init__, WGAN_DEFAULTS, "WGANEstimator.__init__")
