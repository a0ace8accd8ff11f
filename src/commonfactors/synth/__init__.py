"""A synthetic registry of routine psychotherapy with known ground truth.

Practices, therapists, clients, episodes of care and sessions, with attendance, item-level
PHQ-9 and GAD-7 answers scored by the library, session alliance, intake expectancy and
readiness, goal ratings, homework completion and dropout, drawn from published figures
(``SynthParams`` names the source of every default). Each episode also carries what a real
registry never has: its true trajectory class, eventual outcome, dropout and true scores.
"""

from commonfactors.synth.params import DEFAULT_CLASSES, SynthParams, TrajectoryClass
from commonfactors.synth.registry import (
    OUTCOMES,
    TABLES,
    SyntheticRegistry,
    generate,
    nhs_outcomes,
    write_registry,
)

__all__ = [
    "DEFAULT_CLASSES",
    "OUTCOMES",
    "TABLES",
    "SynthParams",
    "SyntheticRegistry",
    "TrajectoryClass",
    "generate",
    "nhs_outcomes",
    "write_registry",
]
