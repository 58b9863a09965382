"""Where the data folders are and other process-wide settings.

Read from the environment (`KOMUNIKATOR_*`) once; the defaults point at the
repository's own `definitions/` and `tenants/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The repository (or installation) root: the folder holding `engine/`.
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Process-wide settings."""

    definitions_dir: Path
    tenants_dir: Path
    #: tenants answer on `<slug>.<base_domain>` besides their own hosts
    base_domain: str = "localhost"

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from `KOMUNIKATOR_DEFINITIONS`, `KOMUNIKATOR_TENANTS`, `KOMUNIKATOR_BASE_DOMAIN`."""
        return cls(
            definitions_dir=Path(os.environ.get("KOMUNIKATOR_DEFINITIONS", REPO_ROOT / "definitions")),
            tenants_dir=Path(os.environ.get("KOMUNIKATOR_TENANTS", REPO_ROOT / "tenants")),
            base_domain=os.environ.get("KOMUNIKATOR_BASE_DOMAIN", "localhost"),
        )

    def tenant_dirs(self) -> list[Path]:
        """Every tenant folder (one with YAML in it), sorted by slug."""
        if not self.tenants_dir.is_dir():
            return []
        return sorted(
            p for p in self.tenants_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
        )
