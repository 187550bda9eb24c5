"""The bad week (issue 14) against real servers: a notice post while the
blog is down, for a while, and what stays elsewhere."""

import hashlib
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from invoke import Exit, MockContext

import tasks
from hearth.targets import open_target, ops
from tests.conftest import ROOT, environ, passphrase_env
from tests.targets.conftest import get
from tests.targets.cycle import LOCKED_META, NOTICE_META, marker_state
from tests.targets.test_file import http_reader
from tests.targets.test_s3 import bucket  # noqa: F401 (fixture)

pytestmark = pytest.mark.server

ATOM = "{http://www.w3.org/2005/Atom}"
NOTICE_FILE = "content/notices/resting.md"


def content_digest():
    digest = hashlib.sha256()
    for path in sorted((ROOT / "content").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(autouse=True)
def in_repository(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(tasks, "LOCK_CACHE", str(tmp_path / "lock-cache"))
    monkeypatch.delenv("HEARTH_TARGET", raising=False)
    # Never touch a schedule the repository holds (a withdraw cancels one).
    monkeypatch.setenv("HEARTH_SCHEDULE_FILE", str(tmp_path / "schedule.json"))


@pytest.fixture
def served(tmp_path, nginx, sample_publish):
    """A file target nginx serves, holding the published sample site."""
    root = tmp_path / "www" / "blog"
    root.parent.mkdir()
    base = nginx(root)
    url = f"{root.as_uri()}?url={base}"
    ops.publish(sample_publish, [open_target(url)])
    return url, base, http_reader(base)


def feed_entries(body):
    return ET.fromstring(body).findall(ATOM + "entry")


def test_withdraw_with_a_notice_post_puts_it_at_every_old_address_and_in_the_feed(
    served, sample_publish
):
    url, base, read = served
    before = content_digest()
    tasks.withdraw(MockContext(), message="notices/resting.md", target=[url])
    assert content_digest() == before  # nothing in content/ was edited
    pages = [p.relative_to(sample_publish).as_posix()
             for p in sample_publish.rglob("*.html")]  # fmt: skip
    assert len(pages) > 10
    for rel in pages:
        body = read(rel)
        assert NOTICE_META in body, rel
        assert b"<h2>Taking some time</h2>" in body, rel
        assert b"I just need some quiet for a few days." in body, rel
    status, _headers, feed = get(base + "/feeds/all.atom.xml")
    assert status == 200
    [entry] = feed_entries(feed)
    assert entry.find(ATOM + "title").text == "Taking some time"
    assert "quiet for a few days" in entry.find(ATOM + "content").text
    [result] = ops.status([open_target(url)])
    assert (result.state, result.ok) == ("withdrawn", True), result.problems


def test_withdraw_takes_a_positional_message_on_the_command_line(served):
    url, base, read = served
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "withdraw", "I need some space",
         "--target", url],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No idea what" not in done.stderr
    body = read("2026/the-kettle-list/index.html")
    assert NOTICE_META in body and b"<p>I need some space</p>" in body
    [entry] = feed_entries(get(base + "/feeds/all.atom.xml")[2])
    assert "I need some space" in entry.find(ATOM + "content").text


def test_a_message_file_anywhere_and_its_markdown_is_rendered_safely(served, tmp_path):
    url, _base, read = served
    note = tmp_path / "note.md"
    note.write_text(
        "Back *soon*.\n\n<script>alert('x')</script>\n\n"
        "[a link](javascript:alert(1)) and [help](https://www.samaritans.org/)\n\n"
        '![secret photo](/images/bramble.jpg) <img src=x onerror="alert(1)">\n'
    )
    tasks.withdraw(MockContext(), message_file=str(note), target=[url])
    body = read("index.html").decode()
    assert "<em>soon</em>" in body
    assert "<script" not in body and "javascript:" not in body
    assert "<img" not in body and "onerror=" not in body.replace("onerror=&quot;", "")
    assert "&lt;script&gt;" in body  # shown as text, not run
    assert 'href="https://www.samaritans.org/"' in body


def test_a_notice_post_for_an_audience_is_refused_and_the_site_stays(served, tmp_path):
    url, _base, read = served
    note = tmp_path / "private-note.md"
    note.write_text("---\ntitle: Just for you\naudience: friends\n---\n\nHello.\n")
    with pytest.raises(
        Exit, match=r"private-note.md is for friends.*a notice is public"
    ):
        tasks.withdraw(MockContext(), message_file=str(note), target=[url])
    assert marker_state(read) == "published"


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"message": "notices/missing.md"}, r"looks like a file name.*no such file"),
        ({"message_file": "nowhere.md"}, r"nowhere.md does not exist"),
        ({"message": "   "}, r"notice message is empty"),
        ({"message": "x", "message_file": NOTICE_FILE}, r"Give the notice once"),
    ],
)
def test_notice_mistakes_are_told_and_nothing_changes(served, kw, error):
    url, _base, read = served
    with pytest.raises(Exit, match=error):
        tasks.withdraw(MockContext(), target=[url], **kw)
    assert marker_state(read) == "published"


