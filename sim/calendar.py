"""The simulation's units of time. The clock counts days from the first simulated month (burn-in included); a
month is a twelfth of a Julian year, so twelve months are exactly one year."""

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
