"""The resident portal: each city's own site at `/` on its host (server-rendered Jinja2 + htmx, an installable PWA).

`install(app)` adds the pages and their static side. Modules: `context.py` (who is looking:
language, CSRF, resident), `rendering.py` (templates, headers), `nav.py` (navigation
providers), `icons.py`, `assets.py` (static files, manifest, icons, service worker, offline
page), `home.py` (`/`), `report_page.py` + `report_form.py` (`/zglos`), `public_pages.py` (`/zgloszenia`,
`/mapa`). Other parts of the portal (accounts under `/konto`) extend
`templates/base.html` and add their routers next to these. Plugins' pages (`/<plugin>`) and
the staff workspace (`/staff`) are separate routers; the portal claims only its own paths.
"""

from __future__ import annotations

from fastapi import FastAPI

from komunikator.web.portal import account, address_confirm_pages, assets, home, public_pages, report_page


def install(app: FastAPI) -> None:
    """Add the portal's pages to `app`."""
    app.include_router(assets.router)
    app.include_router(home.router)
    app.include_router(report_page.router)
    app.include_router(public_pages.router)
    app.include_router(address_confirm_pages.router)  # /potwierdz-adres/: the e-mailed confirmation links
    account.install(app)  # /konto: accounts, settings, privacy (web/portal/account.py)
    assets.install_static(app)
