"""Clinical-significance cut-offs a, b and c (Jacobson & Truax 1991), and the true-score
versions of Hageman & Arrindell (1999).

Written here for "lower is better"; with "higher is better" the signs flip (a and b move to
the other side of their mean; c is the same point either way).

* **a**: two SDs beyond the clinical mean, towards the better end.
* **b**: two SDs from the functional mean, towards the worse end. Jacobson & Truax (1991)
  describe "within two standard deviations of the functional mean", i.e. the functional SD
  (our default, ``b_sd="functional"``); the R package ``clinicalsignificance`` uses the
  clinical SD (``b_sd="clinical"``).
* **c**: the point between the two means weighted by the SDs, where a score is as many of
  its SDs from one mean as from the other: (SD_c·M_f + SD_f·M_c) / (SD_c + SD_f).

True-score version (Hageman & Arrindell 1999): every SD above is multiplied by √r of its
population, where r = (SD² − SE²)/SD² and SE = SD_clinical·√(1 − reliability) is the
standard error of measurement of the instrument.
"""

from __future__ import annotations

import math
from typing import Literal

from commonfactors.change._common import Better, ChangeError, fmt

__all__ = [
    "BSd",
    "CutoffKind",
    "clinical_cutoff",
    "cutoff_problems",
    "cutoff_value",
    "describe_cutoff",
]

CutoffKind = Literal["a", "b", "c"]
BSd = Literal["functional", "clinical"]


def cutoff_problems(
    kind: object,
    *,
    m_clinical: float,
    sd_clinical: float,
    m_functional: float | None,
    sd_functional: float | None,
    better: object,
    b_sd: object,
) -> list[str]:
    """Every reason the cut-off cannot be computed (empty when it can)."""
    problems: list[str] = []
    if kind not in ("a", "b", "c"):
        problems.append(f"cutoff must be 'a', 'b' or 'c', not {kind!r}")
    if better not in ("lower", "higher"):
        problems.append(f"better must be 'lower' or 'higher', not {better!r}")
    if b_sd not in ("functional", "clinical"):
        problems.append(f"b_sd must be 'functional' or 'clinical', not {b_sd!r}")
    if not (math.isfinite(m_clinical) and math.isfinite(sd_clinical)):
        problems.append("the clinical mean and SD must be finite numbers")
    elif sd_clinical <= 0:
        problems.append(f"the clinical SD must be positive, not {fmt(sd_clinical)}")
    needs_sd_f = kind == "c" or (kind == "b" and b_sd == "functional")
    if kind in ("b", "c"):
        missing = [
            name
            for name, value in (("m_functional", m_functional), ("sd_functional", sd_functional))
            if value is None and (name == "m_functional" or needs_sd_f)
        ]
        if missing:
            problems.append(
                f"cut-off {kind} needs the functional population's " + " and ".join(missing)
            )
    if m_functional is not None and not math.isfinite(m_functional):
        problems.append("m_functional must be a finite number")
    elif m_functional is not None and better in ("lower", "higher"):
        worse = m_functional >= m_clinical if better == "lower" else m_functional <= m_clinical
        if worse and math.isfinite(m_clinical):
            problems.append(
                f"with better={better!r} the functional mean ({fmt(m_functional)}) must be "
                f"{better} than the clinical mean ({fmt(m_clinical)}); is `better` right?"
            )
    if sd_functional is not None and not (math.isfinite(sd_functional) and sd_functional > 0):
        problems.append(f"sd_functional must be a positive number, not {fmt(sd_functional)}")
    return problems


def _true_sd(sd: float, se: float, population: str) -> float:
    r = (sd * sd - se * se) / (sd * sd)
    if r <= 0:
        raise ChangeError(
            f"the true-score cut-off needs the {population} SD ({fmt(sd)}) to exceed the "
            f"standard error of measurement ({fmt(se)})"
        )
    return sd * math.sqrt(r)


def clinical_cutoff(
    kind: CutoffKind,
    *,
    m_clinical: float,
    sd_clinical: float,
    m_functional: float | None = None,
    sd_functional: float | None = None,
    better: Better = "lower",
    b_sd: BSd = "functional",
    true_score_reliability: float | None = None,
) -> float:
    """The clinical-significance cut-off ``kind`` ("a", "b" or "c") in raw score points.

    A score strictly on the better side of the cut-off is *functional*; a score at the
    cut-off or on the worse side is *clinical*. With ``true_score_reliability`` the
    Hageman & Arrindell (1999) true-score version is returned: each SD times √r of its
    population, r = (SD² − SE²)/SD², with SE = sd_clinical·√(1 − true_score_reliability).
    Raises :class:`ChangeError` naming every problem.
    """
    problems = cutoff_problems(
        kind,
        m_clinical=m_clinical,
        sd_clinical=sd_clinical,
        m_functional=m_functional,
        sd_functional=sd_functional,
        better=better,
        b_sd=b_sd,
    )
    if true_score_reliability is not None and not 0 < true_score_reliability < 1:
        problems.append(
            f"true_score_reliability must lie strictly between 0 and 1, "
            f"not {fmt(true_score_reliability)}"
        )
    if problems:
        raise ChangeError("the cut-off cannot be computed", problems)
    se = None
    if true_score_reliability is not None:
        se = sd_clinical * math.sqrt(1 - true_score_reliability)
    return cutoff_value(
        kind,
        m_clinical=m_clinical,
        sd_clinical=sd_clinical,
        m_functional=m_functional,
        sd_functional=sd_functional,
        better=better,
        b_sd=b_sd,
        true_score_se=se,
    )


def cutoff_value(
    kind: CutoffKind,
    *,
    m_clinical: float,
    sd_clinical: float,
    m_functional: float | None,
    sd_functional: float | None,
    better: Better,
    b_sd: BSd,
    true_score_se: float | None,
) -> float:
    """The cut-off from checked parameters (see :func:`cutoff_problems`); with
    ``true_score_se`` the true-score version for that standard error of measurement."""
    sign = -1.0 if better == "lower" else 1.0  # the direction of "better"
    sd_c, sd_f = sd_clinical, sd_functional
    if true_score_se is not None:
        sd_c = _true_sd(sd_clinical, true_score_se, "clinical")
        if sd_functional is not None:
            sd_f = _true_sd(sd_functional, true_score_se, "functional")
    if kind == "a" or m_functional is None:  # (b and c always have m_functional here)
        return m_clinical + sign * 2 * sd_c
    if kind == "b":
        spread = sd_c if b_sd == "clinical" or sd_f is None else sd_f
        return m_functional - sign * 2 * spread
    sd_f = sd_c if sd_f is None else sd_f  # (c always has sd_functional here)
    return (sd_c * m_functional + sd_f * m_clinical) / (sd_c + sd_f)


def describe_cutoff(kind: str, better: str, b_sd: str, *, true_score: bool) -> str:
    """The rule behind a cut-off, in words."""
    side = "below" if better == "lower" else "above"
    worse = "above" if better == "lower" else "below"
    ts = " (true-score SDs: SD·√r, Hageman & Arrindell 1999)" if true_score else ""
    text = {
        "a": f"a: 2 SDs {side} the clinical mean{ts}",
        "b": (
            f"b: 2 SDs {worse} the functional mean, using the "
            f"{'functional' if b_sd == 'functional' else 'clinical'} SD{ts}"
            + (" (Jacobson & Truax 1991)" if b_sd == "functional" else " (as the R package)")
        ),
        "c": f"c: the SD-weighted midpoint of the clinical and functional means{ts}",
    }[kind]
    return f"cut-off {text}; functional = strictly {side} the cut-off"
