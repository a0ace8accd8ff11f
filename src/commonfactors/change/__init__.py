"""Reliable and clinically significant change.

* :func:`clinical_significance`: a whole data set in long format, by one of seven
  published methods (Jacobson & Truax, Gulliksen-Lord-Novick, Hsu-Linn-Lord,
  Edwards-Nunnally, Nunnally-Kotsch, Hageman & Arrindell, multilevel random slopes), with
  cut-off a, b or c and the categories recovered / improved / unchanged / deteriorated /
  harmed. Argument names follow the R package ``clinicalsignificance`` so results can be
  compared; the formulas are re-implemented from the publications.
* :func:`clinical_cutoff`: the cut-offs a, b and c (and the true-score versions).
* :func:`reliable_change` (one client) and :func:`reliable_change_frame` (a frame): change
  on one instrument judged by the instrument definition's own reliable-change threshold,
  direction and caseness cut-off.
* :func:`nhstt_outcome` (one episode) and :func:`nhstt_outcomes` (a registry): the NHS
  Talking Therapies paired outcomes (reliable improvement and deterioration, recovery,
  reliable recovery) from first and last PHQ-9 and GAD-7 scores.

Every single-client function puts its input in a one-row frame and runs the frame
function, so a judgement in a web request and one over a million episodes come from the
same code. Formulas, defaults and sources: ``docs/change.md``.
"""

from commonfactors.change._common import (
    CATEGORIES,
    CHANGE_CATEGORIES,
    Z_95,
    Z_975,
    ChangeError,
)
from commonfactors.change._cutoffs import clinical_cutoff
from commonfactors.change._instrument import ClientChange, reliable_change, reliable_change_frame
from commonfactors.change._nhstt import NHSTT_COLUMNS, NhsttOutcome, nhstt_outcome, nhstt_outcomes
from commonfactors.change._significance import METHOD_SOURCES, METHODS, clinical_significance

__all__ = [
    "CATEGORIES",
    "CHANGE_CATEGORIES",
    "METHODS",
    "METHOD_SOURCES",
    "NHSTT_COLUMNS",
    "Z_95",
    "Z_975",
    "ChangeError",
    "ClientChange",
    "NhsttOutcome",
    "clinical_cutoff",
    "clinical_significance",
    "nhstt_outcome",
    "nhstt_outcomes",
    "reliable_change",
    "reliable_change_frame",
]
