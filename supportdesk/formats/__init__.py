"""The desk's one date format in each of its languages (FORMAT_MODULE_PATH).

Every date and time an agent reads is SHORT_DATETIME_FORMAT ("Mar 2, 09:30", 「3月2日 09:30」);
a day without a time is MONTH_DAY_FORMAT. Everything else falls back to Django's own formats.
"""
