"""``sample``: new data from a fitted GAN estimator, of the classes asked for when the model
is conditional."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from gan_estimators._random import sampling_random_state
from gan_estimators.gan.labels import sample_labels
from gan_estimators.gan.table_path import fitted_on_table
from gan_estimators.gan.table_sampling import sample_table
from gan_estimators.gan.validation import check_sample_arguments

#: Latent vectors per generator call of ``sample``.
SAMPLE_BATCH = 1024


def generate(estimator, z, indices=None):
    """The generator's output for latent vectors ``z`` (and class indices ``indices``), in
    inference mode, in batches, with the averaged weights when there are any."""
    average = getattr(estimator, "generator_ema_", None)
    generator = estimator.generator_ if average is None else average
    chunks = []
    for i in range(0, len(z), SAMPLE_BATCH):
        inputs = z[i : i + SAMPLE_BATCH]
        if indices is not None:
            inputs = [inputs, indices[i : i + SAMPLE_BATCH]]
        chunks.append(np.asarray(generator(inputs, training=False)))
    empty = np.zeros((0, *generator.output_shape[1:]), np.float32)
    return np.concatenate([empty, *chunks])


class SamplingMixin:
    """:meth:`sample` for :class:`~gan_estimators.GANEstimator`."""

    def sample(self, n, y=None, random_state=None, return_labels=False, conditions=None):
        """Generate ``n`` samples shaped and scaled like the training data.

        The generator runs in inference mode (BatchNorm moving statistics, no dropout),
        in batches, with the averaged weights of ``generator_ema_`` when there are any.

        Parameters
        ----------
        n : int
            Number of samples (>= 0).
        y : label, array-like of n labels or None, default=None
            Classes of the samples, for a model fitted with class labels: one label (every
            sample of that class) or one label per sample, each one of ``classes_``.  None
            draws the classes from ``class_prior_`` (the training frequencies).  Only None
            is accepted by a model fitted without labels.
        random_state : int, RandomState instance, numpy Generator or None, default=None
            Seed of the latent vectors (and of the classes drawn when ``y`` is None); the
            same value gives the same samples.  None draws fresh entropy (the global NumPy
            generator is not used).
        return_labels : bool, default=False
            Whether to return the samples' labels too.
        conditions : dict or None, default=None
            For a model fitted on a DataFrame: ``{column: value}`` of discrete columns, so
            that every sample has those values (``{"species": "Adelie"}``).  The generator
            is conditioned on the rarest of them (it was trained on every discrete
            column's categories, rare ones as often as the logarithm of their frequency
            says) and that column is set to its value; rows matching the others are kept
            from repeated draws.  None draws rows as the training data has them.

        Returns
        -------
        samples : ndarray of float32 or DataFrame
            ``(n, n_features)`` for tabular data; ``(n, height, width)`` or
            ``(n, height, width, channels)`` for images, as given to ``fit``; a DataFrame
            with the training columns, in order, of their training dtypes for a model
            fitted on a DataFrame.
        labels : ndarray
            Only with ``return_labels=True``: the label of each sample, of the type of
            ``classes_`` (None for a model fitted without labels).

        Raises
        ------
        ValueError
            ``y`` holds a label that is not one of ``classes_`` (the message lists them),
            is not one label or ``n`` labels, or is given to a model fitted without labels
            or on a DataFrame; ``conditions`` names a column that is not discrete or a value
            the column never held in training, or is given to a model not fitted on a
            DataFrame, or its rows are too rare to draw.
        """
        check_is_fitted(self)
        check_sample_arguments(n, random_state)
        if fitted_on_table(self):
            if y is not None or return_labels:
                raise ValueError(
                    f"y and return_labels are for models fitted with class labels; this "
                    f"{type(self).__name__} was fitted on a DataFrame: sample with "
                    "conditions={column: value} instead."
                )
            return sample_table(
                self, int(n), conditions, sampling_random_state(random_state), generate
            )
        if conditions is not None:
            raise ValueError(
                f"conditions were given, but this {type(self).__name__} was not fitted on a "
                "DataFrame; conditions name the columns of a table."
            )
        classes = getattr(self, "classes_", None)
        if classes is None and y is not None:
            raise ValueError(
                f"y was given, but this {type(self).__name__} was fitted without class "
                "labels: it can only sample with y=None. Fit it with fit(X, y) to sample "
                "given classes."
            )
        n = int(n)
        rng = sampling_random_state(random_state)
        z = rng.standard_normal((n, int(self.latent_dim))).astype(np.float32)
        indices = None
        if classes is not None:
            indices = sample_labels(y, n, classes, self.class_prior_, rng)
        samples = self._data_layout_.unscale(generate(self, z, indices))
        if not return_labels:
            return samples
        return samples, None if indices is None else classes[indices]