def test_lock_with_a_notice_shows_it_in_the_clear_beside_the_unlock_form(served):
    url, base, read = served
    with environ(**passphrase_env()):
        tasks.lock(MockContext(), message="I'm keeping things private for a bit.",
                   target=[url])  # fmt: skip
    body = read("2026/the-kettle-list/index.html")
    assert LOCKED_META in body
    assert b"<p>I'm keeping things private for a bit.</p>" in body
    assert b"lockshell-form" in body
    assert b"kettle" not in body.lower().replace(b"the-kettle-list", b"")
    [entry] = feed_entries(get(base + "/feeds/all.atom.xml")[2])
    assert "private for a bit" in entry.find(ATOM + "content").text
    [result] = ops.status([open_target(url)])
    assert (result.state, result.ok) == ("locked", True), result.problems


# --- For a while: --for / --until and `invoke due`, with a fake clock --------

T0 = "2026-12-01T09:00:00Z"


@pytest.fixture
def clock(monkeypatch, tmp_path):
    """Set the fake clock (hearth.deploy.now, the seam) and a schedule file."""
    monkeypatch.setenv("HEARTH_SCHEDULE_FILE", str(tmp_path / "schedule.json"))
    monkeypatch.delenv("HEARTH_NOW", raising=False)

    def set_to(when):
        monkeypatch.setattr("hearth.deploy.now", lambda: when)

    set_to(T0)
    return set_to


def schedule_file(tmp_path):
    return tmp_path / "schedule.json"


def test_withdraw_for_three_days_then_due_publishes_once_and_only_when_due(
    served, clock, tmp_path, capsys
):
    url, base, read = served
    tasks.withdraw(MockContext(), message="Back on Friday.", for_="3d", target=[url])
    out = capsys.readouterr().out
    assert "withdrawn until 2026-12-04 09:00 UTC" in out
    tasks.status(MockContext(), target=[url])
    out = capsys.readouterr().out
    assert "withdrawn since" in out and "until 2026-12-04 09:00 UTC" in out

    clock("2026-12-03T09:00:00Z")  # a day early: nothing happens
    tasks.due(MockContext())
    assert "Nothing is due yet: the site is withdrawn until 2026-12-04" in (
        capsys.readouterr().out
    )
    assert marker_state(read) == "withdrawn"
    assert schedule_file(tmp_path).is_file()

    clock("2026-12-04T09:01:00Z")
    with environ(**passphrase_env()):
        tasks.due(MockContext())
    assert marker_state(read) == "published"
    assert b"kettle" in read("2026/the-kettle-list/index.html").lower()
    # Drafts stay drafts: the draft's address is still nothing at all.
    status, _h, body = get(base + "/2026/unfinished-thoughts-about-rest/")
    assert status == 404 and b"Unfinished" not in body
    assert not schedule_file(tmp_path).exists()
    marker = read(".hearth/release.json")

    capsys.readouterr()
    tasks.due(MockContext())  # idempotent: nothing left to do
    assert "Nothing is due" in capsys.readouterr().out
    assert read(".hearth/release.json") == marker
    tasks.status(MockContext(), target=[url])
    assert "until" not in capsys.readouterr().out


