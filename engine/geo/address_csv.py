"""Address points from a CSV in the layout of Poland's PRG point-address exports (EMUiA), checked row by row.

The columns read (names compared without case and without `_`, so `NUMER_PORZADKOWY`
and `numerPorzadkowy` are one; any other column is ignored):

| column | holds | required |
| --- | --- | --- |
| `MIEJSCOWOSC` | the place (town, village) | yes |
| `ULICA` | the street, empty in a village without streets | no |
| `NUMER_PORZADKOWY` | the house number: `12`, `12A`, `12/14`, `5a/1` | yes |
| `KOD_POCZTOWY` | the postcode, `NN-NNN` | no |
| `X`, `Y` | PUWG 1992 (EPSG:2180) metres: X northing, Y easting, as PRG gives them | one pair |
| `SZEROKOSC`, `DLUGOSC` (or `LAT`, `LON`) | WGS84 degrees | of the two |
| `STATUS` | rows whose status is given and is not `istniejacy`/`istniejący` are skipped | no |
| `PA_IIP_IDENTYFIKATOR` (or `IIP`, `ID`) | the register's identifier of the point (Open311's `address_id`) | no |

The separator is `;` (PRG's) or `,`, found from the header line; the file is
UTF-8 (a BOM is fine); decimals may use a comma. Errors name the line of the
file (the header is line 1); a street and number given twice is an error at
the second. Reading stops at nothing: every bad row is reported.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from komunikator.engine.geo.projection import puwg1992_to_wgs84

_NUMBER = re.compile(r"^\d{1,5}[A-Za-z]{0,2}(?:[/-]\d{1,5}[A-Za-z]{0,2})?$")
_POSTCODE = re.compile(r"^\d{2}-\d{3}$")
#: the street's kind written before its name, left out of the search key
_KINDS = re.compile(r"^(?:ul\.?|ulica|al\.?|aleja|aleje|pl\.?|plac|os\.?|osiedle|rondo|skwer)\s+", re.IGNORECASE)
_EXISTING = {"istniejacy", "istniejący", ""}
#: Columns by their folded names.
COLUMNS = {
    "place": ("miejscowosc",),
    "street": ("ulica",),
    "number": ("numerporzadkowy", "numer"),
    "postcode": ("kodpocztowy",),
    "x": ("x",),
    "y": ("y",),
    "lat": ("szerokosc", "lat", "latitude"),
    "lon": ("dlugosc", "lon", "longitude"),
    "status": ("status",),
    "ref": ("paiipidentyfikator", "iipidentyfikator", "iip", "id"),
}
#: the longest identifier kept (PRG's are about 30 characters)
REF_LENGTH = 100


def fold(text: str) -> str:
    """Lower case without diacritics (ł → l): how names are compared and searched."""
    text = text.strip().lower().replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def street_key(street: str | None, place: str) -> str:
    """The search key of an address's street: its name folded, without `ul.`; the place's name without a street."""
    name = _KINDS.sub("", (street or "").strip()) or place
    return " ".join(fold(name).split())


def number_key(number: str) -> str:
    """The house number folded for prefix search (`12A` → `12a`)."""
    return fold(number).replace(" ", "")


def address_label(place: str, street: str | None, number: str) -> str:
    """How an address is written: `ul. Długa 5, Zgierz`, or `Rynia 12` in a village without streets."""
    return f"{street} {number}, {place}" if street else f"{place} {number}"


@dataclass(frozen=True)
class AddressRow:
    """One address point read from the file."""

    line: int
    place: str
    street: str | None
    number: str
    postcode: str | None
    lat: float
    lon: float
    #: the register's identifier of the point, when the file has the column
    ref: str | None = None

    @property
    def label(self) -> str:
        """How the address is written (`address_label`)."""
        return address_label(self.place, self.street, self.number)


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be taken, with why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _header(names: list[str]) -> dict[str, int]:
    folded = [re.sub(r"[^a-z0-9]", "", fold(n)) for n in names]
    return {field: folded.index(alias) for field, aliases in COLUMNS.items() for alias in aliases if alias in folded}


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", ".").replace(" ", ""))
    except ValueError:
        return None


def read_addresses(
    text: str, inside: Callable[[float, float], bool], *, progress: Callable[[int], None] | None = None,
) -> tuple[list[AddressRow], list[BadRow]]:
    """Every address of the file, and every bad row (with its line); `inside(lat, lon)` says a point is the city's."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        names = next(reader)
    except StopIteration:
        return [], [BadRow(1, "the file is empty: expected a header line")]
    columns = _header(names)
    labels = {"place": "MIEJSCOWOSC", "number": "NUMER_PORZADKOWY"}
    missing = [label for field, label in labels.items() if field not in columns]
    has_xy, has_degrees = {"x", "y"} <= columns.keys(), {"lat", "lon"} <= columns.keys()
    if not has_xy and not has_degrees:
        missing.append("X and Y (PUWG 1992) or SZEROKOSC and DLUGOSC (WGS84)")
    if missing:
        return [], [BadRow(1, f"the header lacks {', '.join(missing)} (found: {', '.join(names) or 'nothing'})")]
    rows: list[AddressRow] = []
    bad: list[BadRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    refs: dict[str, int] = {}
    for row, line in _numbered(reader):
        if progress is not None:
            progress(line)
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        got = _row(row, line, columns, has_xy, inside)
        if isinstance(got, BadRow):
            bad.append(got)
            continue
        if got is None:
            continue  # not an existing address (STATUS)
        key = (fold(got.place), street_key(got.street, got.place), number_key(got.number))
        if key in seen:
            bad.append(BadRow(line, f"{got.label} is given twice (first on line {seen[key]})"))
            continue
        if got.ref is not None and got.ref in refs:
            bad.append(BadRow(line, f"the identifier {got.ref!r} is given twice (first on line {refs[got.ref]})"))
            continue
        seen[key] = line
        if got.ref is not None:
            refs[got.ref] = line
        rows.append(got)
    return rows, bad


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[list[str], int]]:
    line = 1
    for row in reader:
        line = getattr(reader, "line_num", line + 1)
        yield row, line


