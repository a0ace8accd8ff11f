"""Unknown query parameters are problems too (a misspelt ``limt=5`` is named, never silently
ignored), reported with the request's other problems, at once.

Two decorators on every operation: before validation, the parameters the operation does not
declare are noted on the request (after the token is checked: a request without a token is
still a plain 401); the validation error handler adds them to its problems, and when the
rest of the request is valid they are refused just before the operation runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from commonfactors_web.api.errors import UNKNOWN_QUERY_ATTRIBUTE, InputError, unknown_query


def _declared(operation: Any) -> frozenset[str]:
    names: set[str] = set()
    for model in operation.models:
        if getattr(model, "__ninja_param_source__", None) == "query":
            names.update(getattr(model, "__ninja_flatten_map__", None) or model.model_fields)
    return frozenset(names)


def note_unknown(run: Callable[..., Any]) -> Callable[..., Any]:
    """View mode: wraps the operation's whole run (token check, validation, operation)."""
    operation = getattr(run, "__self__", None)
    if operation is None:  # django-ninja passes the operation's own bound ``run``
        raise ImproperlyConfigured("note_unknown must wrap an operation's run method")
    declared = _declared(operation)

    @wraps(run)
    def noted(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        setattr(
            request, UNKNOWN_QUERY_ATTRIBUTE, [name for name in request.GET if name not in declared]
        )
        return run(request, *args, **kwargs)

    return noted


def refuse_unknown(view: Callable[..., Any]) -> Callable[..., Any]:
    """Operation mode: runs after the token check and validation, before the operation."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        problems = unknown_query(request)
        if problems:
            raise InputError(problems)
        return view(request, *args, **kwargs)

    return checked