def test_lock_until_a_date_is_reopened_by_due(served, clock, tmp_path, capsys):
    url, _base, read = served
    with environ(**passphrase_env()):
        tasks.lock(MockContext(), until="2026-12-02", target=[url])
        assert "locked until 2026-12-02 00:00 UTC" in capsys.readouterr().out
        assert marker_state(read) == "locked"
        clock("2026-12-02T00:00:00Z")
        tasks.due(MockContext())
    assert marker_state(read) == "published"


def test_a_withdraw_without_an_end_cancels_the_schedule_so_due_never_reopens(
    served, clock, tmp_path, capsys
):
    url, _base, read = served
    tasks.withdraw(MockContext(), for_="1d", target=[url])
    tasks.withdraw(MockContext(), message="Not ready yet.", target=[url])
    assert "earlier schedule (withdrawn until 2026-12-02 09:00 UTC) is cancelled" in (
        capsys.readouterr().out
    )
    clock("2026-12-09T09:00:00Z")
    tasks.due(MockContext())
    assert marker_state(read) == "withdrawn"
    assert b"Not ready yet." in read("index.html")


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"for_": "3x"}, r"--for '3x' is not a length of time.*--for 3d"),
        ({"for_": "0d"}, r"--for '0d' is not a length of time"),
        ({"until": "next friday"}, r"--until 'next friday' is not a date"),
        ({"until": "2026-11-30"}, r"not in the future"),
        ({"until": "2026-12-09", "for_": "3d"}, r"--until or --for, not both"),
    ],
)
def test_schedule_mistakes_are_told_before_anything_changes(
    served, clock, tmp_path, kw, error
):
    url, _base, read = served
    with pytest.raises(Exit, match=error):
        tasks.withdraw(MockContext(), target=[url], **kw)
    assert marker_state(read) == "published"
    assert not schedule_file(tmp_path).exists()


def test_a_damaged_schedule_file_is_told_and_due_changes_nothing(
    served, clock, tmp_path
):
    _url, _base, read = served
    schedule_file(tmp_path).write_text("{not json")
    with pytest.raises(Exit, match=r"schedule file .* cannot be read.*git checkout"):
        tasks.due(MockContext())
    assert marker_state(read) == "published"


def test_the_readme_cron_line_runs_due_from_the_command_line(served, tmp_path):
    """The commands as README gives them, in a shell, with HEARTH_NOW as clock."""
    url, _base, read = served
    env = {
        "HEARTH_SCHEDULE_FILE": str(tmp_path / "schedule.json"),
        "HEARTH_NOW": T0,
        **passphrase_env(),
    }

    def invoke(*args, **more):
        with environ(**{**env, **more}):
            done = subprocess.run(
                [sys.executable, "-m", "invoke", *args], cwd=ROOT,
                capture_output=True, text=True, check=False,
            )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    out = invoke("withdraw", "I need some space", "--for", "3d", "--target", url)
    assert "withdrawn until 2026-12-04 09:00 UTC" in out
    assert "Nothing is due yet" in invoke("due", HEARTH_NOW="2026-12-02T09:00:00Z")
    assert marker_state(read) == "withdrawn"
    assert "publishing it again" in invoke("due", HEARTH_NOW="2026-12-04T10:00:00Z")
    assert marker_state(read) == "published"


# --- For a while, on a site with several targets: a plan per set of targets ---


@pytest.fixture
def two_sites(tmp_path, sample_publish):
    """Two published file targets: {name: (url, reader of what it serves)}."""
    from tests.targets.test_ssh import disk_reader

    sites = {}
    for name in ("laptop", "pages"):
        root = tmp_path / name / "blog"
        root.parent.mkdir()
        ops.publish(sample_publish, [open_target(root.as_uri())])
        sites[name] = (root.as_uri(), disk_reader(root))
    return sites


