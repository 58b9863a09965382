"""A report's table as an XLSX workbook: the rows as the page shows them, numbers as numbers.

The first sheet holds the table (header row frozen, labels in the reader's
language, durations in hours, shares in percent); the second says what it
is: the report, its period, when it was exported (the city's time zone).
A report's table is small (groups, not tickets), so it is written in memory.
"""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import xlsxwriter  # type: ignore[import-untyped]

from komunikator.engine.compiled import CompiledTenant
from komunikator.web.staff.i18n import translations
from komunikator.web.staff.report_view import ReportView

#: Excel's limit on a sheet's name.
_SHEET_NAME = 31


def workbook(view: ReportView, tenant: CompiledTenant, language: str, now: datetime) -> bytes:
    """The XLSX bytes of `view`."""
    t = translations(language)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet(t.gettext("Statistics")[:_SHEET_NAME])
    headers = view.dimensions + view.measures
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
        sheet.set_column(col, col, max(12, min(40, len(header) + 2)))
    for r, row in enumerate(view.rows, start=1):
        for col, label in enumerate(row.labels):
            sheet.write_string(r, col, label)
        for col, cell in enumerate(row.cells, start=len(row.labels)):
            if cell.number is None:
                sheet.write_blank(r, col, None)
            else:
                sheet.write_number(r, col, cell.number)
    sheet.freeze_panes(1, 0)
    about = book.add_worksheet(t.gettext("About")[:_SHEET_NAME])
    local = now.astimezone(ZoneInfo(tenant.config.time_zone))
    for r, (key, value) in enumerate([
        (t.gettext("Statistics"), view.title),
        (t.gettext("Description"), view.description),
        (t.gettext("Period"), view.period),
        (t.gettext("Exported at"), local.strftime("%Y-%m-%d %H:%M %Z")),
        (t.gettext("Rows counted"), str(view.total)),
    ]):
        about.write_string(r, 0, key, bold)
        about.write_string(r, 1, value)
    about.set_column(0, 0, 18)
    about.set_column(1, 1, 80)
    book.close()
    return out.getvalue()


__all__ = ["workbook"]
