"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import Depends, FastAPI

from komunikator.engine.delivery.embedded import EmbeddedRunner, jobs_mode
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.store.scope import ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web import errors
from komunikator.web.deps import refuse_nul_characters


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
    )
    app.state.tenants = registry
    app.state.tenant_ids = {}
    app.state.clock = clock
    errors.install(app)
    from komunikator.web.api import router  # the routes import the app's dependencies
    from komunikator.web.api_attachments import router as attachments_router
    from komunikator.web.auth import auth_router

    app.include_router(auth_router)
    app.include_router(router)
    app.include_router(attachments_router)
    return app


async def register_tenants(app: FastAPI) -> None:
    """Make sure every compiled tenant has its row; remember the ids."""
    registry: TenantRegistry = app.state.tenants
    for slug, tenant in registry.tenants.items():
        row = await ensure_tenant(slug, tenant.config.name.get("pl") or tenant.config.name.get("*") or slug)
        app.state.tenant_ids[slug] = row.id