def status_lines(capsys, urls):
    capsys.readouterr()
    tasks.status(MockContext(), target=urls)
    lines = capsys.readouterr().out.splitlines()
    return {url: next(line for line in lines if line.startswith(url)) for url in urls}


def test_publishing_one_target_leaves_the_others_plan_and_status_says_whose(
    two_sites, clock, tmp_path, capsys
):
    (a, read_a), (b, read_b) = two_sites.values()
    tasks.withdraw(MockContext(), for_="3d", target=[a, b])
    with environ(**passphrase_env()):
        tasks.publish(MockContext(), target=[a])  # back early on one of them
    out = capsys.readouterr().out
    assert f"stays for {b}: `invoke due` publishes them then" in out
    assert "is done and removed" not in out
    shown = status_lines(capsys, [a, b])
    assert "published" in shown[a] and "until" not in shown[a]
    assert "withdrawn since" in shown[b] and "until 2026-12-04 09:00 UTC" in shown[b]

    clock("2026-12-04T09:00:00Z")
    with environ(**passphrase_env()):
        tasks.due(MockContext())
    assert (marker_state(read_a), marker_state(read_b)) == ("published", "published")
    assert not schedule_file(tmp_path).exists()


def test_withdrawing_one_target_for_good_keeps_it_down_when_the_others_reopen(
    two_sites, clock, capsys
):
    (a, read_a), (b, read_b) = two_sites.values()
    tasks.withdraw(MockContext(), for_="1d", target=[a, b])
    tasks.withdraw(MockContext(), message="Not this one.", target=[a])
    assert f"stays for {b}" in capsys.readouterr().out
    clock("2026-12-02T09:00:00Z")
    with environ(**passphrase_env()):
        tasks.due(MockContext())
    assert marker_state(read_b) == "published"
    assert marker_state(read_a) == "withdrawn" and b"Not this one." in read_a(
        "index.html"
    )


def test_two_targets_two_plans_each_reopens_at_its_own_time(two_sites, clock, capsys):
    (a, read_a), (b, read_b) = two_sites.values()
    with environ(**passphrase_env()):
        tasks.withdraw(MockContext(), for_="1d", target=[a])
        tasks.lock(MockContext(), for_="3d", target=[b])
        shown = status_lines(capsys, [a, b])
        assert "withdrawn until 2026-12-02 09:00 UTC" in shown[a]
        assert "locked until 2026-12-04 09:00 UTC" in shown[b]
        assert "locked" not in shown[a] and "withdrawn" not in shown[b]

        clock("2026-12-02T10:00:00Z")
        tasks.due(MockContext())
        assert (marker_state(read_a), marker_state(read_b)) == ("published", "locked")
        clock("2026-12-03T10:00:00Z")
        tasks.due(MockContext())
        assert "Nothing is due yet: the site is locked until 2026-12-04" in (
            capsys.readouterr().out
        )
        clock("2026-12-04T10:00:00Z")
        tasks.due(MockContext())
    assert marker_state(read_b) == "published"


def test_a_schedule_from_before_plans_per_target_still_reopens(served, clock, tmp_path):
    # Format 1: one plan at the file's top level (Hearth before this change).
    url, _base, read = served
    tasks.withdraw(MockContext(), target=[url])
    schedule_file(tmp_path).write_text(
        json.dumps(
            {
                "format": 1,
                "state": "withdrawn",
                "targets": [url],
                "until": "2026-12-02T09:00:00Z",
                "since": T0,
            }
        )
    )
    clock("2026-12-02T09:00:00Z")
    with environ(**passphrase_env()):
        tasks.due(MockContext())
    assert marker_state(read) == "published"


