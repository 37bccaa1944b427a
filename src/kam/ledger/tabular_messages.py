"""The messages of kam.lib.tabular, for the ledger's translation catalogue.

kam.lib has no Django and no locale of its own; the ledger is where its messages
reach users (import reports). makemessages only reads an app's own files, so the
templates are repeated here; test_import_wording checks this list against tabular.
"""

from django.utils.translation import gettext_noop

TABULAR_MESSAGES = (
    gettext_noop("a value is required"),
    gettext_noop("text has %(length)s characters; at most %(limit)s allowed"),
    gettext_noop("%(value)s is not one of: %(options)s"),
    gettext_noop("not a number: %(value)s"),
    gettext_noop(
        "amount %(value)s is in scientific notation; format the column as a number and export again"
    ),
    gettext_noop("amount %(value)s uses 万; write the full number (12万 is 120000)"),
    gettext_noop("amount %(value)s has a unit/currency symbol; put the bare number"),
    gettext_noop("amount %(value)s uses a decimal comma; write a point: 1234.50"),
    gettext_noop("amount %(value)s has misplaced separators; write 1,234.50 or 1234.50"),
    gettext_noop("amount %(value)s has more than %(places)s decimal places"),
    gettext_noop("not a whole number: %(value)s"),
    gettext_noop("not a date: %(value)s; write YYYY-MM-DD"),
    gettext_noop("not a date: %(value)s"),
    gettext_noop(
        "ambiguous date %(value)s: day and month order cannot be guessed; write YYYY-MM-DD"
    ),
    gettext_noop("not a real time: %(value)s (%(error)s)"),
    gettext_noop("not a real date: %(value)s (%(error)s)"),
    gettext_noop("not a real date: %(value)s (month must be in 1..12)"),
    gettext_noop("not a real date: %(value)s (day is out of range for month)"),
    gettext_noop("expected a date without a time: %(value)s"),
    gettext_noop("no header row: the first non-blank row has no column names"),
    gettext_noop("duplicate column names: %(columns)s"),
    gettext_noop(
        "the first row does not look like a header: none of the expected columns found (expected e.g. %(expected)s)"
    ),
    gettext_noop("missing required columns: %(required)s"),
    gettext_noop("duplicate columns: %(duplicated)s"),
    gettext_noop("missing required columns: %(required)s; duplicate columns: %(duplicated)s"),
    gettext_noop(
        "this is an old .xls workbook (or a password-protected one); save it as .xlsx or CSV UTF-8"
    ),
    gettext_noop("the file is UTF-16 (Excel's 'Unicode Text'); save it as 'CSV UTF-8'"),
    gettext_noop("the file uses old Mac line endings (CR); save it as 'CSV UTF-8'"),
    gettext_noop("the file is empty"),
    gettext_noop(
        "row %(row)s: the text is not valid %(encoding)s (the encoding found at the start of the file); save the whole file again as 'CSV UTF-8'"
    ),
    gettext_noop("row %(row)s: a cell has more than %(limit)s characters (an unclosed quote?)"),
    gettext_noop("row %(row)s: unreadable CSV (%(error)s)"),
    gettext_noop("row %(row)s, column %(column)s: the cell has more than %(limit)s characters"),
    gettext_noop(
        "row %(row)s has %(cells)s cells but the header has %(width)s; a value probably contains an unquoted delimiter (e.g. 1,234.50 without quotes)"
    ),
    gettext_noop("not a readable .xlsx workbook (%(error)s)"),
    gettext_noop("no sheet named %(sheet)s; the workbook has: %(sheets)s"),
    gettext_noop("merged cells in sheet %(sheet)s: %(cells)s; unmerge them and fill every cell"),
    gettext_noop("sheet %(sheet)s is empty"),
    gettext_noop(
        "formula in cell %(cell)s; paste values (Copy, then Paste Special › Values) and upload again"
    ),
    gettext_noop("cell %(cell)s has more than %(limit)s characters"),
)
