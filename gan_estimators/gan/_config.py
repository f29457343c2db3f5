"""What a GAN estimator can be configured with: defaults, option names and constraints.

This module imports neither TensorFlow nor Keras, so the command line builds its options
(choices and defaults) from it without starting TensorFlow, and every list of options lives
here once.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

#: ``loss=`` names: Wasserstein with gradient penalty, Wasserstein with weight clipping, and
#: the non-saturating GAN.
LOSSES = ("wgan-gp", "wgan", "gan")

#: ``optimizer=`` names (the fused optimizers of :mod:`.optimizers`).
OPTIMIZERS = ("adam", "rmsprop", "sgd")

#: ``network=`` names; ``"auto"`` is ``"conv"`` for images and ``"mlp"`` for tables.
NETWORKS = ("auto", "conv", "mlp")

#: Normalisations a critic can use.  BatchNorm couples the samples of a batch, which breaks
#: the per-sample gradient penalty of WGAN-GP, so the estimator never combines the two.
CRITIC_NORMS = ("batch", "layer", "none")

#: Generator hidden activations.
GENERATOR_ACTIVATIONS = ("relu", "leaky_relu")

#: How the convolutional generator doubles its resolution: nearest-neighbour upsampling then a
#: 3×3 convolution (the reference), or one 4×4 transposed convolution of stride 2.
UPSAMPLINGS = ("nearest", "transposed")

#: The values each string parameter accepts, in the order documentation and ``--help`` list them.
CHOICES = {
    "loss": LOSSES,
    "optimizer": OPTIMIZERS,
    "network": NETWORKS,
    "generator_activation": GENERATOR_ACTIVATIONS,
    "upsampling": UPSAMPLINGS,
    "critic_norm": ("auto", *CRITIC_NORMS),
}

#: Methods a training callback may define (``callbacks=``; see :mod:`.callbacks`).
CALLBACK_HOOKS = ("on_fit_begin", "on_iteration_end", "on_fit_end")

#: Held-out scores per fit call when ``eval_every`` is None.
EVALUATIONS_PER_FIT = 10

#: The fraction of the training data held out when ``early_stopping=True`` meets neither
#: ``validation_data`` nor ``validation_fraction`` (scikit-learn's MLP holds out as much).
EARLY_STOPPING_FRACTION = 0.1

#: Default hyperparameters of ``GANEstimator``, chosen by sample quality per second of CPU
#: training (the training guide shows the measurements behind them).
DEFAULTS = {
    "loss": "gan",
    "latent_dim": 128,
    "n_filters": 32,
    "critic_width": 2.0,
    "alpha": 0.2,
    "n_critic": 1,
    "n_gen": 1,
    "clip_value": 0.01,
    "gp_weight": 10.0,
    "label_noise": 0.0,
    "learning_rate": 5e-4,
    "generator_learning_rate": None,
    "critic_learning_rate": None,
    "optimizer": "adam",
    "beta_1": 0.5,
    "beta_2": 0.9,
    "ema_decay": 0.99,
    "batch_size": 64,
    "n_steps": 500,
    "epochs": None,
    "max_time": None,
    "network": "auto",
    "generator_activation": "relu",
    "upsampling": "transposed",
    "critic_norm": "auto",
    "dropout": 0.0,
    "init_std": 0.02,
    "feature_map": "auto",
    "discrete_columns": "auto",
    "random_state": None,
    "verbose": 0,
    "warm_start": False,
    "validation_data": None,
    "validation_fraction": None,
    "eval_every": None,
    "early_stopping": False,
    "n_iter_no_change": 5,
    "tol": 0.0,
    "callbacks": None,
}

#: Default hyperparameters of ``WGANEstimator``: ``DEFAULTS`` with a Wasserstein loss (weight
#: clipping), a looser clip, Adam without momentum at a higher learning rate, and a larger
#: latent vector, chosen by sample quality per second of CPU training
#: (``docs/user_guide/wasserstein_defaults.rst`` shows the measurements).  The class's
#: signature, docstring and ``get_params`` read this dict, so it is the one place to change
#: them.
WGAN_DEFAULTS = {
    **DEFAULTS,
    "loss": "wgan",
    "latent_dim": 512,
    "clip_value": 0.1,
    "learning_rate": 2e-3,
    "beta_1": 0.0,
    "beta_2": 0.99,
}

#: What ``for_tables()`` changes for mixed-type tables (DataFrames): a Wasserstein loss with
#: gradient penalty and five critic updates per generator update, as CTGAN trains.  With the
#: image defaults a table's samples are worse and its correlations less well learned
#: (``docs/user_guide/tables.rst`` shows the measurements).
TABLE_PARAMS = {"loss": "wgan-gp", "n_critic": 5}

#: Parameters holding data or Python objects rather than settings: ``save`` writes them as
#: null, and the command line has no option for them.
UNSTORED_PARAMS = ("validation_data", "callbacks")

#: The reference DCGAN/WGAN configuration (the user guide's "Reference configuration" page;
#: see ``WGANEstimator.reference``, which completes it with ``DEFAULTS``).
REFERENCE_PARAMS = {
    "loss": "wgan",
    "latent_dim": 100,
    "n_filters": 64,
    "critic_width": 1.0,
    "alpha": 0.2,
    "n_critic": 5,
    "n_gen": 1,
    "clip_value": 0.01,
    "learning_rate": 5e-5,
    "optimizer": "rmsprop",
    "ema_decay": None,
    "batch_size": 64,
    "network": "conv",
    "generator_activation": "leaky_relu",
    "upsampling": "nearest",
    "critic_norm": "batch",
    "dropout": 0.25,
    "init_std": 0.02,
}

#: Every parameter of ``reference()``: the reference configuration completed with
#: ``DEFAULTS``, whichever the class.
REFERENCE_DEFAULTS = {**DEFAULTS, **REFERENCE_PARAMS}

#: Parameters fixing the networks' architecture: a warm start cannot change them.
STRUCTURAL_PARAMS = (
    "latent_dim",
    "n_filters",
    "critic_width",
    "alpha",
    "generator_activation",
    "upsampling",
    "dropout",
    "init_std",
)


class Count(Interval):
    """An interval of integers that, unlike scikit-learn's ``Interval(Integral, ...)``, refuses
    ``True`` and ``False``: a flag given where a count is expected is a mistake, not 1 or 0."""

    def __init__(self, left, right, *, closed):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, bool) and super().is_satisfied_by(val)


class Amount(Interval):
    """An interval of real numbers that refuses ``True`` and ``False`` (see :class:`Count`)."""

    def __init__(self, left, right, *, closed):
        super().__init__(Real, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, bool) and super().is_satisfied_by(val)


#: scikit-learn parameter constraints of the estimator (``_parameter_constraints``).
PARAMETER_CONSTRAINTS = {
    "loss": [StrOptions(set(CHOICES["loss"]))],
    "latent_dim": [Count(1, None, closed="left")],
    "n_filters": [Count(1, None, closed="left")],
    "critic_width": [Interval(Real, 0, None, closed="neither")],
    "alpha": [Interval(Real, 0, 1, closed="both")],
    "n_critic": [Count(1, None, closed="left")],
    "n_gen": [Count(1, None, closed="left")],
    "clip_value": [Interval(Real, 0, None, closed="neither")],
    "gp_weight": [Interval(Real, 0, None, closed="left")],
    "label_noise": [Interval(Real, 0, 0.5, closed="left"), "boolean"],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "generator_learning_rate": [Interval(Real, 0, None, closed="neither"), None],
    "critic_learning_rate": [Interval(Real, 0, None, closed="neither"), None],
    "optimizer": [StrOptions(set(CHOICES["optimizer"]))],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "ema_decay": [Interval(Real, 0, 1, closed="neither"), None],
    "batch_size": [Count(1, None, closed="left")],
    "n_steps": [Count(1, None, closed="left"), None],
    "epochs": [Interval(Real, 0, None, closed="neither"), None],
    "max_time": [Interval(Real, 0, None, closed="neither"), None],
    "network": [StrOptions(set(CHOICES["network"]))],
    "generator_activation": [StrOptions(set(CHOICES["generator_activation"]))],
    "upsampling": [StrOptions(set(CHOICES["upsampling"]))],
    "critic_norm": [StrOptions(set(CHOICES["critic_norm"]))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "init_std": [Interval(Real, 0, None, closed="neither"), None],
    # Interpreted by the sample-quality mixin, which owns its validation.
    "feature_map": "no_validation",
    # Names are checked against the DataFrame's columns at fit (tables/columns.py).
    "discrete_columns": [StrOptions({"auto"}), list, tuple],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "validation_data": ["array-like", None],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    # An int counts generator iterations, a float seconds of training.
    "eval_every": [Count(1, None, closed="left"), Amount(0, None, closed="neither"), None],
    "early_stopping": ["boolean"],
    "n_iter_no_change": [Count(1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    # Each item's hooks are checked at fit (gan/callbacks.py), naming the item at fault.
    "callbacks": [list, tuple, None],
}
