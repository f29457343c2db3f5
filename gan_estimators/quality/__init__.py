"""Sample quality without TensorFlow: feature maps, metrics, diagnostics and scorers.

- :mod:`.features`: feature spaces fitted on training data (Keras-based maps import
  TensorFlow only when used);
- :mod:`.metrics`: Fréchet distance, KID, precision/recall, density/coverage on features;
- :mod:`.diagnostics`: failure-mode diagnostics and :class:`GANTrainingWarning`;
- :mod:`.evaluation`: :class:`GenerativeScoreMixin`, which gives a generative estimator
  ``score`` and ``diagnostics_``;
- :mod:`.scorers`: ``scoring=`` callables, registered with scikit-learn under their names
  when this package is imported.
"""

from gan_estimators.quality import scorers as scorers  # registers "fd", "kid", ... with sklearn
