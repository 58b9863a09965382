"""The staff pages' languages: Babel catalogs (`locale/<lang>/LC_MESSAGES/messages.po`), compiled once.

Messages are written in English in the templates and the code (`_("Sign in")`, `N_()` for
constants translated later); `pl` is the first language and every message must have a
Polish translation (`tests/browser/test_staff_i18n.py`). `./scripts/i18n` extracts the
messages and updates both catalogs; the catalogs are compiled in memory when first used.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup

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


def _markup_gettext(catalog: Translations) -> tuple[Callable[..., Markup], Callable[..., Markup]]:
    """`gettext` and `ngettext` for the templates, giving what Jinja's newstyle ones give under autoescape —
    the translation as Markup (our own catalogs), its %-placeholders filled with escaped values, always
    formatted — without their per-call context machinery, and each message's Markup made once (a ticket
    page asks for some forty of them)."""
    made: dict[str, Markup] = {}

    def gettext(message: str, /, **variables: Any) -> Markup:
        text = made.get(message)
        if text is None:
            text = made[message] = Markup(catalog.gettext(message))  # noqa: S704  (our catalog, not input)
        return text % variables

    def ngettext(singular: str, plural: str, num: int, /, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return Markup(catalog.ngettext(singular, plural, num)) % variables  # noqa: S704  (our catalog)

    return gettext, ngettext


def install_translations(env: jinja2.Environment, catalog: Translations) -> None:
    """`catalog` in `env`'s templates: Jinja's newstyle i18n (`{% trans %}`, `_`, `gettext`, `ngettext`,
    `pgettext`), with `_markup_gettext`'s faster `gettext` and `ngettext`."""
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    env.globals["gettext"], env.globals["ngettext"] = _markup_gettext(catalog)
    env.globals["_"] = env.globals["gettext"]


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
