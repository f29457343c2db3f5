"""Evolutionary hyperparameter search for any scikit-learn estimator.

- :mod:`.search_cv`: :class:`EvolutionarySearchCV`, a scikit-learn ``BaseSearchCV``;
- :mod:`.evolution`: the genetic algorithm (DEAP operators, selection, hall of fame);
- :mod:`.algorithms`: the ``algorithm`` names, their ``algorithm_params`` and what breeds each;
  :mod:`.strategies`: CMA-ES and differential evolution; :mod:`.steady_state`: the
  asynchronous steady-state genetic algorithm, which runs its own fits;
- :mod:`.space`: search dimensions (:class:`Integer`, :class:`Real`, :class:`Categorical`)
  and the gene encoding, with canonical (rounded) real values; :mod:`.distributions`:
  ``scipy.stats`` distributions as dimensions;
- :mod:`.initial`: the first generation's configurations (the estimator's own, or a list);
- :mod:`.run`: the state of one ``fit`` and the assessment of a generation (in-run cache,
  ``memory``, one ``evaluate_candidates`` call);
- :mod:`.fidelity`: multi-fidelity evolution (budgets of a resource, promotion by rung);
  :mod:`.continuation`: promoted configurations continued by ``partial_fit``
  (``continue_promoted``);
- :mod:`.own_fits`: the fits the search runs itself instead of through scikit-learn's
  ``evaluate_candidates`` (steady state, continued training);
- :mod:`.quiet`: the warnings of candidate fits, collected and counted instead of printed;
- :mod:`.ending`: how a fit ends (interrupts, nothing to refit, everything restored);
- :mod:`.results`: results bookkeeping (fitness from records, failed evaluations, the rows
  scikit-learn does not hold, warning replay);
- :mod:`.store`: the persistent ``memory=`` store;
- :mod:`.workers`: thread caps for joblib and Dask workers;
- :mod:`.presets`: ready-made search spaces.

Nothing here knows about GANs.
"""

from gan_estimators.search.presets import reference_space
from gan_estimators.search.search_cv import EvolutionarySearchCV
from gan_estimators.search.space import Categorical, Integer, Real

__all__ = ["Categorical", "EvolutionarySearchCV", "Integer", "Real", "reference_space"]
