"""All tenants of a deployment, compiled once at start-up and found by host.

The Host header picks the city: `<slug>.<base domain>` (e.g.
`zgierz.localhost` in development) or one of the hosts listed in the
tenant's `tenant.yaml`. An unknown host finds nothing — never another city.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import check_tenant, load_library
from komunikator.engine.config.registry import Registry
from komunikator.engine.errors import ConfigInvalid, ErrorList
from komunikator.engine.settings import Settings


@dataclass(frozen=True)
class TenantRegistry:
    """Compiled tenants by slug, and the hosts that lead to them."""

    tenants: Mapping[str, CompiledTenant]
    hosts: Mapping[str, str]
    base_domain: str

    @classmethod
    def load(cls, settings: Settings, registry: Registry | None = None) -> TenantRegistry:
        """Compile every tenant folder; raise ConfigInvalid listing every error if any fails."""
        errors = ErrorList()
        tenants: dict[str, CompiledTenant] = {}
        library = load_library(settings.definitions_dir)
        for folder in settings.tenant_dirs():
            compiled, found = check_tenant(folder, settings.definitions_dir, registry, library=library)
            errors.extend(found)
            if compiled is not None:
                tenants[compiled.slug] = compiled
        if errors:
            raise ConfigInvalid(errors)
        return cls.of(tenants.values(), settings.base_domain)

    @classmethod
    def of(cls, tenants: Iterable[CompiledTenant], base_domain: str) -> TenantRegistry:
        """A registry of already compiled tenants."""
        by_slug: dict[str, CompiledTenant] = {t.slug: t for t in tenants}
        hosts: dict[str, str] = {}
        for tenant in by_slug.values():
            hosts[f"{tenant.slug}.{base_domain}".lower()] = tenant.slug
            for host in tenant.config.hosts:
                hosts[host.lower()] = tenant.slug
        return cls(MappingProxyType(by_slug), MappingProxyType(hosts), base_domain)

    def for_host(self, host: str | None) -> CompiledTenant | None:
        """The tenant a Host header names (port ignored), or None."""
        if not host:
            return None
        name = host.strip().lower().rstrip(".")
        if name.startswith("["):  # IPv6 literal: never a tenant
            return None
        name = name.rsplit(":", 1)[0] if ":" in name else name
        slug = self.hosts.get(name)
        return self.tenants.get(slug) if slug else None
