"""Times as the writer reads them: in their own zone, stored in UTC.

Files and markers keep UTC with its offset (ISO 8601, `...Z`), so a laptop,
a server and CI agree on the moment; every time Hearth prints is shown in
the zone of the computer it runs on (TZ honoured), named, e.g.
"2026-12-04 10:00 CET". A time the writer types without an offset
(`--until 2026-12-04T18:00`) is in that zone too.
"""

import time
from datetime import UTC, datetime


def _zone() -> None:
    # TZ may have changed since the process started (a test, a wrapper):
    # read it again, as `date` would.
    time.tzset()


def parse(text: object) -> datetime:
    """An aware datetime from ISO text; without an offset, the local zone's."""
    moment = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        _zone()
        moment = moment.astimezone()  # a naive time is local wall-clock time
    return moment


def local(moment: datetime | str) -> datetime:
    """`moment` (an aware datetime or ISO text; naive counts as UTC, as the
    files store it) in the local zone."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    _zone()
    return moment.astimezone()


def zone_name(moment: datetime) -> str:
    """'CET', 'UTC', or 'UTC+05:30' where the zone has no letters name."""
    name = moment.tzname() or ""
    if name.isalpha():
        return name
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def shown(moment: datetime | str | None) -> str:
    """'2026-12-04 10:00 CET': a moment as the writer reads it ('' for none)."""
    if not moment:
        return ""
    try:
        here = local(moment)
    except (TypeError, ValueError):
        return str(moment)  # not a time after all: shown as it is
    return f"{here:%Y-%m-%d %H:%M} {zone_name(here)}"


def utc_iso(moment: datetime | str) -> str:
    """'2026-12-04T09:00:00Z': how files store a moment."""
    return local(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
