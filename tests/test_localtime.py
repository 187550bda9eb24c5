"""Times in the writer's own zone: shown there (TZ honoured), stored in UTC.

The tasks run for real on a file target in tmp_path, with TZ set the way a
writer's computer sets it; the expected local times are worked out here with
zoneinfo, independently of hearth.localtime.
"""

import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from invoke import Exit, MockContext

import tasks
from hearth import localtime
from hearth.targets import open_target, ops
from tests.conftest import ROOT

T0 = "2026-12-01T09:00:00Z"


@pytest.fixture
def zone(monkeypatch):
    """zone(name): the computer's time zone is `name` (TZ, as the shell sets it)."""

    def set_zone(name):
        monkeypatch.setenv("TZ", name)
        time.tzset()
        return None if name.startswith("<") else ZoneInfo(name)

    yield set_zone
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A file target serving a tiny published site; the clock at T0."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("HEARTH_TARGET", raising=False)
    monkeypatch.delenv("HEARTH_NOW", raising=False)
    monkeypatch.setenv("HEARTH_SCHEDULE_FILE", str(tmp_path / "schedule.json"))
    monkeypatch.setattr("hearth.deploy.now", lambda: T0)
    monkeypatch.setattr("hearth.targets.ops.now", lambda: T0)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "index.html").write_text("<!doctype html><title>Hi</title><p>Hello")
    url = (tmp_path / "www").as_uri()
    ops.publish(tree, [open_target(url)])
    return url, tree


def local_text(iso, zone):
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()}"


def test_withdraw_until_a_local_time_stores_utc_and_says_it_in_local_time(
    site, zone, tmp_path, capsys
):
    url, _ = site
    paris = zone("Europe/Paris")
    tasks.withdraw(MockContext(), until="2026-12-04T18:00", target=[url])
    out = capsys.readouterr().out
    [stored] = json.loads((tmp_path / "schedule.json").read_text())["plans"]
    assert stored["until"] == "2026-12-04T17:00:00Z"  # 18:00 in Paris, in UTC
    assert "withdrawn until 2026-12-04 18:00 CET" in out
    assert local_text(stored["until"], paris) == "2026-12-04 18:00 CET"

    tasks.status(MockContext(), target=[url])
    out = capsys.readouterr().out
    # The marker's since (T0, UTC) and the plan's end, both in Paris time.
    assert f"withdrawn since {local_text(T0, paris)}" in out
    assert "since 2026-12-01 10:00 CET" in out
    assert "until 2026-12-04 18:00 CET" in out
    assert "UTC" not in out


def _withdrawn_in(site, zone, place, capsys, **when):
    """The site withdrawn by a writer in `place` (what withdraw said is dropped)."""
    url, _ = site
    zone(place)
    tasks.withdraw(MockContext(), target=[url], **when)
    capsys.readouterr()
    return url


def test_another_zone_shows_the_same_moment_in_its_own_time(
    site, zone, tmp_path, capsys
):
    url = _withdrawn_in(site, zone, "Europe/Paris", capsys, until="2026-12-04T18:00")
    new_york = zone("America/New_York")  # the writer has travelled
    tasks.status(MockContext(), target=[url])
    out = capsys.readouterr().out
    assert "until 2026-12-04 12:00 EST" in out
    assert f"since {local_text(T0, new_york)}" in out  # 04:00 EST


def test_an_until_with_an_offset_is_taken_as_written(site, zone, tmp_path, capsys):
    url, _ = site
    zone("Asia/Tokyo")
    tasks.withdraw(MockContext(), until="2026-12-04T18:00+01:00", target=[url])
    [stored] = json.loads((tmp_path / "schedule.json").read_text())["plans"]
    assert stored["until"] == "2026-12-04T17:00:00Z"
    assert "withdrawn until 2026-12-05 02:00 JST" in capsys.readouterr().out


def test_an_until_in_the_past_says_both_times_in_local_time(site, zone):
    url, _ = site
    zone("Europe/Paris")
    with pytest.raises(Exit, match="is not in the future") as stop:
        tasks.withdraw(MockContext(), until="2026-12-01T09:30", target=[url])
    # 09:30 Paris is 08:30 UTC, before T0 (10:00 in Paris).
    assert "--until 2026-12-01 09:30 CET" in str(stop.value)
    assert "it is 2026-12-01 10:00 CET now" in str(stop.value)


def test_due_before_its_time_says_the_time_now_in_local_time(
    site, zone, monkeypatch, capsys
):
    _withdrawn_in(site, zone, "Australia/Sydney", capsys, for_="3d")
    tasks.due(MockContext())
    out = capsys.readouterr().out
    assert "Nothing is due yet: the site is withdrawn until 2026-12-04 20:00 AEDT" in (
        out
    )
    assert "(it is 2026-12-01 20:00 AEDT now)" in out


def test_rollback_names_the_release_by_its_local_time(site, zone, monkeypatch, capsys):
    url, tree = site
    later = "2026-12-02T15:30:00Z"
    monkeypatch.setattr("hearth.targets.ops.now", lambda: later)
    (tree / "index.html").write_text("<!doctype html><title>Hi</title><p>Changed")
    ops.publish(tree, [open_target(url)])
    zone("America/Los_Angeles")
    tasks.rollback(MockContext(), target=[url])
    out = capsys.readouterr().out
    # The previous release was deployed at T0: 01:00 in Los Angeles.
    assert "the release of 2026-12-01 01:00 PST is live again" in out


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("UTC", "2026-07-01 12:00 UTC"),
        ("Europe/London", "2026-07-01 13:00 BST"),
        ("Asia/Kolkata", "2026-07-01 17:30 IST"),
        # A zone without a name (POSIX TZ) is shown by its offset.
        ("<+0530>-5:30", "2026-07-01 17:30 UTC+05:30"),
        ("<-03>3", "2026-07-01 09:00 UTC-03:00"),
    ],
)
def test_a_stored_utc_time_is_shown_in_the_zone_tz_names(zone, tz, expected):
    zone(tz)
    assert localtime.shown("2026-07-01T12:00:00Z") == expected


def test_a_naive_time_the_writer_types_is_their_local_time_across_dst(zone):
    zone("Europe/London")
    winter = localtime.parse("2026-01-15T18:00")
    summer = localtime.parse("2026-07-15T18:00")
    assert winter.astimezone(UTC).hour == 18
    assert summer.astimezone(UTC).hour == 17
    assert localtime.utc_iso("2026-07-15T18:00:00+01:00") == "2026-07-15T17:00:00Z"
