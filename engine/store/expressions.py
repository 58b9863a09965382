"""Query expressions for refining a scope's querysets (`scope.tickets().filter(Q(...))`), from the store.

Services and commands build queries from what `TenantScope` returns; the
expressions they need come from here so that Tortoise stays an inside
detail of `engine/store`.
"""

from __future__ import annotations

from tortoise.expressions import F, Q
from tortoise.functions import Count

__all__ = ["Count", "F", "Q"]
