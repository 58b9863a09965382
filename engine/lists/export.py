"""Exports of exactly what a view shows: CSV and XLSX, streamed, audited.

Both read the view page by page (`query.rows`, keyset), so memory stays flat
however many rows there are:

- **CSV** (UTF-8 with a BOM, so spreadsheets read Polish letters) is written
  row by row into the response. A text cell starting with `=`, `+`, `-`, `@`
  (or a tab or carriage return) gets a leading `'`, so no spreadsheet runs it
  as a formula (CSV injection); numbers are written as numbers.
- **XLSX** is written by xlsxwriter in `constant_memory` mode (each row goes
  to disk as it is written) into a temporary file, then streamed in chunks and
  removed. Columns and their order are the view's, headings in the user's
  language, moments in the city's time zone as dates, numbers as numbers, the
  heading row frozen, and a second sheet describes the filter, the sort, the
  time of the export and the number of rows. Text is always written as text
  (`write_string`), never as a formula.

Every export writes an audit row (`list_export`: who, which list, the filter,
sort and columns, the format and how many rows), personal data being a
data-protection matter.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import anyio
import xlsxwriter  # type: ignore[import-untyped]

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.lists import query
from komunikator.engine.lists.filters import description, text_in
from komunikator.engine.lists.view import View, cell_function, cell_text, label, local
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.apply import audit
from komunikator.engine.store.scope import TenantScope

#: What a text cell may not start with in a CSV (OWASP's list: formulas, and tab / CR that hide them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024
#: A background export reports its rows every so many.
PROGRESS_EVERY = 1000
#: Told the rows written so far (a background export's progress).
Progress = Callable[[int], Awaitable[None]]
_SHEET_TITLE = {"pl": "Widok", "en": "View"}
_ABOUT = {"pl": ("O eksporcie", "Lista", "Filtr", "Sortowanie", "Wyeksportowano", "Wierszy", "(bez filtra)"),
          "en": ("About", "List", "Filter", "Sort", "Exported", "Rows", "(no filter)")}


def neutralised(text: str) -> str:
    """`text` safe for a spreadsheet cell in a CSV: a leading `'` if it could start a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _sort_words(view: View, language: str) -> str:
    arrows = {"pl": (" rosnąco", " malejąco"), "en": (" ascending", " descending")}[language]
    return ", ".join(label(k.column, language) + arrows[k.descending] for k in view.sort)


async def _audit(scope: TenantScope, user: UserView, view: View, kind: str, rows: int, now: datetime,
                 complete: bool, background: int | None = None) -> None:
    after: dict[str, Any] = {
        "list": view.spec.name, "format": kind, "filter": dict(view.filter.document),
        "sort": query.sort_text(view.sort), "columns": [c.key for c in view.columns], "rows": rows,
        "complete": complete}
    if background is not None:
        after["export_id"] = background  # written by the background job (engine/lists/jobs.py)
    await audit(scope, None, user, "list_export", {}, after, now)


async def audit_export(scope: TenantScope, user: UserView, view: View, kind: str, rows: int, now: datetime,
                       complete: bool, export_id: int) -> None:
    """The audit row of a background export, as an inline one's (who, list, filter, sort, columns, rows)."""
    await _audit(scope, user, view, kind, rows, now, complete, export_id)


async def _csv_chunks(scope: TenantScope, tenant: CompiledTenant, user: UserView, view: View, now: datetime,
                      language: str, counted: list[int], progress: Progress | None = None) -> AsyncIterator[bytes]:
    """The CSV's bytes, a batch of rows at a time; `counted[0]` is the rows so far."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralised(label(c, language)) for c in view.columns])
    yield ("\ufeff" + buffer.getvalue()).encode()
    buffer.seek(0)
    buffer.truncate()
    async for row in query.rows(scope, tenant, user, view.spec, view.filter, view.sort, view.columns, now=now):
        writer.writerow([_csv_cell(c, v, tenant, language) for c, v in zip(view.columns, row.values, strict=True)])
        counted[0] += 1
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if progress is not None and counted[0] % PROGRESS_EVERY == 0:
            await progress(counted[0])
    if buffer.tell():
        yield buffer.getvalue().encode()


async def csv_stream(scope: TenantScope, tenant: CompiledTenant, user: UserView, view: View, now: datetime,
                     language: str) -> AsyncIterator[bytes]:
    """The view as CSV, a batch of rows at a time; audited when done (or cut off)."""
    counted = [0]
    complete = False
    try:
        async for chunk in _csv_chunks(scope, tenant, user, view, now, language, counted):
            yield chunk
        complete = True
    finally:
        await _audit(scope, user, view, "csv", counted[0], now, complete)


async def write_csv(path: str, scope: TenantScope, tenant: CompiledTenant, user: UserView, view: View,
                    now: datetime, language: str, progress: Progress | None = None) -> int:
    """Write the view's CSV to `path` (a background export); how many rows it holds."""
    counted = [0]
    with open(path, "wb") as out:  # noqa: PTH123 - a local file, written a chunk at a time
        async for chunk in _csv_chunks(scope, tenant, user, view, now, language, counted, progress):
            out.write(chunk)
    return counted[0]


