"""Sample quality without TensorFlow: feature maps, metrics, diagnostics and scorers.

- :mod:`.feature_base`: the :class:`FeatureMap` interface and the checks of sample and
  feature arrays;
- :mod:`.features`: feature spaces fitted on training data (a Keras model given as a feature map
  is used as it is, without this package importing Keras);
- :mod:`.metrics`: Fréchet distance, KID and :func:`compute_metrics`, with which way each metric
  improves; :mod:`.neighbours`: precision/recall, density/coverage, duplicates and diversity;
- :mod:`.history`: the keys of a ``history_`` and its min–max normalised losses;
- :mod:`.diagnostics`: failure-mode diagnostics and :class:`GANTrainingWarning`, reported as a
  :class:`DiagnosticsReport` of :mod:`.report`;
- :mod:`.evaluation`: :class:`GenerativeScoreMixin`, which gives a generative estimator
  ``score`` and ``diagnostics_``;
- :mod:`.scorers`: ``scoring=`` callables, registered with scikit-learn under their names
  when this package is imported.

Nothing here imports TensorFlow, Keras or :mod:`gan_estimators.gan`.
"""

from gan_estimators.quality import scorers as scorers  # registers "fd", "kid", ... with sklearn
