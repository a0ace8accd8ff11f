"""What the API accepts and returns, declared once: the OpenAPI schema is generated from these
models and every request is checked against them (every problem named at once, 422).

Outputs are built field by field from the records (``api.routers``), so that nothing is sent
that is not named here: never a token or link hash, never another client's data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from ninja import Path, Schema
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from commonfactors_web.checkins.instruments import administrable

#: The largest id a path may name (a 64-bit signed integer, what the databases store).
MAX_ID = 2**63 - 1
#: The largest page and the default one.
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
#: Offsets beyond this are refused (no practice has a billion records of one kind).
MAX_OFFSET = 10**9


def _storable(value: str) -> str:
    """Text both databases can store: no NUL character (PostgreSQL refuses it) and no lone
    surrogate (not Unicode text)."""
    if "\x00" in value:
        raise ValueError("the text contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text is not valid Unicode") from None
    return value


#: Text both databases can store (see :func:`_storable`); lengths are set per field.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$"), AfterValidator(_storable)]
#: Such text with at least one character that is not white space (the services strip it).
NonBlank = Annotated[str, Field(pattern=r"^[^\x00]*[^\x00\s][^\x00]*$"), AfterValidator(_storable)]


def path_id(what: str) -> Any:
    return Annotated[int, Path(ge=1, le=MAX_ID, description=f"The {what}'s id.")]


ClientId = path_id("client")
EpisodeId = path_id("episode")
CheckInId = path_id("check-in")
AlertId = path_id("alert")
#: An instrument id as the library names it (lower-case slug, e.g. ``phq9``).
InstrumentId = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]
#: An instrument a check-in can ask (one with text to show a client).
Askable = Literal[administrable()]  # type: ignore[valid-type]


class Input(Schema):
    """Request bodies: a misspelt or unknown field is a problem, never silently dropped.
    Patterns are read as Python reads them (``\\s`` is what ``str.strip`` strips)."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")


# ------------------------------------------------------------------ errors


class Problem(Schema):
    location: list[str | int] = Field(
        description="Where the problem is: 'body', 'query' or 'path', then the field."
    )
    message: str


class Error(Schema):
    """Every error response: what went wrong and, for bad input, every problem at once."""

    detail: str
    problems: list[Problem] = Field(default_factory=list)


# ------------------------------------------------------------------ paging

T = TypeVar("T")


class Paging(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``count`` is the total over all pages."""

    count: int
    limit: int
    offset: int
    items: list[T]


# ------------------------------------------------------------------ people and instruments


class Person(Schema):
    id: int
    display_name: str


class Me(Schema):
    id: int
    username: str
    display_name: str
    role: str
    practice_id: int | None
    team_id: int | None
    can_add_clients: bool
    token_name: str
    token_expires_at: datetime


class Instrument(Schema):
    id: str
    short_name: str
    name: str
    measures: str


# ------------------------------------------------------------------ clients and episodes


class ClientOut(Schema):
    id: int
    code: str
    name: str
    birth_year: int | None
    gender: str
    preferred_language: str
    cultural_background: str
    email: str
    therapist: Person
    created_at: datetime
    current_episode_id: int | None
    can_change: bool = Field(description="Whether this token's owner may change the client.")


class ClientFilters(Schema):
    q: Text = Field("", max_length=100, description="Part of the client's code or name.")


class ClientIn(Input):
    """A new client of the token's owner (a therapist), with a first, active episode."""

    code: NonBlank = Field(max_length=40, description="Pseudonymous code, unique in the practice.")
    name: Text = Field("", max_length=200)
    birth_year: int | None = Field(None, ge=1900, le=2100)
    gender: Text = Field("", max_length=60)
    preferred_language: NonBlank = Field("en", max_length=10)
    cultural_background: Text = Field("", max_length=2000, description="In the client's words.")
    email: Text = Field("", max_length=254, description="For check-in links. Optional.")
    presenting_concerns: Text = Field("", max_length=2000)
    modality: Text = Field("", max_length=100)


class PlanRef(Schema):
    id: int
    name: str


class EpisodeOut(Schema):
    id: int
    client_id: int
    therapist: Person
    started_on: date
    ended_on: date | None
    status: str
    presenting_concerns: str
    modality: str
    measurement_plan: PlanRef | None
    sessions: int


# ------------------------------------------------------------------ scores and signals


class InstrumentFilter(Schema):
    instrument: InstrumentId | None = Field(None, description="Only this instrument.")


class ScoreOut(Schema):
    id: int
    administration_id: int
    episode_id: int
    checkin_id: int | None
    session_number: int
    session_date: date
    instrument: str
    answers: dict[str, Any] = Field(description="Item id → the raw answer as given.")
    answered_at: datetime
    total: float
    subscales: dict[str, Any]
    band: str
    caseness: bool | None
    risk_items: list[str]
    risk_unanswered: list[str]
    prorated: bool
    missing_items: list[str]
    definition_version: str
    rules: dict[str, Any]


class SignalOut(Schema):
    id: int
    episode_id: int
    checkin_id: int | None
    kind: str
    instrument: str
    session_number: int
    score: float
    status: str
    intake: float | None
    change: float | None
    change_category: str
    recovered: bool | None
    reliable_deterioration: bool | None
    expected: float | None
    yellow_threshold: float | None
    red_threshold: float | None
    reasons: list[Any]
    rule: str
    change_rule: str
    model_label: str
    created_at: datetime


# ------------------------------------------------------------------ check-ins


class CheckInOut(Schema):
    id: int
    client_id: int
    episode_id: int
    instruments: list[str]
    state: Literal["open", "used", "expired"]
    created_by: Person
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    emailed_at: datetime | None
    session_number: int | None


class CheckInDetail(CheckInOut):
    scores: list[ScoreOut] = Field(description="The scores of the answers it brought.")


class CheckInIn(Input):
    instruments: list[Askable] | None = Field(  # type: ignore[valid-type]
        None,
        min_length=1,
        max_length=30,
        description="The questionnaires to ask; left out: those due by the measurement plan.",
    )
    email: bool = Field(False, description="Also e-mail the link to the client's address.")


class CheckInCreated(CheckInOut):
    url: str = Field(description="The client's private link. Shown this once only.")
    token: str = Field(description="The link's token. Shown this once only.")
    emailed: bool


# ------------------------------------------------------------------ alerts


class AlertFilters(Schema):
    state: Literal["open", "resolved", "all"] = "open"
    client_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this client's.")


class AlertOut(Schema):
    id: int
    client_id: int
    episode_id: int
    checkin_id: int | None
    kind: str
    instrument: str
    session_number: int | None
    summary: str
    evidence: dict[str, Any]
    created_at: datetime
    acknowledged_by: Person | None
    acknowledged_at: datetime | None
    resolved_by: Person | None
    resolved_at: datetime | None
    resolution: str
    is_open: bool
    resolved_by_support_review: bool = Field(
        description="Red, yellow and alliance-rupture alerts are resolved by a support review "
        "in the web app; a risk alert by a person saying what was done."
    )
    can_change: bool


class ResolveIn(Input):
    resolution: NonBlank = Field(
        max_length=2000, description="What was done, and why it is resolved."
    )
