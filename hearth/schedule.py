"""For a while: a withdraw or a lock that ends by itself.

`invoke withdraw --for 3d` (or `--until 2026-12-04`) withdraws now and writes
`hearth-schedule.json` beside the site's sources: what was done, to which
targets, and until when. `invoke due`, run by cron, a systemd timer or a CI
schedule, publishes again once that moment has passed and then removes the
file; before then, and when there is no file, it changes nothing. Running it
twice is the same as running it once.

Each plan covers its targets (the `--target`s it was given, else the
configured ones), so a site with several targets can have several plans: a
later withdraw, lock or publish of some targets takes them out of an earlier
plan and leaves it for the others.

The file is tracked (commit it), so a CI schedule sees the same plan as the
laptop. It stores times in UTC; they are read and shown in the writer's
own zone (hearth.localtime). HEARTH_NOW (an ISO time) stands in for the
clock, for the tests and for trying a schedule out.
"""

import json
import os
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from hearth import deploy, localtime
from hearth.ownerfiles import replace_readable

SCHEDULE_FILE_NAME = "hearth-schedule.json"
FORMAT = 2  # 1: one plan, the file's top level
CLOCK_VARIABLE = "HEARTH_NOW"
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
STATES = ("withdrawn", "locked")


class ScheduleError(ValueError):
    """A --for, --until or schedule file that cannot be used (says how to fix)."""


@dataclass
class Plan:
    state: str  # withdrawn or locked
    until: str  # ISO UTC, ...Z
    since: str
    targets: list[str] = field(default_factory=list)  # [] = the configured ones


def now() -> datetime:
    """The clock: HEARTH_NOW if set, else hearth.deploy.now() (the tests' seam)."""
    fake = os.environ.get(CLOCK_VARIABLE)
    if fake:
        try:
            return _parse(fake)
        except ValueError:
            raise ScheduleError(
                f"{CLOCK_VARIABLE}={fake!r} is not a time: write e.g. "
                "2026-12-04T09:00:00Z, or unset it."
            ) from None
    return _parse(deploy.now())


def iso(moment: datetime) -> str:
    """A moment as the schedule file writes it: 2026-12-04T09:00:00Z."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def end_of(
    *, until: object = None, for_: object = None, clock: datetime | None = None
) -> datetime | None:
    """When a withdraw or lock given --until or --for ends; None for neither."""
    if until and for_:
        raise ScheduleError(
            "Give --until or --for, not both (e.g. --for 3d, or --until 2026-12-04)."
        )
    if not until and not for_:
        return None
    current = clock or now()
    if for_:
        match = _DURATION.match(str(for_))
        if not match or int(match.group(1)) == 0:
            raise ScheduleError(
                f"--for {for_!r} is not a length of time: write a number and "
                "m, h, d or w, e.g. --for 3d (three days) or --for 12h."
            )
        amount, unit = int(match.group(1)), match.group(2).lower()
        end = current + timedelta(**{_UNITS[unit]: amount})
    else:
        try:
            # Without an offset, the writer's own zone (as `date` shows it).
            end = _utc(localtime.parse(until))
        except ValueError:
            raise ScheduleError(
                f"--until {until!r} is not a date: write 2026-12-04 (midnight, "
                "your time) or 2026-12-04T18:00 (your time) or with an offset, "
                "2026-12-04T18:00+01:00."
            ) from None
    if end <= current:
        raise ScheduleError(
            f"--until {localtime.shown(end)} is not in the future (it is "
            f"{localtime.shown(current)} now): give a later date, or leave "
            "--until out."
        )
    return end


def load(path: str | os.PathLike[str]) -> list[Plan]:
    """The plans in the schedule file ([] when there is none)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        data = json.loads(text)
        entries = data["plans"] if data.get("format", 1) >= 2 else [data]
        plans = [
            Plan(
                state=entry["state"],
                until=entry["until"],
                since=entry.get("since", ""),
                targets=[str(t) for t in entry.get("targets", [])],
            )
            for entry in entries
        ]
        for plan in plans:
            _parse(plan.until)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ScheduleError(
            f"The schedule file {path} cannot be read: restore it from git "
            f"(git checkout -- {path.name}), or remove it to end the schedule "
            "(the site then stays as it is until you publish)."
        ) from None
    for plan in plans:
        if plan.state not in STATES:
            raise ScheduleError(
                f"The schedule file {path}: state {plan.state!r} is not withdrawn "
                "or locked. Remove the file to end the schedule."
            )
    return plans


def save(path: str | os.PathLike[str], plans: Iterable[Plan]) -> None:
    """Write the schedule file atomically; no plans, no file."""
    path = Path(path)
    plans = list(plans)
    if not plans:
        clear(path)
        return
    data = {
        "format": FORMAT,
        "plans": [asdict(plan) for plan in sorted(plans, key=lambda p: p.until)],
        "about": (
            "Hearth's schedule: `invoke due` publishes each plan's targets (none "
            "listed: the configured ones) again after its 'until' (UTC). Commit "
            "this file so a CI schedule sees it."
        ),
    }
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    replace_readable(path, text.encode("utf-8"))


def keepable(url: object) -> bool:
    """Whether a target's address may be written into the (committed) file."""
    try:
        return not urlsplit(str(url).removeprefix("git+")).password
    except ValueError:
        return False


def without(
    plans: Iterable[Plan],
    covers: Callable[[Plan], dict[str, str]],
    acted: Collection[str],
) -> tuple[list[Plan], list[Plan], list[tuple[Plan, list[str]]]]:
    """The plans once the targets `acted` (as shown) were acted on again.

    `covers(plan)` is {shown: address} of the targets a plan covers. Returns
    (kept, ended, narrowed): a plan that covered only acted targets ends; one
    that covered some of them is narrowed to the rest (named by address, so
    `due` still finds them), or ends when an address holds a password.
    """
    kept: list[Plan] = []
    ended: list[Plan] = []
    narrowed: list[tuple[Plan, list[str]]] = []
    for plan in plans:
        covered = covers(plan)
        rest = {shown: url for shown, url in covered.items() if shown not in acted}
        if len(rest) == len(covered):  # untouched (or its targets unknown now)
            kept.append(plan)
        elif rest and all(keepable(url) for url in rest.values()):
            rest_plan = Plan(plan.state, plan.until, plan.since, list(rest.values()))
            kept.append(rest_plan)
            narrowed.append((rest_plan, sorted(rest)))
        else:
            ended.append(plan)
    return kept, ended, narrowed


def clear(path: str | os.PathLike[str]) -> bool:
    """Remove the schedule; True if there was one."""
    try:
        Path(path).unlink()
    except FileNotFoundError:
        return False
    return True


def is_due(plan: Plan | None, clock: datetime | None = None) -> bool:
    """Whether the plan's end has come (False without a plan)."""
    return plan is not None and (clock or now()) >= _parse(plan.until)


def _parse(text: str) -> datetime:
    return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def until_text(plan: Plan) -> str:
    """'2026-12-04 10:00 CET': the end in the writer's zone."""
    return localtime.shown(_parse(plan.until))


def describe(plan: Plan) -> str:
    """'withdrawn until 2026-12-04 10:00 CET'."""
    return f"{plan.state} until {until_text(plan)}"
