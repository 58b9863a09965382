"""The store: tickets and everything around them in SQLite or PostgreSQL (Tortoise ORM).

Modules, one job each:

- `models`     the tables; every one but `tenants` carries `tenant_id`
- `scope`      `TenantScope`: the only way to query them (plus the tenant
               registry: `create_tenant`, `ensure_tenant`, `tenant_by_slug`)
- `numbering`  gap-free public ticket numbers (`ZG-2026-000123`)
- `db`         configuration, `init`/`close`, `upgrade`/`status` (migrations)
- `extras`     what the ORM does not model (append-only triggers), recreated by `upgrade`
- `runner`     `StoreRunner`: run store coroutines from sync code (CLI, Celery)
- `introspect` indexes and triggers as the database sees them
- `errors`     `NotFound`, `CrossTenant`, `StaleVersion`
- `testing`    the pytest plugin behind the `db` fixtures
"""
