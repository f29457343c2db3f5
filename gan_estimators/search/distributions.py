"""A frozen ``scipy.stats`` distribution as a search dimension (what
:class:`~sklearn.model_selection.RandomizedSearchCV` accepts), decoded through its quantile
function; :func:`gan_estimators.search.space.as_dimension` builds it."""

import math

from gan_estimators.search.space import (
    Dimension,
    _clip_gene,
    _is_number,
    canonical_real,
)

# Quantiles 0 and 1 of unbounded distributions are infinite: decoding clips the gene this far
# inside [0, 1] so that every gene decodes to a finite value.
_QUANTILE_MARGIN = 1e-9


class _Distribution(Dimension):
    """A frozen ``scipy.stats`` distribution, decoded through its quantile function.

    Continuous distributions encode a value as its ``cdf``. A discrete distribution's value ``k``
    owns the quantile interval ``(cdf(k - 1), cdf(k)]``; encoding returns its midpoint so that
    decoding is exact.
    """

    def __init__(self, distribution):
        from scipy.stats import rv_discrete

        self.distribution = distribution
        self.discrete = isinstance(getattr(distribution, "dist", None), rv_discrete)
        low, high = distribution.support()
        if self.discrete and math.isfinite(low) and math.isfinite(high):
            self.n_values = int(high - low + 1)

    def __repr__(self):
        dist = self.distribution
        name = getattr(getattr(dist, "dist", None), "name", type(dist).__name__)
        return f"_Distribution({name}{tuple(getattr(dist, 'args', ()))!r})"

    def __eq__(self, other):
        return isinstance(other, _Distribution) and other.distribution is self.distribution

    def __hash__(self):
        return id(self.distribution)

    def decode(self, gene):
        quantile = min(max(_clip_gene(gene), _QUANTILE_MARGIN), 1.0 - _QUANTILE_MARGIN)
        value = self.distribution.ppf(quantile)
        if self.discrete:
            low, high = self.distribution.support()
            return int(min(max(value, low), high))
        return canonical_real(value)

    def project(self, value):
        if not _is_number(value) or math.isnan(value):
            raise ValueError(f"{value!r} is not a number")
        if self.discrete:
            low, high = self.distribution.support()
            value = int(min(max(round(value), low), high))
        return self.decode(self.encode(value))

    def encode(self, value):
        if self.discrete:
            upper = float(self.distribution.cdf(value))
            lower = float(self.distribution.cdf(value - 1))
            if upper <= lower:
                raise ValueError(f"{value!r} has probability 0 under {self!r}")
            return _clip_gene((lower + upper) / 2)
        return _clip_gene(float(self.distribution.cdf(value)))