def test_a_target_address_with_a_password_is_not_written_into_the_schedule(
    served, clock, tmp_path
):
    url, _base, read = served
    secret = "git+https://writer:hunter2-token@127.0.0.1:9/blog.git#gh-pages"
    with pytest.raises(
        Exit, match=r"--target holds a password.*credential helper"
    ) as e:
        tasks.withdraw(MockContext(), for_="3d", target=[url, secret])
    assert "hunter2" not in str(e.value)
    assert marker_state(read) == "published"  # refused before anything changed
    assert not schedule_file(tmp_path).exists()


# --- Part of the blog, and one post: rules (hearth-rules.json) ---------------

STARTING = "content/posts/2026-08-02-starting-again.md"
STARTING_URL = "/2026/starting-again-slowly/"
STARTING_TEXT = b"I stopped writing for most of last year."
WALK = "content/posts/2026-10-05-sunday-walk.md"
WALK_URL = "/2026/a-sunday-walk-with-the-dog/"
WALK_TEXT = b"Bramble does not care how I slept."


@pytest.fixture
def rules_file(monkeypatch, tmp_path):
    """A rules file of the test's own; the repository's state file restored
    (posts a rule makes private get their ids there during the build)."""
    path = tmp_path / "rules.json"
    monkeypatch.setenv("HEARTH_RULES_FILE", str(path))
    monkeypatch.setenv("HEARTH_SCHEDULE_FILE", str(tmp_path / "schedule.json"))
    # A state key the build may make goes here, not into the repository.
    monkeypatch.setenv("HEARTH_SECRETS_FILE", str(tmp_path / "secrets.toml"))
    state = ROOT / "hearth-state.json"
    saved = state.read_bytes()
    yield path
    state.write_bytes(saved)


def publish(url):
    with environ(**passphrase_env()):
        tasks.publish(MockContext(), target=[url])


def test_posts_before_a_date_go_private_by_rule_and_come_back_with_undo(
    served, rules_file, capsys
):
    url, base, read = served
    before = content_digest()
    assert STARTING_TEXT in read(STARTING_URL.strip("/") + "/index.html")
    tasks.rule(MockContext(), before="2026-08-05", audience="friends")
    out = capsys.readouterr().out
    assert "posts/2026-08-02-starting-again.md  'Starting again, slowly': " in out
    assert "published, public -> private for friends" in out
    assert "invoke rule --undo --before 2026-08-05 --audience friends" in out
    assert "sunday-walk" not in out  # later posts are not touched
    tasks.posts(MockContext())
    assert "starting-again.md: private for friends (rule: dated before" in (
        capsys.readouterr().out.replace("\n", " ")
    )
    publish(url)  # the leak audit runs on this build: it would refuse a leak
    status, _h, body = get(base + STARTING_URL)
    assert status == 404 and STARTING_TEXT not in body  # now at p/<id>/, sealed
    for rel in ("index.html", "feeds/all.atom.xml"):
        assert b"Starting again, slowly" not in get(base + "/" + rel)[2], rel
    assert WALK_TEXT in get(base + WALK_URL)[2]
    assert content_digest() == before  # no file edited, no status changed

    tasks.rule(MockContext(), before="2026-08-05", audience="friends", undo=True)
    assert not rules_file.exists()
    publish(url)
    assert STARTING_TEXT in get(base + STARTING_URL)[2]
    assert content_digest() == before


def test_unpublish_one_post_takes_its_page_down_and_undo_brings_it_back(
    served, rules_file, capsys
):
    url, base, _read = served
    tasks.unpublish(MockContext(), WALK)
    assert "'A Sunday walk with the dog': published, public -> off the site" in (
        capsys.readouterr().out
    )
    publish(url)
    # Its address gives the site's not-found page (no page of its own: the
    # build cannot tell an address that was online from one that never was).
    status, _h, body = get(base + WALK_URL)
    assert status == 404
    assert WALK_TEXT not in body and b"Sunday walk" not in body
    for rel in ("index.html", "feeds/all.atom.xml", "archives.html"):
        assert b"a-sunday-walk-with-the-dog" not in get(base + "/" + rel)[2], rel
    # The draft stays a draft: unpublishing never touched a status.
    assert get(base + "/2026/unfinished-thoughts-about-rest/")[0] == 404
    [result] = ops.status([open_target(url)])
    assert (result.state, result.ok) == ("published", True), result.problems

    tasks.unpublish(MockContext(), WALK, undo=True)
    publish(url)
    assert WALK_TEXT in get(base + WALK_URL)[2]
    assert b"a-sunday-walk-with-the-dog" in get(base + "/index.html")[2]


