"""The trees withdraw and lock put online, the marker, headers, target URLs."""

import importlib.util
import json
import subprocess
import xml.etree.ElementTree as ET

import pytest

from hearth import envelope
from hearth.deploy import (
    DEFAULT_NOTICE,
    LOCKED_DIR,
    lock_tree,
    notice_tree,
    write_marker,
)
from hearth.release import tree_manifest
from hearth.targets import (
    MARKER,
    TargetError,
    cache_control,
    configured_targets,
    content_type,
    open_target,
)
from hearth.targets.base import make_plan
from hearth.targets.ops import public_forge_remotes
from tests.targets.conftest import site_recipients  # noqa: F401 (fixture)
from tests.targets.cycle import CARRIER, assert_feed_empty, build_files

SINCE = "2026-12-01T09:30:00Z"


def notice(dest, former, **kw):
    return notice_tree(
        dest, former, sitename="Hearth <Notes>", site_url="https://blog.example",
        since=SINCE, **kw,
    )  # fmt: skip


def test_notice_goes_at_every_former_page_and_feeds_are_emptied(tmp_path):
    former = ["index.html", "2026/a-post/index.html", "tag/x.html",
              "feeds/all.atom.xml", "feeds/all.rss.xml", "images/a.jpg",
              "theme/css/hearth.css"]  # fmt: skip
    tree = notice(tmp_path / "n", former, message="Gone for a while.\n\nBe well.")
    files = set(build_files(tree))
    assert files == {
        "index.html", "404.html", "2026/a-post/index.html", "tag/x.html",
        "feeds/all.atom.xml", "feeds/all.rss.xml", "robots.txt", "hearth-notice.css",
    }  # fmt: skip
    page = (tree / "2026/a-post/index.html").read_text()
    assert page == (tree / "404.html").read_text()
    assert "<p>Gone for a while.</p>\n<p>Be well.</p>" in page
    assert "Hearth &lt;Notes&gt;" in page  # escaped, never raw markup
    assert "<script" not in page
    for feed in ("feeds/all.atom.xml", "feeds/all.rss.xml"):
        assert_feed_empty((tree / feed).read_bytes(), feed)
    assert (tree / "robots.txt").read_text() == "User-agent: *\nDisallow: /\n"


def test_notice_has_a_kind_default_text(tmp_path):
    tree = notice(tmp_path / "n", [])
    first = DEFAULT_NOTICE.split("\n\n")[0]
    assert first in (tree / "index.html").read_text()


def test_withdrawing_twice_writes_the_same_bytes(tmp_path):
    former = ["index.html", "a/index.html", "feeds/all.atom.xml"]
    one = notice(tmp_path / "one", former)
    two = notice(tmp_path / "two", former)
    assert build_files(one) == build_files(two)


def test_marker_keeps_since_while_the_state_holds(tmp_path):
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "index.html").write_text("x")
    first = write_marker(tree, "published", when="2026-01-01T00:00:00Z")
    again = write_marker(tree, "published", first, when="2026-02-01T00:00:00Z")
    assert again == first  # nothing changed: same marker, nothing to upload
    (tree / "index.html").write_text("y")
    changed = write_marker(tree, "published", again, when="2026-03-01T00:00:00Z")
    assert changed["since"] == "2026-01-01T00:00:00Z"
    assert changed["deployed"] == "2026-03-01T00:00:00Z"
    withdrawn = write_marker(tree, "withdrawn", changed, when="2026-04-01T00:00:00Z")
    assert withdrawn["since"] == "2026-04-01T00:00:00Z"
    assert json.loads((tree / MARKER).read_text()) == withdrawn
    assert withdrawn["files"] == 1


def lock(src, dest, recipients, previous=None):
    return lock_tree(
        src, dest, recipients=recipients, sitename="Hearth",
        site_url="https://blog.example", previous_tree=previous,
    )  # fmt: skip


def test_locked_tree_carries_every_page_and_hides_every_file(
    sample_publish,
    tmp_path,
    site_recipients,  # noqa: F811
):
    tree = lock(sample_publish, tmp_path / "locked", site_recipients)
    [site] = site_recipients
    locked = build_files(tree)
    for rel, old in build_files(sample_publish).items():
        if rel.endswith(".html"):
            carried = CARRIER.search(locked[rel].decode()).group(1)
            payload = json.loads(envelope.decrypt(carried, rel, site.key, "site"))
            assert payload["html"].encode() == old
    # The sample image is encrypted under a name that says nothing of it.
    assert "images/bramble.jpg" not in locked
    blobs = [p for p in locked if p.startswith(LOCKED_DIR + "/")]
    assert blobs and not any("bramble" in p for p in blobs)
    walk = "2026/a-sunday-walk-with-the-dog/index.html"
    carried = CARRIER.search(locked[walk].decode()).group(1)
    assets = json.loads(envelope.decrypt(carried, walk, site.key, "site"))["assets"]
    info = assets["images/bramble.jpg"]
    plain = envelope.decrypt_attachment(
        locked[info["src"]], "images/bramble.jpg", envelope.unb64url(info["key"])
    )
    assert plain == (sample_publish / "images/bramble.jpg").read_bytes()
    assert info["type"] == "image/jpeg"
    # The wrong passphrase opens nothing.
    other = envelope.derive_key("not the site passphrase", site.salt, site.iterations)
    with pytest.raises(envelope.WrongKey):
        envelope.decrypt(carried, walk, other, "site")


