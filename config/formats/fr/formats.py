# Dates as the Département writes them: "17 septembre 2024 à 17h00".
# "h" is a format character (12-hour clock), hence the backslash.
DATE_FORMAT = "j F Y"
TIME_FORMAT = r"H\hi"
DATETIME_FORMAT = r"j F Y \à H\hi"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = r"d/m/Y H\hi"
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y"]
TIME_INPUT_FORMATS = ["%H:%M", "%Hh%M", "%H:%M:%S", "%Hh"]
DATETIME_INPUT_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"
NUMBER_GROUPING = 3
FIRST_DAY_OF_WEEK = 1