def test_a_rule_never_widens_who_may_read(rules_file, capsys):
    # The letter is for friends and family: a rule for friends leaves it so.
    tasks.rule(MockContext(), file="content/posts/2026-10-18-letter-home.md",
               audience="friends")  # fmt: skip
    assert "nothing (no public post matches)" in capsys.readouterr().out
    with pytest.raises(Exit, match=r"only narrows who may read"):
        tasks.rule(MockContext(), tag="walking", audience="public")


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"audience": "friends"}, r"Say which posts: --file"),
        ({"tag": "walking"}, r"Say what happens to them"),
        ({"tag": "walking", "audience": "friends", "unpublish": True},
         r"Say what happens to them"),
        ({"tag": "walking", "audience": "frends"}, r"Unknown audience 'frends'"),
        ({"before": "June", "audience": "friends"}, r"--before 'June' is not a date"),
        ({"file": "content/posts/nope.md", "unpublish": True}, r"no such post"),
        ({"tag": "walking", "unpublish": True, "undo": True}, r"No rule .* to undo"),
    ],
)  # fmt: skip
def test_rule_mistakes_are_told_and_no_rule_is_written(rules_file, kw, error):
    with pytest.raises(Exit, match=error):
        tasks.rule(MockContext(), **kw)
    assert not rules_file.exists()


def test_a_damaged_rules_file_stops_the_publish_and_the_site_stays(served, rules_file):
    url, _base, read = served
    marker = read(".hearth/release.json")
    rules_file.write_text('{"rules": [{"tag": "walking", "audience": ""}]}')
    with pytest.raises(Exit):
        publish(url)
    assert read(".hearth/release.json") == marker
    with pytest.raises(Exit, match=r"rules file .* cannot be read safely"):
        tasks.posts(MockContext())


# --- Undo a bad publish: invoke rollback ---------------------------------------


def test_rollback_puts_the_previous_release_back_and_says_which_cannot(
    served, sample_publish, tmp_path, capsys
):
    url, base, read = served
    good = read("index.html")
    bad = tmp_path / "bad"
    shutil.copytree(sample_publish, bad)
    (bad / "index.html").write_text("<p>a publish that went wrong</p>")
    (bad / "oops.html").write_text("<p>should not be here</p>")
    ops.publish(bad, [open_target(url)])
    assert b"went wrong" in read("index.html")
    git_url = f"git+{(tmp_path / 'remote.git').as_uri()}#gh-pages"
    tasks.rollback(MockContext(), target=[url, git_url])
    out = capsys.readouterr().out
    assert "Rolled back: file://" in out
    assert "Not rolled back: git+" in out and "no parent" in out
    assert read("index.html") == good
    assert get(base + "/oops.html")[0] == 404
    [result] = ops.status([open_target(url)])
    assert (result.state, result.ok) == ("published", True), result.problems
    tasks.rollback(MockContext(), target=[url])  # again: forward to the bad one
    assert b"went wrong" in read("index.html")


def test_rollback_after_a_withdraw_refuses_and_the_notice_stays(served, capsys):
    url, _base, read = served
    tasks.withdraw(MockContext(), target=[url])
    with pytest.raises(Exit, match=r"Nothing was rolled back"):
        tasks.rollback(MockContext(), target=[url])
    assert "no previous published release" in capsys.readouterr().out
    assert marker_state(read) == "withdrawn"


