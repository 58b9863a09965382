"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import Depends, FastAPI

from komunikator.engine.config.builtins import default_registry
from komunikator.engine.delivery.embedded import EmbeddedRunner, jobs_mode
from komunikator.engine.service import definition_changes
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.tenants import TenantRegistry
from komunikator.web import api_docs, errors, open311, plugins
from komunikator.web.api import router
from komunikator.web.api_addresses import router as addresses_router
from komunikator.web.api_attachments import router as attachments_router
from komunikator.web.api_exports import router as exports_router
from komunikator.web.api_lists import router as lists_router
from komunikator.web.api_privacy import router as privacy_router
from komunikator.web.api_reporter_links import router as reporter_links_router
from komunikator.web.auth import auth_router
from komunikator.web.deps import refuse_nul_characters
from komunikator.web.headers import SecurityHeaders
from komunikator.web.limits import BodyLimit
from komunikator.web.portal import install as install_portal_pages
from komunikator.web.reporter_links import install as install_reporter_page
from komunikator.web.staff import install as install_staff_pages
from komunikator.web.tenancy import register_tenants


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def create_app(
    tenants: TenantRegistry | None = None,
    *,
    database_url: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    init_database: bool = True,
) -> FastAPI:
    """Build the app: tenants compiled once, the database opened for the app's lifetime.

    `init_database=False` leaves Tortoise to the caller (tests that own the
    connection on their own event loop).
    """
    registry = tenants or TenantRegistry.load(Settings.from_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if init_database:
            await db.init(database_url, serving=True)
        jobs: EmbeddedRunner | None = None
        try:
            # open tickets in states (timers, units …) the configuration lost would answer 500: refuse to start
            await definition_changes.verify(registry, Settings.from_env().definitions_dir)
            await register_tenants(app)
            if jobs_mode(database_url) == "embedded":  # SQLite: deliver, fire timers, digest in-process
                jobs = app.state.jobs = EmbeddedRunner(registry, clock=clock)
                jobs.start()
            yield
        finally:
            if jobs is not None:
                await jobs.stop()
            if init_database:
                await db.close()

    app = FastAPI(
        title="Komunikator API",
        version="1",
        summary="Reports, tasks and notices between a city and its residents.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul_characters)],
        docs_url=None,  # FastAPI's pages load Swagger UI / ReDoc from a CDN: web/api_docs.py serves its own
        redoc_url=None,
    )
    app.state.tenants = registry
    app.state.tenant_ids = {}
    app.state.clock = clock
    errors.install(app)
    app.include_router(auth_router)
    app.include_router(router)
    app.include_router(attachments_router)
    app.include_router(lists_router)
    app.include_router(exports_router)
    app.include_router(privacy_router)
    app.include_router(reporter_links_router)
    app.include_router(addresses_router)
    open311.install(app)  # /open311/v2/ on every city's host; its errors in the spec's shape (web/open311/)
    api_docs.install(app)  # /docs with the vendored Swagger UI (KOMUNIKATOR_API_DOCS=off: none)
    install_staff_pages(app)  # the staff workspace's pages under /staff (web/staff/)
    install_reporter_page(app)  # /odpowiedz/{link}: the reporter's link from an e-mail (web/reporter_links/)
    app.include_router(plugins.home_router)
    install_portal_pages(app)  # the residents' site at / (web/portal/): after the plugins' and staff routes
    plugins.mount(app, default_registry().plugins.values())  # each plugin's API and pages, gated per city
    # The last added is the outermost: the headers reach every answer, the body limit's 413 too.
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    return app
