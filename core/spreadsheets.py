"""Helpers shared by the CSV and XLSX exports."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell that no spreadsheet will read as a formula: a leading apostrophe is added to
    text starting with =, +, -, @, a tab or a carriage return."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