def test_rollback_names_s3_as_unable_unless_versioned():
    from hearth.rollback import cannot

    target = open_target("s3://bucket/blog?endpoint=http://127.0.0.1:9")
    assert "versioning" in cannot(target) and "invoke publish" in cannot(target)


# --- What stays elsewhere ----------------------------------------------------


def test_withdraw_prints_what_stays_elsewhere_with_the_sites_addresses(
    served, capsys, monkeypatch
):
    from hearth import elsewhere

    url, _base, _read = served
    monkeypatch.setattr(
        tasks, "_site", lambda s: {"sitename": "Hearth", "lang": "en",
                                   "site_url": "https://blog.example"},
    )  # fmt: skip
    tasks.withdraw(MockContext(), target=[url])
    out = capsys.readouterr().out
    assert "https://web.archive.org/web/*/blog.example/*" in out
    assert "https://www.google.com/search?q=site%3Ablog.example" in out
    assert "GitHub Pages: up to about 10 minutes" in out
    for address in elsewhere.ADDRESSES:
        assert address in out


def test_a_dry_run_withdraw_does_not_print_the_checklist(served, capsys):
    url, _base, _read = served
    tasks.withdraw(MockContext(), target=[url], dry_run=True)
    assert "Wayback" not in capsys.readouterr().out


