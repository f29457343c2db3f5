"""Ready-made search spaces.

:func:`reference_space` is the gene of the reference WGAN search (see
``docs/user_guide/reference_configuration.rst``), so that evolving a WGAN is three lines::

    from gan_estimators import EvolutionarySearchCV, WGANEstimator, reference_space

    search = EvolutionarySearchCV(WGANEstimator.reference(), reference_space(), cv=3)
    search.fit(images)
"""

from gan_estimators.search.space import Integer, Real

__all__ = ["reference_space"]


def reference_space():
    """The gene space of the reference WGAN search (the reference configuration).

    It pairs with ``WGANEstimator.reference()`` (or ``GANEstimator.reference()``, the same
    configuration): that estimator uses the Wasserstein loss with weight clipping
    (``loss="wgan"``), which is what makes ``clip_value`` matter, and decodes every dimension
    into its networks or training loop. Each dimension round-trips and changes
    the model it decodes to, including the two gene fields that the reference code left without
    effect (a truncated ``alpha``, swapped ``n_critic`` bounds).

    Returns
    -------
    param_space : dict
        The ``param_space`` of :class:`~gan_estimators.EvolutionarySearchCV`:

        =================  ===============================  ================================
        name               dimension                        reference gene field
        =================  ===============================  ================================
        ``n_filters``      ``Integer(16, 128)``             FILTERS, base filter count F
        ``alpha``          ``Real(0.05, 0.5)``              ALPHA, LeakyReLU slope
        ``n_critic``       ``Integer(1, 10)``               CRITICS, critic updates per step
        ``clip_value``     ``Real(0.005, 0.1)``             CLIP, weight-clip bound c
        ``learning_rate``  ``Real(1e-8, 1e-4, log=True)``   LR, RMSprop learning rate
        =================  ===============================  ================================

        Each call returns a new dict, so it may be edited freely.

    Examples
    --------
    >>> from gan_estimators import reference_space
    >>> sorted(reference_space())
    ['alpha', 'clip_value', 'learning_rate', 'n_critic', 'n_filters']
    """
    return {
        "n_filters": Integer(16, 128),
        "alpha": Real(0.05, 0.5),
        "n_critic": Integer(1, 10),
        "clip_value": Real(0.005, 0.1),
        "learning_rate": Real(1e-8, 1e-4, log=True),
    }
