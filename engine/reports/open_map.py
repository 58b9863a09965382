"""The dashboard's map of open tickets: clustered in the database, never a million pins.

Open tickets the reader may see are grouped by a small square of the map
(about 440 m × 560 m in Poland); each group is one marker at its tickets'
mean position, named by its count. The page draws them with Leaflet — a
cluster marker per group, sized by count, or as a heatmap, each square
shaded by its count — and lists the largest beside the map, so the map is
never the only way to read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.reports.sql import Statement, visibility
from komunikator.engine.runtime.views import UserView
from komunikator.engine.store import db
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: Squares per degree: 1/250° of latitude, 1/125° of longitude.
LAT_STEPS, LON_STEPS = 250, 125
#: At most this many markers (the largest groups).
MAX_MARKERS = 800


@dataclass(frozen=True)
class Cluster:
    """Open tickets close together: how many, and where (their mean position)."""

    count: int
    lat: float
    lon: float
    #: the square: its south-west corner in steps of 1/LAT_STEPS° and 1/LON_STEPS°
    cell_lat: int = 0
    cell_lon: int = 0

    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The square's south-west and north-east corners (the heatmap's cell)."""
        return ((self.cell_lat / LAT_STEPS, self.cell_lon / LON_STEPS),
                ((self.cell_lat + 1) / LAT_STEPS, (self.cell_lon + 1) / LON_STEPS))


async def open_clusters(scope: TenantScope, tenant: CompiledTenant, user: UserView) -> list[Cluster]:
    """The groups of open tickets with a location that `user` may see, largest first."""
    client = db.connection()
    s = Statement(client.capabilities.dialect == "postgres")
    tid = s.value(scope.tenant_id)
    where = [f"t.tenant_id = {tid}", "t.public_status = 'open'", "t.lat IS NOT NULL", "t.lon IS NOT NULL",
             *visibility(s, tenant, user, "tickets", tid)]
    lat, lon = s.floor(f"t.lat * {LAT_STEPS}"), s.floor(f"t.lon * {LON_STEPS}")
    sql = (f"SELECT COUNT(*) AS n, AVG(t.lat) AS lat, AVG(t.lon) AS lon, {lat} AS cell_lat, {lon} AS cell_lon "  # noqa: S608
           "FROM tickets t "
           f"WHERE {' AND '.join(where)} GROUP BY {lat}, {lon} ORDER BY n DESC, lat, lon LIMIT {MAX_MARKERS}")
    async with transaction():
        client = db.connection()
        if s.postgres:
            await client.execute_script("SET LOCAL jit = off")  # see compute.run
        rows = await client.execute_query_dict(sql, s.params)
    return [Cluster(int(r["n"]), float(r["lat"]), float(r["lon"]), int(r["cell_lat"]), int(r["cell_lon"]))
            for r in rows]


__all__ = ["MAX_MARKERS", "Cluster", "open_clusters"]
