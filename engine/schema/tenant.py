"""`tenant:` — who the city is, where it is, how it looks."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

from komunikator.engine.schema.base import Id, Locale, LocalizedText, Strict, yaml_value

_DEFAULT_LOCALES: tuple[Locale, ...] = ("pl", "en")


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Warsaw") from None
    return value


def _pair(value: Any) -> Any:
    # `[51.85, 19.40]` is accepted for `{lat: 51.85, lon: 19.40}`.
    if isinstance(value, list) and len(value) == 2:
        return {"lat": value[0], "lon": value[1]}
    return value


class Point(Strict):
    """A WGS 84 point."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Bounds(Strict):
    """The area a city accepts reports in (a WGS 84 box)."""

    south: float = Field(ge=-90, le=90)
    west: float = Field(ge=-180, le=180)
    north: float = Field(ge=-90, le=90)
    east: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.south >= self.north or self.west >= self.east:
            raise ValueError("bounds must have south < north and west < east")
        return self

    def contains(self, point: Point) -> bool:
        """Whether a point lies inside the box (edges included)."""
        return self.south <= point.lat <= self.north and self.west <= point.lon <= self.east


class TileSource(Strict):
    """Where the maps' tiles come from: an office's own tile server, or a public one it may use."""

    url: str = Field(pattern=r"^https://[^\s\"'<>]+$", max_length=500,
                     description="tile URL template over https, e.g. https://tiles.example.pl/{z}/{x}/{y}.png")
    #: the credit the tile provider requires, shown on the map (e.g. "© OpenStreetMap contributors")
    attribution: str = Field(min_length=1, max_length=300)


class MapSettings(Strict):
    """Where the public map opens and what area reports may come from."""

    center: Annotated[Point, BeforeValidator(_pair)]
    zoom: int = Field(13, ge=1, le=19)
    bounds: Bounds
    tiles: TileSource | None = Field(
        None, description="the map tiles; without them maps show the pin on a plain background (no tile server)")

    @model_validator(mode="after")
    def _center_inside(self) -> MapSettings:
        c, b = self.center, self.bounds
        if not b.contains(c):
            message = (f"the map centre [{c.lat:g}, {c.lon:g}] (latitude, longitude) lies outside the bounds "
                       f"(south {b.south:g}, north {b.north:g}, west {b.west:g}, east {b.east:g})")
            if b.south <= c.lon <= b.north and b.west <= c.lat <= b.east:
                # the centre is written [lat, lon]; the bounds name their sides: either may be the swapped one
                message += (f"; latitude and longitude swapped? the centre [{c.lon:g}, {c.lat:g}] would lie inside "
                            "(or the bounds' south/north and west/east are swapped)")
            raise ValueError(message)
        return self


class Branding(Strict):
    """Colours and images of the portal and e-mails."""

    primary_color: str = Field("#1f5fa8", pattern=r"^#[0-9a-fA-F]{6}$")
    accent_color: str = Field("#f2a900", pattern=r"^#[0-9a-fA-F]{6}$")
    logo: str | None = Field(None, description="path of the logo, relative to the tenant folder")


class Contact(Strict):
    """How residents reach the office outside the portal."""

    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = None
    address: str | None = None
    website: str | None = None


class DayOff(Strict):
    """A day the office does not work though it is no public holiday."""

    date: dt.date
    reason: str


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _clock(value: Any) -> str:
    """A local time of day as `H:MM` (7:30, 15:30)."""
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{yaml_value(value)} is not a time of day: write H:MM, e.g. \"7:30\" or \"15:30\"")
    return f"{int(match.group(1))}:{match.group(2)}"


Clock = Annotated[
    str,
    BeforeValidator(_clock),
    WithJsonSchema({"type": "string", "pattern": _CLOCK.pattern, "description": "a time of day, `H:MM`"}),
]


class OfficeHours(Strict):
    """When the office works on a working day (local time); SLA pauses are counted in this time."""

    opens: Clock = Field("7:30", description="opening time, `H:MM`")
    closes: Clock = Field("15:30", description="closing time, `H:MM`")

    @model_validator(mode="after")
    def _opens_first(self) -> OfficeHours:
        if not self.opening < self.closing:
            raise ValueError(f"the office must open before it closes, got {self.opens}–{self.closes}")
        return self

    @property
    def opening(self) -> dt.time:
        """`opens` as a time."""
        hour, minute = self.opens.split(":")
        return dt.time(int(hour), int(minute))

    @property
    def closing(self) -> dt.time:
        """`closes` as a time."""
        hour, minute = self.closes.split(":")
        return dt.time(int(hour), int(minute))


class GeographyFiles(Strict):
    """The city's shapes: GeoJSON files in the tenant folder, longitude/latitude in WGS84 (engine/geo/)."""

    boundary: str = Field(
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.(geojson|json)$",
        description="the city's boundary: a Polygon or MultiPolygon (a Feature or a one-feature collection); "
        "reports with a pin outside it are refused",
    )
    districts: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.(geojson|json)$",
        description="its districts (osiedla, sołectwa): a FeatureCollection of polygons, each with properties "
        "`id` (a name in snake_case), `name` (text, or {pl: …, en: …}) and optionally `kind`; each inside the "
        "boundary; a report is marked with the district its pin lies in",
    )


class TenantConfig(Strict):
    """The `tenant:` section (one per city, in `tenant.yaml`)."""

    slug: Id = Field(description="short name, equal to the tenant's folder name")
    name: LocalizedText
    number_prefix: str = Field(pattern=r"^[A-Z]{2,4}$", description="ticket number prefix: ZG → ZG-2026-000123")
    hosts: list[str] = Field(default_factory=list, description="domains served besides SLUG.<base domain>")
    locale: Locale = "pl"
    locales: list[Locale] = Field(default_factory=lambda: list(_DEFAULT_LOCALES))
    time_zone: Annotated[str, AfterValidator(_check_zone)] = "Europe/Warsaw"
    map: MapSettings
    branding: Branding = Branding()
    plugins: list[Id] = Field(default_factory=list, description="enabled plugins")
    contact: Contact = Contact()
    days_off: list[DayOff] = Field(default_factory=list)
    office_hours: OfficeHours = Field(
        OfficeHours(),
        description="the office's hours on working days (default 7:30–15:30); "
        "an SLA pause moves deadlines by the office time it lasted",
    )
    digest_hour: int = Field(7, ge=0, le=23, description="local hour of the staff's daily digest")
    max_attachments: int = Field(5, ge=0, le=20)
    geography: GeographyFiles | None = Field(
        None, description="the city's boundary and districts as GeoJSON files in its folder (optional)"
    )
    reporter_link_days: int = Field(
        30, ge=1, le=365,
        description="days the reporter's link in an e-mail stays valid (it also stops when the ticket closes)",
    )

    @model_validator(mode="after")
    def _default_locale_enabled(self) -> TenantConfig:
        if self.locale not in self.locales:
            raise ValueError(f"locale {self.locale!r} must be one of locales {self.locales}")
        return self