def _row(row: list[str], line: int, columns: dict[str, int], has_xy: bool,
         inside: Callable[[float, float], bool]) -> AddressRow | BadRow | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    if fold(cell("status")) not in _EXISTING and "status" in columns:
        return None
    place, street, number, postcode = cell("place"), cell("street") or None, cell("number"), cell("postcode") or None
    if not place:
        return BadRow(line, "MIEJSCOWOSC is empty")
    ref = cell("ref") or None
    if ref is not None and (len(ref) > REF_LENGTH or not ref.isprintable()):
        return BadRow(line, f"the identifier {ref[:40]!r} is not one (at most {REF_LENGTH} printable characters)")
    if not _NUMBER.match(number):
        return BadRow(line, f"{number!r} is not a house number (12, 12A, 12/14)")
    if postcode is not None and not _POSTCODE.match(postcode):
        return BadRow(line, f"{postcode!r} is not a postcode (NN-NNN)")
    if has_xy:
        x, y = _number(cell("x")), _number(cell("y"))
        if x is None or y is None:
            return BadRow(line, f"X {cell('x')!r} and Y {cell('y')!r} must be numbers (metres, PUWG 1992)")
        if not (0 < x < 1_000_000 and 0 < y < 1_000_000):
            return BadRow(line, f"X {x:g}, Y {y:g} are not PUWG 1992 metres (Poland lies within about "
                                f"X 120000–800000, Y 140000–880000)")
        lat, lon = puwg1992_to_wgs84(x, y)
        if not inside(lat, lon) and inside(*puwg1992_to_wgs84(y, x)):
            return BadRow(line, f"X {x:g} and Y {y:g} look swapped: in PUWG 1992 X is the northing, Y the easting")
    else:
        got_lat, got_lon = _number(cell("lat")), _number(cell("lon"))
        if got_lat is None or got_lon is None or not (-90 <= got_lat <= 90 and -180 <= got_lon <= 180):
            return BadRow(line, f"SZEROKOSC {cell('lat')!r} and DLUGOSC {cell('lon')!r} must be WGS84 degrees")
        lat, lon = got_lat, got_lon
        if not inside(lat, lon) and inside(lon, lat):
            return BadRow(line, f"SZEROKOSC {lat:g} and DLUGOSC {lon:g} look swapped")
    if not inside(lat, lon):
        return BadRow(line, f"{street or place} {number} lies outside the city ({lat:.5f}, {lon:.5f})")
    return AddressRow(line, place, street, number, postcode, round(lat, 7), round(lon, 7), ref)
