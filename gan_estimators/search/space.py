"""Search spaces: a gene in [0, 1] and a hyperparameter value, each mapped to the other.

A genetic algorithm evolves vectors of floats in ``[0, 1]``, one per hyperparameter.
Each dimension of a search space decodes such a gene into a parameter value and encodes a value
back into a gene, so that ``decode(encode(value)) == value`` (exactly for integers and categories,
to ``SIGNIFICANT_DIGITS`` for reals, which decode rounded to them):

- :class:`Integer` splits ``[0, 1]`` into one equal bin per integer, so every integer of the range
  is equally likely under a uniform gene and ``encode`` returns the centre of the value's bin;
- :class:`Real` decodes linearly, or log-linearly with ``log=True`` (learning rates), so a small
  step of the gene is a small relative step of the value;
- :class:`Categorical` splits ``[0, 1]`` into one bin per choice; its genes have no order;
- a frozen ``scipy.stats`` distribution decodes through its quantile function (``ppf``), so a
  uniform gene samples it (:mod:`gan_estimators.search.distributions`);
- a plain list (or tuple, or 1-D array) is shorthand for :class:`Categorical`.

:class:`SearchSpace` holds the named dimensions of one search and turns a gene vector into a
parameter dict plus an exact, hashable key of the configuration it decodes to.
"""

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Categorical", "Dimension", "Integer", "Real", "SearchSpace", "as_dimension"]

#: Significant digits of a decoded real value. Decoding rounds to them, so genes a
#: floating-point error apart decode to one value (one cache key, one fit) and the value handed
#: to the estimator is the value the cache is keyed by.
SIGNIFICANT_DIGITS = 10


def canonical_real(value):
    """``value`` as a Python float rounded to ``SIGNIFICANT_DIGITS`` significant digits.

    Rounding twice gives the same float as rounding once.
    """
    value = float(value)
    if not math.isfinite(value) or value == 0.0:
        return value
    return float(f"{value:.{SIGNIFICANT_DIGITS - 1}e}")


def _clip_gene(gene):
    gene = float(gene)
    if math.isnan(gene):
        raise ValueError("a gene must be a number in [0, 1], got nan")
    return min(max(gene, 0.0), 1.0)


_MISSING = object()


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _bin_index(gene, n_bins):
    """Index of the bin of ``gene`` among ``n_bins`` equal bins of [0, 1]."""
    return min(int(_clip_gene(gene) * n_bins), n_bins - 1)


class Dimension:
    """One hyperparameter of a search space: a gene in [0, 1] <-> a parameter value.

    Subclasses implement :meth:`decode`, :meth:`encode` and :meth:`key`.

    Attributes
    ----------
    n_values : int or None
        Number of distinct values the dimension decodes to, or None where that number is
        infinite (reals, unbounded discrete distributions).
    categorical : bool
        True when the genes have no order (neighbouring genes decode to unrelated values), so
        mutation redraws the value instead of taking a small step.
    """

    n_values = None
    categorical = False

    def decode(self, gene):
        """Return the parameter value a gene decodes to.

        Parameters
        ----------
        gene : float
            A gene in [0, 1]; values outside are clipped.

        Returns
        -------
        value : object
            The parameter value, always within the dimension's range.
        """
        raise NotImplementedError

    def encode(self, value):
        """Return a gene that decodes to ``value``.

        Parameters
        ----------
        value : object
            A value of the dimension.

        Returns
        -------
        gene : float
            A gene in [0, 1] such that ``decode(gene) == value`` (to float accuracy for reals).
        """
        raise NotImplementedError

    def project(self, value):
        """Return the value of the dimension nearest to ``value``, as :meth:`decode` gives it.

        Parameters
        ----------
        value : object
            A value, possibly outside the dimension's range.

        Returns
        -------
        value : object
            A value the dimension decodes to.

        Raises
        ------
        ValueError
            If ``value`` has no nearest value in the dimension (a string for a number, say).
        """
        return self.decode(self.encode(value))

    def key(self, value):
        """Return an exact, hashable identifier of a decoded value, for the fitness cache.

        Parameters
        ----------
        value : object
            A decoded value.

        Returns
        -------
        key : hashable
            The value itself, or its position for categories (which need not be hashable).
        """
        return value


