"""Limit/offset pages with a total count (``schemas.Paging``, ``schemas.Page``)."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from commonfactors_web.api.schemas import Paging

M = TypeVar("M", bound=Model)


def page(queryset: QuerySet[M], paging: Paging) -> tuple[list[M], int]:
    """The records of the page ``paging`` asks for, and how many there are in all."""
    count = queryset.count()
    start = paging.offset
    return list(queryset[start : start + paging.limit]), count
