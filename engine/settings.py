"""Where the data folders are and other process-wide settings.

Read from the environment (`KOMUNIKATOR_*`) once; the defaults point at the
repository's own `definitions/` and `tenants/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
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


# -- reading numbers and choices from the environment (every KOMUNIKATOR_* setting goes through these) ----------


def env_number(name: str, default: float, *, minimum: float = 0.0, whole: bool = False,
               env: Mapping[str, str] | None = None) -> float:
    """`name` from the environment as a number (`default` when unset or blank); ValueError naming the variable,
    the value and what it must be when malformed or below `minimum`."""
    raw = (os.environ if env is None else env).get(name)
    if raw is None or not raw.strip():
        return default
    what = "a whole number" if whole else "a number"
    try:
        value = float(int(raw)) if whole else float(raw)
    except ValueError:
        raise ValueError(f"{name} must be {what} ≥ {minimum:g}, not {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be {what} ≥ {minimum:g}, not {raw!r}")
    return value


def env_int(name: str, default: int, *, minimum: int = 0, env: Mapping[str, str] | None = None) -> int:
    """`env_number` for whole numbers."""
    return int(env_number(name, default, minimum=minimum, whole=True, env=env))


def env_choice(name: str, default: str, choices: Iterable[str], env: Mapping[str, str] | None = None) -> str:
    """`name` from the environment, lower-cased, one of `choices` (`default` when unset or blank)."""
    raw = (os.environ if env is None else env).get(name, "").strip().lower() or default
    options = tuple(choices)
    if raw not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, not {raw!r}")
    return raw
