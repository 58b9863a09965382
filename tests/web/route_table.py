"""Every route an app serves, for the tests that must cover all of them (isolation, audit, bad input).

FastAPI (0.16x) keeps included routers as nested route objects, so `app.routes`
alone lists only the app's own routes; this walks into included routers and
cross-checks the result against the OpenAPI schema, so a route is missed by
neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

#: Routes of the documentation (FastAPI's own; `web/api_docs.py` serves /docs and its files under /docs/).
DOC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
#: The staff workspace's HTML pages (web/staff/): not the JSON API these tests cover; they call the same
#: service and have their own tests (tests/web/test_staff_pages.py, tests/browser/).
STAFF_PAGES = "/staff"
#: The reporter's page (web/reporter_links/, HTML): the same service as `/api/v1/reporter-links/…`, whose
#: routes these tests cover; the page has its own tests (tests/web/test_reporter_link_page.py).
REPORTER_PAGE = "/odpowiedz/"
#: The resident portal (web/portal/, HTML): the same services as the JSON API; its pages have their own tests,
#: including another city's numbers on every page with a path parameter (tests/web/test_portal_reports.py) and
#: the accounts' pages (tests/web/test_resident_accounts.py).
PORTAL_PAGES = ("/zglos", "/zgloszenia", "/mapa", "/t/", "/potwierdz-adres/", "/konto", "/static/", "/sw.js",
                "/sw-push.js", "/manifest.webmanifest", "/icon", "/offline")


def portal_page(path: str) -> bool:
    """Whether `path` is one of the portal's pages (its home page `/` included)."""
    return path == "/" or path.startswith(PORTAL_PAGES)


def _walk(routes: Iterable[Any], prefix: str) -> Iterator[tuple[str, str]]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(included.routes, prefix + (getattr(context, "prefix", "") or ""))
            continue
        path = getattr(route, "path", None)
        for method in getattr(route, "methods", None) or ():
            if path is not None and method != "HEAD":
                yield method, prefix + path


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(METHOD, path template) of every route, documentation routes left out."""
    walked = {(m, p) for m, p in _walk(app.routes, "")
              if p not in DOC_PATHS and not p.startswith(("/docs/", STAFF_PAGES, REPORTER_PAGE)) and not portal_page(p)}
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    missing = documented - walked
    assert not missing, f"the route walker missed {sorted(missing)}: FastAPI changed how it nests routers"
    return walked


def page_routes(app: Any, prefixes: tuple[str, ...]) -> set[tuple[str, str]]:
    """(METHOD, path template) of the HTML pages under `prefixes` (which `app_routes` leaves out)."""
    return {(m, p) for m, p in _walk(app.routes, "") if p.startswith(prefixes)}


def path_params(path: str) -> list[str]:
    """The names of a path template's parameters, in order."""
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def fill(path: str, **values: str) -> str:
    """A path template with its parameters replaced (a `/` inside a value is escaped)."""
    for name in path_params(path):
        path = path.replace("{" + name + "}", values[name].replace("/", "%2F"))
    return path
