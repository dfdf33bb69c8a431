"""Spreadsheet exports without formula injection, for every model (security review F15).

Connectors put supplier text (vendor names, references, reasons) in Odoo verbatim; once
exported, a cell such as ``=HYPERLINK(...)`` or ``@SUM(...)`` must stay text.  This
overrides Odoo's own export controllers (``/web/export/csv`` and ``/web/export/xlsx``,
used by the web client's *Export* for any model), so it holds for all models:

- CSV: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  gets a leading apostrophe (Odoo itself only escapes the first three);
- XLSX: every text cell is written as a string cell (``write_string``), never through
  xlsxwriter's guessing ``write`` that turns ``=...`` into a live formula and
  ``http://...`` into a link.  The text is kept as it is.
"""

from odoo.addons.web.controllers.export import CSVExport
from odoo.addons.web.controllers.export import ExcelExport
from odoo.addons.web.controllers.export import ExportXlsxWriter
from odoo.addons.web.controllers.export import GroupExportXlsxWriter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """``value`` safe for a spreadsheet cell read from CSV (text only)."""
    if isinstance(value, bytes):
        try:
            value = value.decode()
        except UnicodeDecodeError:
            return value
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _TextCellsMixin:
    def write(self, row, column, cell_value, style=None):
        if isinstance(cell_value, str):
            # a text cell, always: never a formula, a link or a number
            self.worksheet.write_string(row, column, cell_value, style)
            return
        super().write(row, column, cell_value, style)


class TextCellsXlsxWriter(_TextCellsMixin, ExportXlsxWriter):
    pass


class TextCellsGroupXlsxWriter(_TextCellsMixin, GroupExportXlsxWriter):
    pass


class HcCSVExport(CSVExport):
    def from_data(self, fields, columns_headers, rows):
        rows = [[neutralise(value) for value in row] for row in rows]
        return super().from_data(fields, columns_headers, rows)


class HcExcelExport(ExcelExport):
    def from_group_data(self, fields, columns_headers, groups):
        with TextCellsGroupXlsxWriter(fields, columns_headers, groups.count) as xlsx_writer:
            x, y = 1, 0
            for group_name, group in groups.children.items():
                x, y = xlsx_writer.write_group(x, y, group_name, group)
        return xlsx_writer.value

    def from_data(self, fields, columns_headers, rows):
        with TextCellsXlsxWriter(fields, columns_headers, len(rows)) as xlsx_writer:
            for row_index, row in enumerate(rows):
                for cell_index, cell_value in enumerate(row):
                    xlsx_writer.write_cell(row_index + 1, cell_index, cell_value)
        return xlsx_writer.value
