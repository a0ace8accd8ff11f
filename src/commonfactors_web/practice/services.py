"""The practice view: who may see which figures, the figures, and the development log.

* **Who** (the rule of this app; object access to clients stays in ``accounts.access``):
  a **supervisor** of a team sees the team's outcomes and the profiles of the team's
  therapists, named, and reads their development logs; a **therapist** sees only their own
  profile, beside the practice mean, and keeps their own log (no colleague's figures,
  named or not); an **admin** sees nothing clinical here.
* **What.** The records of the clients in scope are read by ``exports.services.collect``
  (pseudonymised, no names or free text) and turned into the tidy tables of
  :mod:`commonfactors.tidy`; every figure comes from :mod:`commonfactors.practice`.
  Therapist profiles are fitted on the whole practice (more episodes give steadier
  variance estimates); each person is shown only the rows they may see.
* **Audit.** Every page view and every log entry writes an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from django.db.models import QuerySet
from django.http import Http404

from commonfactors import practice
from commonfactors.charts import to_svg
from commonfactors_web.accounts import access
from commonfactors_web.accounts.models import Role, User
from commonfactors_web.audit.services import record
from commonfactors_web.clients.models import Client, Episode
from commonfactors_web.exports.services import collect, pseudonym
from commonfactors_web.practice.models import DevelopmentEntry

# --------------------------------------------------------------------------------------
# Who may see what


#: A supervisor of a team sees the team's figures and logs; a therapist sees their own
#: profile and keeps their own log (decided in :mod:`commonfactors_web.accounts.access`).
is_supervisor = access.is_team_supervisor
is_therapist = access.is_practice_therapist


def team_therapists(user: Any) -> QuerySet[User]:
    """The therapists whose figures ``user`` may see by name (a supervisor's team)."""
    if not is_supervisor(user):
        return User.objects.none()
    return User.objects.filter(
        role=Role.THERAPIST, team_id=user.team_id, practice_id=user.practice_id, is_active=True
    ).order_by("first_name", "username")


def therapist_for_supervisor(user: Any, therapist_id: int) -> User:
    """A therapist of ``user``'s team; 404 for anyone else (existence is not revealed)."""
    therapist = team_therapists(user).filter(pk=therapist_id).first()
    if therapist is None:
        raise Http404("no such therapist")
    return therapist


# --------------------------------------------------------------------------------------
# The figures


@dataclass
class Data:
    """The tidy tables of some clients, with each episode's therapist and team."""

    episodes: pl.DataFrame
    sessions: pl.DataFrame


def _data(clients: QuerySet[Client]) -> Data:
    tables = collect(clients).tables()
    rows = Episode.objects.filter(client__in=clients.values("pk")).values_list(
        "pk", "client__practice_id", "therapist_id", "therapist__team__name"
    )
    people = pl.DataFrame(
        [(pseudonym(p, "episode", pk), str(t), team or "no team") for pk, p, t, team in rows],
        schema={"episode_id": pl.String, "therapist": pl.String, "team": pl.String},
        orient="row",
    )
    return Data(
        episodes=tables.episodes.join(people, on="episode_id", how="left"),
        sessions=tables.sessions.join(people, on="episode_id", how="left"),
    )


def _measures(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {**r, "is_rate": r["measure"] != "pre-post effect size"}
        for r in frame.iter_rows(named=True)
    ]


@dataclass
class Profiles:
    """The practice's therapist profiles, or why there are none."""

    result: practice.TherapistProfiles | None
    problem: str | None = None

    def row(self, therapist_id: int) -> dict[str, Any] | None:
        if self.result is None:
            return None
        rows = self.result.profiles.filter(pl.col("therapist") == str(therapist_id))
        return rows.row(0, named=True) if rows.height else None


def _profiles(practice_id: int, since: date | None, until: date | None) -> Profiles:
    data = _data(Client.objects.filter(practice_id=practice_id))
    try:
        return Profiles(practice.therapist_profiles(data.episodes, since=since, until=until))
    except practice.PracticeError as exc:
        return Profiles(None, "; ".join([str(exc.args[0]), *exc.problems]))


@dataclass
class Dashboard:
    since: date | None
    until: date | None
    summary: list[dict[str, Any]]
    by_team: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    completeness: dict[str, Any]
    profiles: Profiles
    therapists: list[dict[str, Any]] = field(default_factory=list)
    funnel_svg: str | None = None
    funnel_rows: list[dict[str, Any]] = field(default_factory=list)


def _trend_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """One row per month: each measure's count, n and value side by side."""
    months: dict[date, dict[str, Any]] = {}
    for r in _measures(frame):
        key = r["measure"].replace(" ", "_").replace("-", "_")
        months.setdefault(r["month"], {"month": r["month"]})[key] = r
    return [months[m] for m in sorted(months)]


@dataclass
class TeamProfiles:
    """The profiles of a supervisor's team and the funnel plot (as the dashboard and the
    practice report show them)."""

    profiles: Profiles
    therapists: list[dict[str, Any]]
    funnel_svg: str | None = None
    funnel_rows: list[dict[str, Any]] = field(default_factory=list)


def team_profiles(user: User, since: date | None = None, until: date | None = None) -> TeamProfiles:
    """The team's therapist profiles, fitted on the practice (not audited: the caller is)."""
    profiles = _profiles(user.practice_id or 0, since, until)
    team = list(team_therapists(user))
    labels = {str(t.pk): t.display_name for t in team}
    result = TeamProfiles(profiles, [{"therapist": t, "profile": profiles.row(t.pk)} for t in team])
    if profiles.result is not None:
        result.funnel_rows = practice.funnel_table(profiles.result, labels)
        if result.funnel_rows:
            result.funnel_svg = to_svg(practice.funnel_chart(profiles.result, labels))
    return result


def dashboard(user: User, since: date | None = None, until: date | None = None) -> Dashboard:
    """The team's figures for a supervisor (audited)."""
    data = _data(access.visible_clients(user))
    team = team_profiles(user, since, until)
    board = Dashboard(
        since=since,
        until=until,
        summary=_measures(practice.outcomes(data.episodes, since=since, until=until)),
        by_team=_measures(practice.outcomes(data.episodes, since=since, until=until, by="team")),
        trend=_trend_rows(practice.trend(data.episodes, since=since, until=until)),
        completeness=practice.completeness(data.sessions, since=since, until=until).row(
            0, named=True
        ),
        profiles=team.profiles,
        therapists=team.therapists,
        funnel_svg=team.funnel_svg,
        funnel_rows=team.funnel_rows,
    )
    record(
        user,
        "practice.dashboard.view",
        team=user.team_id,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        clients=list(data.episodes.get_column("client_id").unique().sort()),
    )
    return board


@dataclass
class OwnProfile:
    therapist: User
    summary: list[dict[str, Any]]
    completeness: dict[str, Any]
    profile: dict[str, Any] | None
    profiles: Profiles
    entries: list[DevelopmentEntry]


def own_profile(therapist: User, viewer: User) -> OwnProfile:
    """A therapist's profile beside the practice mean, with their development log (for the
    therapist themself, or for the supervisor of their team; audited)."""
    own = Client.objects.filter(
        pk__in=Episode.objects.filter(therapist=therapist).values("client_id")
    )
    data = _data(own)
    mine = data.episodes.filter(pl.col("therapist") == str(therapist.pk))
    sessions = data.sessions.filter(pl.col("therapist") == str(therapist.pk))
    profiles = _profiles(therapist.practice_id or 0, None, None)
    record(
        viewer,
        "practice.profile.view",
        therapist=therapist.pk,
        clients=list(mine.get_column("client_id").unique().sort()),
    )
    return OwnProfile(
        therapist=therapist,
        summary=_measures(practice.outcomes(mine)),
        completeness=practice.completeness(sessions).row(0, named=True),
        profile=profiles.row(therapist.pk),
        profiles=profiles,
        entries=list(therapist.development_entries.all()),
    )


# --------------------------------------------------------------------------------------
# The development log


def add_entry(
    user: User, *, kind: str, date: date, title: str, notes: str = ""
) -> DevelopmentEntry:
    """A new entry in ``user``'s own log (therapists only; audited)."""
    if not is_therapist(user):
        raise PermissionError("only a therapist keeps a development log")
    entry = DevelopmentEntry.objects.create(
        therapist=user, kind=kind, date=date, title=title, notes=notes
    )
    record(user, "practice.log.add", obj=entry, kind=kind)
    return entry