@dataclass(frozen=True)
class Integer(Dimension):
    """Integers from ``low`` to ``high``, both included.

    The gene interval [0, 1] is split into ``high - low + 1`` equal bins, one per integer, so a
    uniform gene draws every integer with the same probability and ``encode`` returns the centre
    of the value's bin (decoding it back is exact).

    Parameters
    ----------
    low, high : int
        Smallest and largest value; ``low < high``.

    Examples
    --------
    >>> from gan_estimators import Integer
    >>> dim = Integer(1, 10)
    >>> dim.decode(0.0), dim.decode(1.0), dim.decode(dim.encode(7))
    (1, 10, 7)
    """

    low: int
    high: int

    def __post_init__(self):
        for name in ("low", "high"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise TypeError(f"Integer: {name} must be an integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.low >= self.high:
            raise ValueError(
                f"Integer: low must be smaller than high, got low={self.low}, high={self.high}"
            )
        if self.high - self.low >= 2**48:  # beyond, float genes cannot address every integer
            raise ValueError(f"Integer: the range [{self.low}, {self.high}] is too wide")

    @property
    def n_values(self):
        return self.high - self.low + 1

    def decode(self, gene):
        return self.low + _bin_index(gene, self.n_values)

    def encode(self, value):
        if not isinstance(value, numbers.Integral) or not self.low <= value <= self.high:
            raise ValueError(f"{value!r} is not an integer in [{self.low}, {self.high}]")
        return (int(value) - self.low + 0.5) / self.n_values

    def project(self, value):
        if not _is_number(value) or math.isnan(value):
            raise ValueError(f"{value!r} is not a number")
        return int(min(max(round(value), self.low), self.high))


@dataclass(frozen=True)
class Real(Dimension):
    """Real numbers from ``low`` to ``high``, decoded linearly or log-linearly.

    Decoded values are rounded to ``SIGNIFICANT_DIGITS`` (10) significant digits (a bound
    that rounding would cross is returned as is), so genes that differ by floating-point
    error decode to the same value and are one configuration for the search's cache.

    Parameters
    ----------
    low, high : float
        Bounds of the range, finite, ``low < high``; decoded values always lie in
        ``[low, high]``.
    log : bool, default=False
        Decode the gene log-linearly: ``value = low * (high / low) ** gene``. Then equal gene
        steps are equal ratios of the value, which suits learning rates and regularisation
        strengths. Requires ``low > 0``.

    Examples
    --------
    >>> from gan_estimators import Real
    >>> dim = Real(1e-8, 1e-4, log=True)
    >>> round(dim.decode(0.5), 12)
    1e-06
    """

    low: float
    high: float
    log: bool = False

    def __post_init__(self):
        for name in ("low", "high"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise TypeError(f"Real: {name} must be a real number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"Real: {name} must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not isinstance(self.log, (bool, np.bool_)):
            raise TypeError(f"Real: log must be a bool, got {self.log!r}")
        object.__setattr__(self, "log", bool(self.log))
        if self.low >= self.high:
            raise ValueError(
                f"Real: low must be smaller than high, got low={self.low!r}, high={self.high!r}"
            )
        if self.log and self.low <= 0:
            raise ValueError(f"Real: log=True needs low > 0, got low={self.low!r}")
        if not math.isfinite(self.high - self.low):
            raise ValueError(f"Real: the range [{self.low!r}, {self.high!r}] is too wide")
        if self.log and not math.log(self.high) > math.log(self.low):
            raise ValueError(
                f"Real: the range [{self.low!r}, {self.high!r}] is too narrow for log=True"
            )

    def _clip(self, value):
        return min(max(value, self.low), self.high)

    def decode(self, gene):
        gene = _clip_gene(gene)
        if self.log:
            log_low, log_high = math.log(self.low), math.log(self.high)
            value = math.exp(log_low + gene * (log_high - log_low))
        else:
            value = self.low + gene * (self.high - self.low)
        return self._clip(canonical_real(self._clip(value)))

    def project(self, value):
        if not _is_number(value) or math.isnan(value):
            raise ValueError(f"{value!r} is not a number")
        return self._clip(canonical_real(self._clip(float(value))))

    def encode(self, value):
        if not isinstance(value, numbers.Real) or not self.low <= value <= self.high:
            raise ValueError(f"{value!r} is not a real number in [{self.low!r}, {self.high!r}]")
        if self.log:
            log_low, log_high = math.log(self.low), math.log(self.high)
            gene = (math.log(value) - log_low) / (log_high - log_low)
        else:
            gene = (value - self.low) / (self.high - self.low)
        return _clip_gene(gene)


@dataclass(frozen=True)
class Categorical(Dimension):
    """One of a fixed sequence of choices (any objects: strings, None, estimators, ...).

    The gene interval [0, 1] is split into one equal bin per choice. Categories have no order,
    so mutation draws another choice rather than a neighbouring one.

    Parameters
    ----------
    choices : sequence
        The values to choose from; not empty. A plain list in a search space is shorthand for
        ``Categorical(list)``.

    Examples
    --------
    >>> from gan_estimators import Categorical
    >>> dim = Categorical(["rbf", "linear", "poly"])
    >>> dim.decode(dim.encode("poly"))
    'poly'
    """

    choices: tuple

    categorical = True

    def __post_init__(self):
        choices = self.choices
        if isinstance(choices, np.ndarray):
            if choices.ndim != 1:
                raise ValueError(f"Categorical: choices must be one-dimensional, got {choices!r}")
            choices = choices.tolist()
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise TypeError(f"Categorical: choices must be a list or tuple, got {choices!r}")
        if len(choices) == 0:
            raise ValueError("Categorical: choices must not be empty")
        object.__setattr__(self, "choices", tuple(choices))

    @property
    def n_values(self):
        return len(self.choices)

    def decode(self, gene):
        return self.choices[_bin_index(gene, len(self.choices))]

    def index(self, value):
        """Position of ``value`` among the choices (identity first, then equality)."""
        for i, choice in enumerate(self.choices):
            if choice is value:
                return i
        for i, choice in enumerate(self.choices):
            try:
                if bool(choice == value):
                    return i
            except (TypeError, ValueError):  # e.g. arrays, whose == is elementwise
                continue
        raise ValueError(f"{value!r} is not one of the choices {self.choices!r}")

    def encode(self, value):
        return (self.index(value) + 0.5) / len(self.choices)

    def project(self, value):
        """The choice equal to ``value``; for a number among numeric choices, the nearest."""
        try:
            return self.choices[self.index(value)]
        except ValueError:
            if not _is_number(value) or not all(_is_number(c) for c in self.choices):
                raise
        return min(self.choices, key=lambda choice: abs(choice - value))

    def key(self, value):
        # choices need not be hashable (estimators, lists): identify them by position
        return self.index(value)


def as_dimension(spec, name="parameter"):
    """Turn one entry of a search space into a :class:`Dimension`.

    Parameters
    ----------
    spec : Dimension, list, tuple, 1-D array or scipy.stats frozen distribution
        What a search space maps the parameter to. Lists, tuples and arrays become
        :class:`Categorical`; a distribution must have ``ppf`` and ``cdf`` methods.
    name : str, default="parameter"
        The parameter's name, quoted in error messages.

    Returns
    -------
    dimension : Dimension
        The dimension ``spec`` describes.

    Raises
    ------
    TypeError
        If ``spec`` is none of the above (for example an object with ``rvs`` but no quantile
        function, which random search can sample but a gene cannot decode).
    ValueError
        If ``spec`` is an empty list.
    """
    if isinstance(spec, Dimension):
        return spec
    if isinstance(spec, (list, tuple, np.ndarray)):
        try:
            return Categorical(spec)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"param_space[{name!r}]: {exc}") from None
    if callable(getattr(spec, "ppf", None)) and callable(getattr(spec, "cdf", None)):
        from gan_estimators.search.distributions import _Distribution

        try:  # an unfrozen scipy distribution lacks its shape parameters
            dimension = _Distribution(spec)
            dimension.decode(0.5)
        except Exception as exc:
            raise TypeError(
                f"param_space[{name!r}]: {spec!r} cannot decode a gene ({exc}); pass a frozen "
                "distribution such as scipy.stats.loguniform(1e-3, 1e3)"
            ) from exc
        return dimension
    if hasattr(spec, "rvs"):
        raise TypeError(
            f"param_space[{name!r}]: {spec!r} can be sampled (rvs) but has no quantile function "
            "(ppf) and cdf, which the evolutionary search needs to map genes to values"
        )
    raise TypeError(
        f"param_space[{name!r}] must be an Integer, Real, Categorical, a list of values or a "
        f"scipy.stats distribution, got {spec!r}"
    )


class SearchSpace:
    """The named dimensions of a search: gene vectors <-> parameter dicts.

    Parameters
    ----------
    param_space : mapping of str to dimension specification
        Parameter names (nested names such as ``"clf__C"`` included) mapped to anything
        :func:`as_dimension` accepts.

    Attributes
    ----------
    names : list of str
    dimensions : list of Dimension
    """

    def __init__(self, param_space):
        if not isinstance(param_space, Mapping):
            raise TypeError(
                f"param_space must be a dict of parameter name -> dimension, got {param_space!r}"
            )
        if len(param_space) == 0:
            raise ValueError("param_space must name at least one parameter")
        self.names = []
        self.dimensions = []
        for name, spec in param_space.items():
            if not isinstance(name, str):
                raise TypeError(f"param_space keys must be parameter names, got {name!r}")
            self.names.append(name)
            self.dimensions.append(as_dimension(spec, name))

    def __len__(self):
        return len(self.dimensions)

    @property
    def n_configurations(self):
        """Number of distinct configurations, or None if infinite."""
        total = 1
        for dim in self.dimensions:
            if dim.n_values is None:
                return None
            total *= dim.n_values
        return total

    def check_parameters(self, estimator):
        """Raise ValueError naming the first parameter that ``estimator`` does not have.

        Parameters
        ----------
        estimator : estimator object
            The estimator to search; only its ``get_params(deep=True)`` is read.

        Notes
        -----
        A nested name is also accepted when one of its prefixes is itself searched (for example
        ``"clf__C"`` while ``"clf"`` chooses among estimators), since the valid names then depend
        on the choice.
        """
        valid = set(estimator.get_params(deep=True))
        searched = set(self.names)
        for name in self.names:
            if name in valid:
                continue
            parts = name.split("__")
            if any("__".join(parts[:i]) in searched for i in range(1, len(parts))):
                continue
            raise ValueError(
                f"param_space names {name!r}, which is not a parameter of "
                f"{type(estimator).__name__}; valid parameters are {sorted(valid)}"
            )

    def decode(self, genes, precision=None):
        """Decode a gene vector.

        Parameters
        ----------
        genes : sequence of float
            One gene in [0, 1] per dimension.
        precision : int or None, default=None
            If given, genes are rounded to this many decimals before decoding, which coarsens
            the space into a grid (the reference rounds to one decimal).

        Returns
        -------
        params : dict
            Parameter name -> value.
        key : tuple
            Exact, hashable identifier of the configuration (categories by position).
        """
        params = {}
        key = []
        for name, dim, gene in zip(self.names, self.dimensions, genes, strict=True):
            if precision is not None:
                gene = round(float(gene), precision)
            value = dim.decode(gene)
            params[name] = value
            key.append(dim.key(value))
        return params, tuple(key)

    def encode(self, params):
        """Return the gene vector of a parameter dict (the inverse of :meth:`decode`).

        Each dimension encodes its own value (see :meth:`Dimension.encode`).

        Parameters
        ----------
        params : dict
            A value for every dimension, by name; other keys are ignored.

        Returns
        -------
        genes : list of float
            One gene in [0, 1] per dimension.

        Raises
        ------
        ValueError
            If ``params`` lacks a dimension.
        """
        missing = [name for name in self.names if name not in params]
        if missing:
            raise ValueError(f"params lack {missing}")
        return [
            dim.encode(params[name]) for name, dim in zip(self.names, self.dimensions, strict=True)
        ]

    def configuration(self, values, rng, strict=()):
        """Genes, parameters and key of the configuration that ``values`` gives.

        Each dimension takes the value of ``values`` nearest to it (see
        :meth:`Dimension.project`: clipped into the range, the nearest category); a dimension
        that ``values`` lacks, or whose value has no nearest value, gets a random gene instead.

        Parameters
        ----------
        values : dict
            Parameter name -> value; names outside the space are ignored.
        rng : numpy.random.Generator
            Draws the random genes.
        strict : collection of str, default=()
            Names whose value must be a value of the dimension as given, not projected.

        Returns
        -------
        genes, params, key :
            The genes that encode the projected values, the values and their key.

        Raises
        ------
        ValueError
            If a ``strict`` value is not a value of its dimension.
        """
        genes, params, key = [], {}, []
        for name, dim in zip(self.names, self.dimensions, strict=True):
            value = values.get(name, _MISSING)
            if name in strict:
                try:
                    dim.encode(value)
                    value = dim.project(value)
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{name}={value!r} is outside the space: {exc}") from None
            elif value is not _MISSING:
                try:
                    value = dim.project(value)
                except (TypeError, ValueError):
                    value = _MISSING
            if value is _MISSING:
                value = dim.decode(float(rng.random()))
            genes.append(_clip_gene(dim.encode(value)))
            params[name] = value
            key.append(dim.key(value))
        return genes, params, tuple(key)

    def random_genes(self, rng):
        """Draw a uniform gene vector.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator to draw from.

        Returns
        -------
        genes : list of float
            One uniform gene in [0, 1) per dimension.
        """
        return [float(g) for g in rng.random(len(self.dimensions))]
