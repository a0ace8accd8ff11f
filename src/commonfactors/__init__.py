"""commonfactors: feedback-informed psychotherapy, as a library.

Score validated check-ins exactly by their published rules, and (in later modules) judge
change, expected treatment response and the common factors. The library never imports
Django; the web app and the CLI are thin layers over it.
"""

from commonfactors.errors import (
    ChangeError,
    CommonFactorsError,
    DefinitionError,
    ScoringError,
    UnknownInstrumentError,
)
from commonfactors.instruments.registry import (
    Instrument,
    Registry,
    default_registry,
    get_instrument,
)
from commonfactors.instruments.schema import Definition
from commonfactors.scoring import Score, score, score_frame

__version__ = "0.1.0"

__all__ = [
    "ChangeError",
    "CommonFactorsError",
    "Definition",
    "DefinitionError",
    "Instrument",
    "Registry",
    "Score",
    "ScoringError",
    "UnknownInstrumentError",
    "__version__",
    "default_registry",
    "get_instrument",
    "score",
    "score_frame",
]
