"""Customer-base models: purchase counts (BG/NBD, MBG/NBD), spend (Gamma-Gamma) and CLV.

The summaries they are fitted on are built in the engine by :func:`rfm_summary` and
:func:`calibration_holdout_summary`; :func:`write_predictions` is the ``parcours clv`` stage.
"""

from parcours.models._estimator import ConvergenceWarning
from parcours.models.bgnbd import BetaGeoModel
from parcours.models.clv import customer_lifetime_value, discounted_purchases
from parcours.models.gammagamma import GammaGammaModel
from parcours.models.mbgnbd import ModifiedBetaGeoModel
from parcours.models.predictions import ClvReport, write_predictions
from parcours.models.simulation import simulate_bgnbd
from parcours.models.summary import calibration_holdout_summary, rfm_summary

__all__ = [
    "BetaGeoModel",
    "ClvReport",
    "ConvergenceWarning",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "calibration_holdout_summary",
    "customer_lifetime_value",
    "discounted_purchases",
    "rfm_summary",
    "simulate_bgnbd",
    "write_predictions",
]
