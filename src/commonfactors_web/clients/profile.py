"""The common-factors profile of an episode, read from its stored records and handed to
the library (:func:`commonfactors.profile.profile`), which decides every standing and trend."""

from __future__ import annotations

import commonfactors
from commonfactors.profile import (
    Attendance,
    Measurement,
    Standing,
    factors,
    profile,
)
from commonfactors_web.checkins.models import Score
from commonfactors_web.clients.models import Attendance as AttendanceChoice
from commonfactors_web.clients.models import Episode
from commonfactors_web.homework.services import completion


def _factor_instruments() -> list[str]:
    """Every shipped instrument that measures one of the profile's factors."""
    measures = {f.measures for f in factors() if f.measures}
    registry = commonfactors.default_registry()
    return [i for i in registry.ids() if registry.definition(i).measures in measures]


def measurements(episode: Episode) -> list[Measurement]:
    rows = (
        Score.objects.filter(
            administration__session__episode=episode, instrument__in=_factor_instruments()
        )
        .order_by("administration__session__number")
        .values_list(
            "instrument",
            "total",
            "band",
            "administration__session__number",
            "administration__session__date",
        )
    )
    return [
        Measurement(instrument=i, value=float(t), band=b or None, session=n, date=d)
        for i, t, b, n, d in rows
    ]


def attendance(episode: Episode) -> Attendance:
    sessions = list(episode.sessions.order_by("number").values_list("attendance", flat=True))
    booked = [a for a in sessions if a != AttendanceChoice.CANCELLED]
    return Attendance(
        attended=sessions.count(AttendanceChoice.ATTENDED),
        did_not_attend=sessions.count(AttendanceChoice.DID_NOT_ATTEND),
        cancelled=sessions.count(AttendanceChoice.CANCELLED),
        last_missed=bool(booked) and booked[-1] == AttendanceChoice.DID_NOT_ATTEND,
    )


def episode_profile(episode: Episode) -> list[Standing]:
    return profile(
        measurements(episode), attendance=attendance(episode), homework=completion(episode)
    )
