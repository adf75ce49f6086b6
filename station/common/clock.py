"""Vietnam time: the register's days, the signing time and the screens' dates.

Vietnam has kept UTC+07:00 all year since 1975, with no daylight saving, so a
fixed offset is exact and needs no time zone database on the station.
"""

from __future__ import annotations

from datetime import timedelta, timezone

VIETNAM = timezone(timedelta(hours=7), "ICT")
