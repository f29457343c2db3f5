"""The effective training settings of a GAN estimator's parameters for one fit.

:func:`resolve_settings` turns the parameters that depend on the data or on each other
(``network="auto"``, ``critic_norm="auto"``, ``label_noise=True``, learning rates left at
None) into :class:`Settings`, and checks the combinations that scikit-learn's parameter
constraints cannot express.  :func:`network_structure` is what the networks' architecture
depends on, compared by :func:`check_structure` when training continues.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from gan_estimators.gan._config import STRUCTURAL_PARAMS
from gan_estimators.gan.encoding import params_to_json
from gan_estimators.gan.layout import IMAGE
from gan_estimators.gan.losses import LossStrategy, make_loss

#: Label noise η that ``label_noise=True`` stands for.
DEFAULT_LABEL_NOISE = 0.2


@dataclass(frozen=True)
class Settings:
    """Effective settings of one fit.

    Attributes
    ----------
    loss : LossStrategy
        The loss object.
    network : {"conv", "mlp"}
        The network family.
    critic_norm : {"batch", "layer", "none"}
        The critic's normalisation.
    generator_learning_rate, critic_learning_rate : float
        The learning rate of each network's optimizer.
    """

    loss: LossStrategy
    network: str
    critic_norm: str
    generator_learning_rate: float
    critic_learning_rate: float


def resolve_settings(params, kind):
    """The settings of ``params`` (``get_params()`` of an estimator) for data of layout
    ``kind`` (``"image"`` or ``"tabular"``).

    Raises
    ------
    InvalidParameterError
        scikit-learn's error of invalid parameters (a ValueError), raised before any
        training: no budget is set, ``network="conv"`` meets tabular data, or a BatchNorm
        critic meets a gradient penalty.
    """
    if params["n_steps"] is None and params["epochs"] is None and params["max_time"] is None:
        raise InvalidParameterError(
            "At least one of n_steps, epochs and max_time must be set; all are None."
        )
    network = params["network"]
    if network == "auto":
        network = "conv" if kind == IMAGE else "mlp"
    if network == "conv" and kind != IMAGE:
        raise InvalidParameterError(
            "network='conv' needs images, X of shape (n_samples, height, width) or "
            "(n_samples, height, width, channels); got 2-D X. Use network='mlp' or "
            "'auto' for tabular data."
        )
    label_noise = params["label_noise"]
    if isinstance(label_noise, bool | np.bool_):
        label_noise = DEFAULT_LABEL_NOISE if label_noise else 0.0
    loss = make_loss(
        params["loss"],
        clip_value=params["clip_value"],
        gp_weight=params["gp_weight"],
        label_noise=label_noise,
    )
    norm = params["critic_norm"]
    if norm == "auto":
        if network == "mlp":
            norm = "none"
        else:
            norm = "layer" if loss.uses_gradient_penalty else "batch"
    if norm == "batch" and loss.uses_gradient_penalty:
        raise InvalidParameterError(
            f"critic_norm='batch' cannot be used with loss={params['loss']!r}: BatchNorm "
            "couples the samples of a batch, which breaks the per-sample gradient penalty. "
            "Use critic_norm='layer', 'none' or 'auto'."
        )
    lr = float(params["learning_rate"])
    generator_lr, critic_lr = params["generator_learning_rate"], params["critic_learning_rate"]
    return Settings(
        loss=loss,
        network=network,
        critic_norm=norm,
        generator_learning_rate=float(lr if generator_lr is None else generator_lr),
        critic_learning_rate=float(lr if critic_lr is None else critic_lr),
    )


def network_structure(params, settings):
    """What the networks' architecture depends on, as JSON-ready values (the estimator's
    ``_structure_``)."""
    structure = params_to_json({name: params[name] for name in STRUCTURAL_PARAMS})
    structure["network"] = settings.network
    structure["critic_norm"] = settings.critic_norm
    structure["critic_output"] = settings.loss.critic_output_activation is not None
    return structure


def check_structure(built, requested, remedy):
    """Raise a ValueError naming what differs when the ``requested`` network structure is
    not the one the networks were ``built`` with (training cannot continue); ``remedy``
    ends the message."""
    if requested != built:
        changed = sorted(k for k, v in requested.items() if built.get(k) != v)
        raise ValueError(
            f"Cannot continue training: {', '.join(changed)} changed the network "
            f"architecture since the networks were built; {remedy}."
        )
