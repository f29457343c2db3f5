"""The errors a GAN estimator raises besides scikit-learn's.

This module imports neither TensorFlow nor Keras, so the command line catches these errors
without starting TensorFlow.  Invalid parameters, alone or in combination, raise
scikit-learn's ``InvalidParameterError`` (a ``ValueError`` and ``TypeError``).
"""


class ModelFolderError(ValueError):
    """A folder cannot be saved to or loaded as a model; the message names the file and why.

    Raised by ``GANEstimator.save`` (the destination is unusable) and ``GANEstimator.load``
    (a file is missing, extra, truncated, altered, invalid or inconsistent with the others).

    Attributes
    ----------
    path : str
        The folder or file at fault.
    """

    def __init__(self, path, problem):
        self.path = str(path)
        super().__init__(f"{self.path}: {problem}")


class NetworkTooLargeError(MemoryError):
    """The networks or a training batch asked for more memory than the device has.

    Raised by ``fit`` / ``partial_fit`` in place of TensorFlow's ``ResourceExhaustedError``;
    the message says which sizes were asked for and what to reduce.
    """
