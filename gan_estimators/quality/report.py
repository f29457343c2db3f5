"""The report of the failure-mode diagnostics: what :func:`.diagnostics.diagnose` returns.

:class:`DiagnosticsReport` holds one :class:`FailureMode` verdict per name of
:data:`FAILURE_MODES` and the :class:`Thresholds` used; it converts to and from plain JSON types
(``to_dict`` / ``from_dict``).  A report of a conditional model (fitted with class labels) also
holds the :data:`CLASS_MODES` verdicts.  All are re-exported by :mod:`.diagnostics`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CLASS_MODES", "FAILURE_MODES", "DiagnosticsReport", "FailureMode", "Thresholds"]

#: Names of the failure modes, in report order.
FAILURE_MODES = ("vanishing_gradients", "mode_collapse", "failure_to_converge")

#: Names of the failure modes checked for a conditional model only, in report order.
CLASS_MODES = ("mode_collapse_per_class", "class_leakage")


@dataclass(frozen=True)
class Thresholds:
    """Thresholds of :func:`~gan_estimators.quality.diagnostics.diagnose`; the docstring of
    :mod:`gan_estimators.quality.diagnostics` says what each one decides."""

    min_steps: int = 100
    tail_fraction: float = 0.25
    min_tail: int = 5
    flat_ratio: float = 0.1
    flat_level: float = 1e-3
    grad_collapse_ratio: float = 0.01
    saturation_position: float = 0.1
    bce_saturated_loss: float = 0.1
    min_samples: int = 20
    duplicate_fraction: float = 0.5
    collapse_coverage: float = 0.5
    collapse_diversity: float = 0.4
    duplicate_diversity: float = 0.8
    divergence_windows: int = 4
    divergence_noise: float = 3.0
    divergence_min_rise: float = 0.1
    critic_fall_noise: float = 1.0
    chance_bce_tolerance: float = 0.1
    chance_wasserstein_ratio: float = 0.05
    poor_precision: float = 0.1
    leakage_of_chance: float = 0.5


@dataclass
class FailureMode:
    """Verdict on one failure mode.

    Attributes
    ----------
    name : str
        One of :data:`FAILURE_MODES` or :data:`CLASS_MODES`.
    flagged : bool or None
        True when the mode tripped, False when it was checked and did not, None when it could
        not be assessed (too short a history, too few samples, missing keys).
    evidence : dict of str to float
        The numbers the verdict is based on.
    reason : str
        One line saying why the mode tripped, did not, or was not assessed.
    remedy : str
        One line of advice (relevant when flagged).
    """

    name: str
    flagged: bool | None
    evidence: dict = field(default_factory=dict)
    reason: str = ""
    remedy: str = ""

    def __eq__(self, other):
        # Evidence may hold NaN (a metric undefined on degenerate samples): a report must
        # still equal itself and its JSON round trip, so NaN matches NaN here.
        if not isinstance(other, FailureMode):
            return NotImplemented
        return (self.name, self.flagged, self.reason, self.remedy) == (
            other.name,
            other.flagged,
            other.reason,
            other.remedy,
        ) and _same_values(self.evidence, other.evidence)

    def __str__(self):
        state = {True: "FLAGGED", False: "ok", None: "not assessed"}[self.flagged]
        text = f"{self.name}: {state} - {self.reason}"
        if self.flagged:
            text += f" Remedy: {self.remedy}"
        return text


@dataclass
class DiagnosticsReport:
    """Result of :func:`~gan_estimators.quality.diagnostics.diagnose`: one
    :class:`FailureMode` per failure mode.

    Behaves like a read-only mapping from mode name to :class:`FailureMode`
    (``report["mode_collapse"].flagged``), and :meth:`to_dict` gives plain Python types (for
    JSON).  The mapping holds the :data:`FAILURE_MODES`, followed by the :data:`CLASS_MODES`
    for a conditional model.

    Attributes
    ----------
    vanishing_gradients, mode_collapse, failure_to_converge : FailureMode
    thresholds : Thresholds
        The thresholds used.
    mode_collapse_per_class, class_leakage : FailureMode or None
        The class-by-class verdicts of a conditional model (None for an unconditional one):
        :meth:`by_class` gives their evidence for each class.
    table_quality : dict or None
        For a model of a mixed-type table: the samples' column shapes, column pair trends
        and their mean against the training rows
        (:func:`~gan_estimators.quality.tables.table_quality`); None for other data.  Not a
        failure mode: ``names``, ``flagged`` and the mapping leave it out.
    """

    vanishing_gradients: FailureMode
    mode_collapse: FailureMode
    failure_to_converge: FailureMode
    thresholds: Thresholds = field(default_factory=Thresholds)
    mode_collapse_per_class: FailureMode | None = None
    class_leakage: FailureMode | None = None
    table_quality: dict | None = None

    @property
    def names(self):
        """Names of the modes this report holds, in report order (a tuple)."""
        return FAILURE_MODES + tuple(n for n in CLASS_MODES if getattr(self, n) is not None)

    @property
    def flagged(self):
        """Names of the modes that tripped (a list, empty when training looks healthy)."""
        return [name for name in self.names if self[name].flagged]

    @property
    def healthy(self):
        """True when no failure mode tripped."""
        return not self.flagged

    def __getitem__(self, name):
        if name not in self.names:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self):
        return iter(self.names)

    def __len__(self):
        return len(self.names)

    def __contains__(self, name):
        return name in self.names

    def keys(self):
        return list(self.names)

    def items(self):
        return [(name, self[name]) for name in self.names]

    def by_class(self, name):
        """The evidence of a class-by-class mode for each class.

        Parameters
        ----------
        name : {"mode_collapse_per_class", "class_leakage"}

        Returns
        -------
        dict
            Class label -> {evidence name: that class's value}, for every per-class list
            of the mode's evidence (those aligned with its ``classes`` list).

        Raises
        ------
        KeyError
            If the report holds no mode ``name`` (an unconditional model's report).
        """
        if name not in CLASS_MODES or name not in self.names:
            raise KeyError(name)
        evidence = self[name].evidence
        classes = list(evidence["classes"])
        per_class = {
            key: values
            for key, values in evidence.items()
            if key != "classes"
            and isinstance(values, (list, tuple))
            and len(values) == len(classes)
        }
        return {
            label: {key: values[i] for key, values in per_class.items()}
            for i, label in enumerate(classes)
        }

    def to_dict(self):
        """Plain-type dictionary: ``{mode: {flagged, evidence, reason, remedy}, thresholds}``
        (a mode of each name of :attr:`names`).

        Everything in it is a JSON type (NumPy scalars and arrays become Python numbers and
        lists), so ``json.dumps`` writes it and :meth:`from_dict` of the ``json.loads`` result
        gives a report equal to this one; ``GANEstimator.save`` stores ``diagnostics_`` so.
        Non-finite evidence (NaN, inf) is written as JSON's common ``NaN`` / ``Infinity``
        extension, which Python's :mod:`json` reads back.
        """
        out = {}
        for name in self.names:
            mode = self[name]
            out[name] = {
                "flagged": mode.flagged,
                "evidence": {k: _plain(v) for k, v in mode.evidence.items()},
                "reason": mode.reason,
                "remedy": mode.remedy,
            }
        out["thresholds"] = dataclasses.asdict(self.thresholds)
        if self.table_quality is not None:
            out["table_quality"] = _plain(self.table_quality)
        return out

    @classmethod
    def from_dict(cls, data):
        """Rebuild a report from :meth:`to_dict` output.

        Parameters
        ----------
        data : dict
            :meth:`to_dict` output, possibly after a JSON round trip.  A missing
            ``thresholds`` entry (or threshold) means the defaults; missing class-by-class
            modes mean an unconditional model's report.

        Returns
        -------
        DiagnosticsReport
        """
        modes = {
            name: FailureMode(
                name=name,
                flagged=data[name]["flagged"],
                evidence=dict(data[name]["evidence"]),
                reason=data[name]["reason"],
                remedy=data[name]["remedy"],
            )
            for name in FAILURE_MODES + CLASS_MODES
            if name in FAILURE_MODES or data.get(name) is not None
        }
        return cls(
            **modes,
            thresholds=Thresholds(**data.get("thresholds", {})),
            table_quality=data.get("table_quality"),
        )

    def __str__(self):
        return "\n".join(str(self[name]) for name in self.names)


def _plain(value):
    """``value`` with NumPy scalars / arrays and tuples turned into JSON types."""
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _same_values(a, b):
    """Equality of evidence values in which NaN equals NaN."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_values(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_values(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    both_nan = (
        isinstance(a, (float, np.floating))
        and isinstance(b, (float, np.floating))
        and math.isnan(a)
        and math.isnan(b)
    )
    return bool(both_nan or a == b)
