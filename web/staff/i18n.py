"""The staff pages' languages: Babel catalogs (`locale/<lang>/LC_MESSAGES/messages.po`), compiled once.

Messages are written in English in the templates and the code (`_("Sign in")`, `N_()` for
constants translated later); `pl` is the first language and every message must have a
Polish translation (`tests/browser/test_staff_i18n.py`). `./scripts/i18n` extracts the
messages and updates both catalogs; the catalogs are compiled in memory when first used.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("pl", "en")
DEFAULT_LANGUAGE = "pl"


def N_(message: str) -> str:  # noqa: N802  (the gettext convention for "translated later")
    """Mark a message for extraction without translating it here."""
    return message


@cache
def translations(language: str) -> Translations:
    """The compiled catalog of `language` (English messages stay as written when missing)."""
    return compile_catalog(LOCALE_DIR, language)


def compile_catalog(folder: Path, language: str) -> Translations:
    """`folder/<language>/LC_MESSAGES/messages.po` compiled in memory (no .mo files to keep in step);
    empty translations when there is no catalog. Plugins' pages load theirs with it too."""
    path = folder / language / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return Translations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick_language(wanted: str | None, offered: Sequence[str]) -> str:
    """`wanted` if the city and the catalogs offer it, else the city's first language we have."""
    available = [lang for lang in offered if lang in LANGUAGES] or [DEFAULT_LANGUAGE]
    return wanted if wanted in available else available[0]


def localized(texts: Mapping[Any, str] | None, language: str) -> str:
    """A YAML text in `language` (falls back to Polish, then to any)."""
    if not texts:
        return ""
    return texts.get(language) or texts.get("pl") or texts.get("*") or next(iter(texts.values()), "")


#: the staff pages' usual way of writing a moment: digits only, the same in every language
NUMERIC = "d.MM.yyyy, HH:mm"


def when(moment: datetime | str | None, language: str, zone: str, fmt: str = NUMERIC) -> str:
    """A moment in the city's time zone, written the way `language` writes it (Babel; the all-digit
    `NUMERIC` pattern is written directly, as Babel writes it: a page shows a dozen of them)."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(ZoneInfo(zone))
    if fmt == NUMERIC:
        return f"{local.day}.{local.month:02d}.{local.year:04d}, {local.hour:02d}:{local.minute:02d}"
    return format_datetime(local, fmt, locale=language)