def test_docs_bad_week_gives_the_same_addresses_and_readmes_commands():
    from hearth import elsewhere

    docs = (ROOT / "docs" / "bad-week.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for address in (*elsewhere.ADDRESSES, elsewhere.WAYBACK_EMAIL):
        assert address in docs, address
    for line in docs.splitlines():
        if line.startswith("invoke "):
            command = line.split("#")[0].split()[1]
            assert f"invoke {command}" in readme, line
    assert "content/notices/resting.md" in docs
    assert (ROOT / NOTICE_FILE).is_file()


# --- The seed's week on each of the four targets, from README's commands -------


@pytest.fixture(params=["file", "ssh", "s3", "git"])
def any_target(request, tmp_path, monkeypatch):
    """(target URL, reader of what it serves) on a real server of each kind."""
    import shlex as _shlex

    from tests.targets.test_git import branch_reader
    from tests.targets.test_s3 import bucket_reader
    from tests.targets.test_ssh import disk_reader

    kind = request.param
    if kind == "file":
        root = tmp_path / "www" / "blog"
        root.parent.mkdir()
        return root.as_uri(), disk_reader(root)
    if kind == "ssh":
        sshd = request.getfixturevalue("sshd")
        root = tmp_path / "srv" / "blog"
        root.parent.mkdir()
        monkeypatch.setenv("HEARTH_SSH_OPTIONS", _shlex.join(sshd["options"]))
        url = f"ssh://{sshd['user']}@127.0.0.1:{sshd['port']}{root}?identity={sshd['key']}"
        return url, disk_reader(root)
    if kind == "s3":
        seaweed = request.getfixturevalue("seaweed")
        request.getfixturevalue("s3_env")
        name, client = request.getfixturevalue("bucket")()
        return f"s3://{name}/blog?endpoint={seaweed}", bucket_reader(
            client, name, "blog"
        )
    remote = tmp_path / "site.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    return f"git+{remote}#gh-pages", branch_reader(remote)


def test_the_seeds_week_on_each_target(any_target, clock, rules_file, capsys):
    url, read = any_target
    before = content_digest()
    with environ(**passphrase_env()):
        tasks.publish(MockContext(), target=[url])
        assert STARTING_TEXT in read("2026/starting-again-slowly/index.html")

        # Monday: private for a couple of days, with one public line.
        tasks.lock(MockContext(), message="Private for a couple of days.",
                   for_="2d", target=[url])  # fmt: skip
        page = read("2026/starting-again-slowly/index.html")
        assert LOCKED_META in page and b"Private for a couple of days." in page
        assert STARTING_TEXT not in page
        capsys.readouterr()
        tasks.status(MockContext(), target=[url])
        out = capsys.readouterr().out
        assert "locked since" in out and "until 2026-12-03 09:00 UTC" in out

        # Tuesday: re-open with one message, everything else down, for 3 days.
        tasks.withdraw(MockContext(), message="notices/resting.md", for_="3d",
                       target=[url])  # fmt: skip
        for rel in ("index.html", "2026/starting-again-slowly/index.html"):
            body = read(rel)
            assert NOTICE_META in body and b"Taking some time" in body, rel
        [entry] = feed_entries(read("feeds/all.atom.xml"))
        assert entry.find(ATOM + "title").text == "Taking some time"
        capsys.readouterr()
        tasks.status(MockContext(), target=[url])
        out = capsys.readouterr().out
        assert "withdrawn since" in out and "until 2026-12-04 09:00 UTC" in out

        assert "locked" not in out  # the withdraw's plan replaced the lock's

        # Wednesday, after the lock's end: nothing reopens, the withdraw holds.
        clock("2026-12-03T10:00:00Z")
        tasks.due(MockContext())
        assert "Nothing is due yet: the site is withdrawn until" in (
            capsys.readouterr().out
        )
        assert marker_state(read) == "withdrawn"

        # The older posts for friends only (online when it reopens).
        tasks.rule(MockContext(), before="2026-08-05", audience="friends")
        assert marker_state(read) == "withdrawn"
        capsys.readouterr()
        tasks.status(MockContext(), target=[url])
        out = capsys.readouterr().out
        assert "withdrawn since" in out and "until 2026-12-04 09:00 UTC" in out

        # Friday: the cron line's `invoke due` brings it back.
        clock("2026-12-04T09:15:00Z")
        tasks.due(MockContext())
    assert marker_state(read) == "published"
    assert read("2026/starting-again-slowly/index.html") is None  # sealed, at p/…
    assert b"Starting again, slowly" not in read("index.html")
    assert read("2026/unfinished-thoughts-about-rest/index.html") is None  # a draft
    assert WALK_TEXT in read("2026/a-sunday-walk-with-the-dog/index.html")
    capsys.readouterr()
    tasks.status(MockContext(), target=[url])
    out = capsys.readouterr().out
    assert "published since" in out and "until" not in out
    assert content_digest() == before


def test_the_bad_weeks_tasks_document_every_flag():
    # withdraw and lock: tests/test_publish_tasks.py (invoke hands a task's
    # help out once per process: get_arguments pops it).
    for name in ("due", "rule", "unpublish", "rollback"):
        body = getattr(tasks, name)
        first = body.__doc__.splitlines()[0]
        assert first[0].isupper() and first.endswith("."), name
        for argument in body.get_arguments():
            assert argument.help, f"{name} --{argument.name} has no help"


def test_rollback_on_an_ssh_target_copies_the_previous_release_back(
    sample_publish, sshd, tmp_path, monkeypatch, capsys
):
    import shlex as _shlex

    from tests.targets.test_ssh import disk_reader

    root = tmp_path / "srv" / "blog"
    root.parent.mkdir()
    monkeypatch.setenv("HEARTH_SSH_OPTIONS", _shlex.join(sshd["options"]))
    url = f"ssh://{sshd['user']}@127.0.0.1:{sshd['port']}{root}?identity={sshd['key']}"
    read = disk_reader(root)
    ops.publish(sample_publish, [tasks._targets([url], {})[0]])
    good = read("index.html")
    bad = tmp_path / "bad"
    shutil.copytree(sample_publish, bad)
    (bad / "index.html").write_text("<p>a publish that went wrong</p>")
    ops.publish(bad, [tasks._targets([url], {})[0]])
    assert b"went wrong" in read("index.html")
    tasks.rollback(MockContext(), target=[url])
    assert "Rolled back: ssh://" in capsys.readouterr().out
    assert read("index.html") == good
    [result] = ops.status(tasks._targets([url], {}))
    assert (result.state, result.ok) == ("published", True), result.problems
