"""The page where a person makes and revokes their own API tokens (``/api/tokens/``).

A new token is shown once, in the response that made it (rendered, not redirected), as a
check-in link is; afterwards only its name, first characters and dates are shown.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonfactors_web.api import services
from commonfactors_web.api.forms import TokenForm
from commonfactors_web.api.v1 import api


@require_GET
def api_index(request: HttpRequest) -> JsonResponse:
    """``/api/v1/`` itself: where the schema is and where tokens are made (no token needed,
    no data)."""
    return JsonResponse(
        {
            "title": api.title,
            "version": api.version,
            "schema": request.build_absolute_uri(reverse("api-v1:openapi-json")),
            "tokens": request.build_absolute_uri(reverse("api_tokens")),
        }
    )


def _page(request: HttpRequest, form: TokenForm, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "tokens": services.tokens_of(request.user),
            "schema_url": request.build_absolute_uri(reverse("api-v1:openapi-json")),
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, TokenForm())
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    try:
        new = services.create_token(
            request.user, form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
    except services.TokenError as exc:
        for problem in exc.problems:
            form.add_error(None, problem)
        return _page(request, form, status=422)
    # Rendered, not redirected: the token exists in clear only in this response.
    return render(
        request,
        "api/token_created.html",
        {
            "token": new.token,
            "secret": new.secret,
            "base_url": request.build_absolute_uri("/api/v1/"),
        },
    )


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = services.tokens_of(request.user).filter(pk=token_id).first()
    if token is None:
        raise Http404("no such token")
    services.revoke_token(token, request.user)
    messages.success(request, f"The token “{token.name}” was revoked; it no longer works.")
    return redirect("api_tokens")