def _csv_cell(column: Any, value: Any, tenant: CompiledTenant, language: str) -> str:
    if column.render == "number" and value is not None:
        return str(value)
    if column.render == "datetime" and value is not None:
        return local(value, tenant).strftime("%Y-%m-%d %H:%M:%S")  # ISO in exports (UI.md §7)
    return neutralised(cell_text(column, value, tenant, language))


async def xlsx_stream(scope: TenantScope, tenant: CompiledTenant, user: UserView, view: View, now: datetime,
                      language: str) -> AsyncIterator[bytes]:
    """The view as an XLSX workbook: written with constant memory to a temporary file, then streamed."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="komunikator-export-")
    os.close(handle)
    count = 0
    complete = False
    try:
        count = await write_xlsx(path, scope, tenant, user, view, now, language)
        with open(path, "rb") as out:  # noqa: PTH123 - a local temporary file, read in chunks
            while chunk := out.read(CHUNK):
                yield chunk
        complete = True
    finally:
        os.unlink(path)  # noqa: PTH108
        await _audit(scope, user, view, "xlsx", count, now, complete)


async def write_xlsx(path: str, scope: TenantScope, tenant: CompiledTenant, user: UserView, view: View,
                     now: datetime, language: str, progress: Progress | None = None) -> int:
    """Write the view's workbook to `path`; how many rows it holds."""
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False, "remove_timezone": True})
    bold = book.add_format({"bold": True})
    when = book.add_format({"num_format": "dd.mm.yyyy hh:mm" if language == "pl" else "yyyy-mm-dd hh:mm"})
    sheet = book.add_worksheet(text_in(view.spec.label, language)[:31] or _SHEET_TITLE[language])
    sheet.freeze_panes(1, 0)
    for n, column in enumerate(view.columns):
        sheet.set_column(n, n, 20 if column.render == "datetime" else 16)
        sheet.write_string(0, n, label(column, language), bold)
    count = 0
    cells = [cell_function(c, tenant, language) for c in view.columns]
    write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
    async for row in query.rows(scope, tenant, user, view.spec, view.filter, view.sort, view.columns, now=now):
        count += 1
        for n, value in enumerate(row.values):
            shown = cells[n](value)
            if shown is None:
                continue
            if isinstance(shown, str):
                write_string(count, n, shown)
            elif isinstance(shown, datetime):
                write_datetime(count, n, shown, when)
            elif isinstance(shown, (int, float)) and not isinstance(shown, bool):
                write_number(count, n, shown)
            else:
                write_string(count, n, str(shown))
        if progress is not None and count % PROGRESS_EVERY == 0:
            await progress(count)
    words = _ABOUT[language]
    about = book.add_worksheet(words[0])
    about.set_column(0, 0, 18)
    about.set_column(1, 1, 80)
    lines: list[tuple[str, Any]] = [
        (words[1], text_in(view.spec.label, language)),
        (words[2], description(view.filter, tenant, language) or words[6]),
        (words[3], _sort_words(view, language)),
        (words[4], local(now, tenant)),
        (words[5], count),
    ]
    for n, (name, value) in enumerate(lines):
        about.write_string(n, 0, name, bold)
        if isinstance(value, datetime):
            about.write_datetime(n, 1, value, when)
        elif isinstance(value, int):
            about.write_number(n, 1, value)
        else:
            about.write_string(n, 1, value)
    await anyio.to_thread.run_sync(book.close)
    return count


__all__ = ["FORMULA_STARTS", "PROGRESS_EVERY", "Progress", "audit_export", "csv_stream", "neutralised", "write_csv",
           "write_xlsx", "xlsx_stream"]