def test_relocking_an_unchanged_site_writes_the_same_bytes(
    sample_publish,
    tmp_path,
    site_recipients,  # noqa: F811
):
    first = lock(sample_publish, tmp_path / "one", site_recipients)
    second = lock(sample_publish, tmp_path / "two", site_recipients, previous=first)
    assert build_files(first) == build_files(second)
    third = lock(sample_publish, tmp_path / "three", site_recipients)
    assert build_files(third) != build_files(first)  # without it: new nonces


def test_locked_feeds_are_valid_and_empty(
    sample_publish,
    tmp_path,
    site_recipients,  # noqa: F811
):
    tree = lock(sample_publish, tmp_path / "locked", site_recipients)
    for feed in tree.rglob("*.xml"):
        rel = feed.relative_to(tree).as_posix()
        assert_feed_empty(feed.read_bytes(), rel)
        ET.parse(feed)


@pytest.mark.parametrize(
    ("path", "ctype", "cache"),
    [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        ("feeds/all.atom.xml", "application/atom+xml; charset=utf-8", "no-cache"),
        ("feeds/all.rss.xml", "application/rss+xml; charset=utf-8", "no-cache"),
        (MARKER, "application/json", "no-cache"),
        ("robots.txt", "text/plain; charset=utf-8", "no-cache"),
        ("theme/css/hearth.css", "text/css; charset=utf-8", "no-cache"),
        ("theme/app.3f9a01bc.js", "text/javascript; charset=utf-8",
         "public, max-age=31536000, immutable"),
        ("images/a.jpg", "image/jpeg", "no-cache"),
        ("hearth-locked/0123abcd", "application/octet-stream", "no-cache"),
    ],
)  # fmt: skip
def test_headers_by_path(path, ctype, cache):
    assert (content_type(path), cache_control(path)) == (ctype, cache)


def test_plan_uploads_assets_before_pages_and_the_marker_last(tmp_path):
    local = {"index.html": "1", "a/index.html": "2", "x.css": "3", MARKER: "4"}
    plan = make_plan(local, {"old.html": "9", "x.css": "3"})
    assert plan.upload == ["a/index.html", "index.html", MARKER]
    assert plan.delete == ["old.html"]
    assert plan.unchanged == 1
    assert tree_manifest(tmp_path) == {}


def test_target_urls_are_parsed_or_refused_with_the_valid_spellings(tmp_path):
    assert open_target("file:///srv/blog").display == "file:///srv/blog"
    ssh = open_target("ssh://robin@example.org:2222/var/www/blog")
    assert (ssh.host, ssh.port, ssh.root) == ("example.org", 2222, "/var/www/blog")
    s3 = open_target("s3://bucket/blog/?endpoint=http://127.0.0.1:9000&cdn=E1")
    assert (s3.bucket, s3.prefix) == ("bucket", "blog")
    git = open_target("git+https://user:tok3n@example.org/r.git#pages")
    assert "tok3n" not in git.display and git.branch == "pages"
    with pytest.raises(TargetError, match=r"Unknown target 'ftp://x'.*file:///"):
        open_target("ftp://x")
    with pytest.raises(TargetError, match=r"Unknown option 'endpont'.*endpoint"):
        open_target("s3://bucket?endpont=http://x")
    with pytest.raises(TargetError, match=r"three slashes"):
        open_target("file://public-site")


def test_an_s3_target_without_boto3_says_how_to_install_it(monkeypatch):
    # boto3 is the optional `s3` extra: a runtime installed without it.
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "boto3" else real(name, *args),
    )
    with pytest.raises(TargetError, match=r"needs boto3.*pip install 'hearth\[s3\]'"):
        open_target("s3://bucket/blog")
    assert open_target("file:///srv/blog").display == "file:///srv/blog"


def test_target_comes_from_flag_then_environment_then_settings():
    setting = ["file:///from/settings"]
    env = {"HEARTH_TARGET": "file:///from/env file:///and/another"}
    [flag] = configured_targets(["file:///from/flag"], setting, env)
    assert flag.display == "file:///from/flag"
    assert [t.display for t in configured_targets((), setting, env)] == [
        "file:///from/env",
        "file:///and/another",
    ]
    [from_setting] = configured_targets((), setting, {})
    assert from_setting.display == "file:///from/settings"
    with pytest.raises(TargetError, match=r"No publish target: set HEARTH_TARGETS"):
        configured_targets((), [], {})


def test_public_forge_remotes_are_recognised(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for name, url in [
        ("origin", "git@github.com:robin/blog.git"),
        ("lab", "https://gitlab.com/robin/blog.git"),
        ("home", "ssh://git@git.robin.example/blog.git"),
        ("cb", "https://codeberg.org/robin/blog"),
    ]:
        subprocess.run(["git", "-C", str(repo), "remote", "add", name, url], check=True)
    found = dict(public_forge_remotes(repo))
    assert set(found) == {"origin", "lab", "cb"}
