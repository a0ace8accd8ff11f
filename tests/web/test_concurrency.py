"""200 check-ins submitted at once against the real (live) server, each sent twice by two
browsers racing each other: every check-in is stored exactly once and none is lost."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Signal
from commonfactors_web.checkins.models import Administration, CheckIn
from commonfactors_web.checkins.services import NewLink, create_checkin
from commonfactors_web.clients.models import Session
from commonfactors_web.clients.services import create_client

from .helpers import PHQ9_MILD

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 50
LINKS_PER_CLIENT = 4  # 200 check-ins; a client's four race each other for session numbers
WORKERS = 40


def submit(base_url: str, token: str) -> str:
    """One phone: open the link, send the PHQ-9; the outcome in one word."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    url = f"{base_url}/c/{token}/"
    try:
        page = opener.open(url, timeout=60).read().decode()
    except urllib.error.HTTPError as exc:
        return f"open-{exc.code}"
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if csrf is None:
        return "no-form"
    data = {"csrfmiddlewaretoken": csrf.group(1), "instrument": "phq9"}
    data |= {k: str(v) for k, v in PHQ9_MILD.items()}
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(data).encode(), headers={"Referer": url}
    )
    try:
        response = opener.open(request, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 302 and exc.headers["Location"].endswith("/c/done/"):
            return "stored"
        return f"submit-{exc.code}"
    return f"submit-{response.status}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_200_concurrent_check_ins_are_stored_exactly_once(
    live_server: Any, owner: User, plan: object, settings: Any
) -> None:
    settings.CF_BAD_TOKEN_ATTEMPTS = 10_000  # the losers of each race see "not available"
    links: list[NewLink] = []
    for n in range(CLIENTS):
        client = create_client(owner, f"R-{n:03d}")
        links += [
            create_checkin(client.episodes.get(), owner, ["phq9"]) for _ in range(LINKS_PER_CLIENT)
        ]
    tokens = [link.token for link in links for _ in range(2)]  # two phones at once, per link

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(lambda t: submit(live_server.url, t), tokens))

    counts = Counter(outcomes)
    assert counts["stored"] == 200, counts
    assert set(counts) <= {"stored", "open-404", "submit-404"}, counts  # no errors, no 500s
    assert Administration.objects.count() == 200
    assert CheckIn.objects.filter(used_at__isnull=True).count() == 0
    for checkin in CheckIn.objects.all():
        assert checkin.administrations.count() == 1
    for client_sessions in Session.objects.values_list("episode", flat=True).distinct():
        numbers = sorted(
            Session.objects.filter(episode=client_sessions).values_list("number", flat=True)
        )
        assert numbers == [1, 2, 3, 4]
    assert Signal.objects.count() == 200
