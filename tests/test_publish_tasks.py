"""The writer's four verbs as tasks: thin, no questions, Exit and not a traceback.

The logic is tested through hearth.targets (tests/targets/); these check the
wiring: which targets a task acts on, its build, and how it fails.
"""

import os
import re
import sys
from pathlib import Path

import pytest
from invoke import Exit, MockContext

import tasks
from hearth.targets import open_target, ops
from tests.conftest import ROOT, environ, passphrase_env
from tests.targets.cycle import NOTICE_META, marker_state


@pytest.fixture(autouse=True)
def in_repository(monkeypatch, tmp_path):
    """Run from the repository root (as invoke does), keeping its files clean."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(tasks, "LOCK_CACHE", str(tmp_path / "lock-cache"))
    monkeypatch.delenv("HEARTH_TARGET", raising=False)


def test_withdraw_acts_on_the_target_given_and_uses_the_message(tmp_path):
    root = tmp_path / "blog"
    tasks.withdraw(MockContext(), message="Resting.", target=[root.as_uri()])
    page = (root / "index.html").read_bytes()
    assert NOTICE_META in page and b"Resting." in page
    assert marker_state(lambda rel: (root / rel).read_bytes()) == "withdrawn"


def test_hearth_target_variable_overrides_the_settings(tmp_path, monkeypatch):
    root = tmp_path / "from-env"
    monkeypatch.setenv("HEARTH_TARGET", root.as_uri())
    tasks.withdraw(MockContext())
    assert (root / "404.html").is_file()
    assert not (ROOT / "public-site").exists()


def test_publish_dry_run_builds_but_touches_no_target(tmp_path):
    root = tmp_path / "blog"
    with environ(**passphrase_env()):
        tasks.publish(MockContext(), target=[root.as_uri()], dry_run=True)
    assert not root.exists()


def test_publish_then_status_through_the_tasks(tmp_path, capsys):
    root = tmp_path / "blog"
    with environ(**passphrase_env()):
        tasks.publish(MockContext(), target=[root.as_uri()])
    assert (root / "2026" / "the-kettle-list" / "index.html").is_file()
    # The sample site's draft is named as held back, not silently missing.
    out = capsys.readouterr().out
    assert "Left out of what goes public (preview only):" in out
    assert "content/posts/2026-11-20-unfinished.md (draft)" in out
    tasks.status(MockContext(), target=[root.as_uri()])
    assert f"file://{root}: published since" in capsys.readouterr().out


def test_lock_without_the_site_passphrase_refuses_and_touches_nothing(tmp_path):
    root = tmp_path / "blog"
    env = {k: v for k, v in passphrase_env().items() if "SITE" not in k}
    with environ(**env):
        os.environ.pop("HEARTH_PASSPHRASE_SITE", None)
        with pytest.raises(
            Exit, match=r"No passphrase for audience 'site'.*HEARTH_PASS"
        ):
            tasks.lock(MockContext(), target=[root.as_uri()])
    assert not root.exists()


def test_an_unknown_target_fails_with_the_valid_spellings():
    with pytest.raises(Exit, match=r"Unknown target 'ftp://x'.*file:///path"):
        tasks.status(MockContext(), target=["ftp://x"])


def test_status_exits_non_zero_when_a_target_is_wrong(tmp_path):
    root = tmp_path / "blog"
    tasks.withdraw(MockContext(), target=[root.as_uri()])
    (root / "leftover.html").write_text("<h1>an old page</h1>")
    with pytest.raises(Exit, match=r"do not serve what they should"):
        tasks.status(MockContext(), target=[root.as_uri()])


def test_tasks_document_every_flag():
    for name in ("publish", "withdraw", "lock", "status"):
        body = getattr(tasks, name)
        first = body.__doc__.splitlines()[0]
        assert first[0].isupper() and first.endswith("."), name
        for argument in body.get_arguments():
            assert argument.help, f"{name} --{argument.name} has no help"


def test_default_target_is_the_public_site_folder():
    settings = tasks._publish_settings()
    assert settings["HEARTH_TARGETS"] == [Path(ROOT / "public-site").as_uri()]
    assert settings["HEARTH_SOURCE_REPO_PRIVATE"] is False


class _FakeAudit:
    """Stands in for hearth/audit.py (another part): the seam's contract only."""

    class AuditError(ValueError):
        pass

    def __init__(self, findings=(), error=None):
        self.findings, self.error, self.calls = list(findings), error, []

    def audit_site(self, settings, output_path, root="."):
        self.calls.append((settings["SITENAME"], Path(output_path), Path(root)))
        if self.error:
            raise self.AuditError(self.error)
        return self.findings


def _use_audit(monkeypatch, fake):
    # `from hearth import audit` finds the package attribute first, which is
    # the real module once anything in the session has imported it.
    import hearth

    monkeypatch.setitem(sys.modules, "hearth.audit", fake)
    monkeypatch.setattr(hearth, "audit", fake, raising=False)


def test_publish_refuses_to_deploy_when_the_leak_audit_finds_something(
    tmp_path, monkeypatch
):
    fake = _FakeAudit(findings=["2026/x/index.html: page carries a private title"])
    _use_audit(monkeypatch, fake)
    root = tmp_path / "blog"
    refused = pytest.raises(Exit, match=r"leak audit found.*nothing was\s+deployed")
    with environ(**passphrase_env()), refused:
        tasks.publish(MockContext(), target=[root.as_uri()])
    assert not root.exists()
    [(sitename, audited, repo)] = fake.calls
    assert (sitename, repo) == ("Hearth", ROOT)
    assert not audited.exists()  # the build it audited is cleaned up


def test_publish_refuses_when_the_audit_cannot_run(tmp_path, monkeypatch):
    _use_audit(monkeypatch, _FakeAudit(error="no content"))
    root = tmp_path / "blog"
    refused = pytest.raises(Exit, match=r"could not run: no content")
    with environ(**passphrase_env()), refused:
        tasks.publish(MockContext(), target=[root.as_uri()])
    assert not root.exists()


def test_publish_deploys_when_the_audit_is_clean(tmp_path, monkeypatch):
    fake = _FakeAudit()
    _use_audit(monkeypatch, fake)
    root = tmp_path / "blog"
    with environ(**passphrase_env()):
        tasks.publish(MockContext(), target=[root.as_uri()])
    assert len(fake.calls) == 1
    assert (root / "index.html").is_file()


def test_publish_refuses_when_the_audit_cannot_be_imported(tmp_path, monkeypatch):
    # A checkout whose audit fails to import must not deploy unaudited.
    import hearth

    monkeypatch.setitem(sys.modules, "hearth.audit", None)  # import fails
    monkeypatch.delattr(hearth, "audit", raising=False)
    root = tmp_path / "blog"
    refused = pytest.raises(Exit, match=r"nothing was\s+deployed:\n.*could not run")
    with environ(**passphrase_env()), refused:
        tasks.publish(MockContext(), target=[root.as_uri()])
    assert not root.exists()


def test_publish_counts_the_changed_files_and_lists_them_only_with_verbose(
    tmp_path, capsys
):
    quiet, listed = tmp_path / "quiet", tmp_path / "listed"
    with environ(**passphrase_env()):
        tasks.publish(MockContext(), target=[quiet.as_uri()])
        out = capsys.readouterr().out
        sent = len([p for p in quiet.rglob("*") if p.is_file()])
        assert sent > 20
        # The count, and no file list (the published sample has dozens).
        assert re.search(rf"file://{quiet}: \d+ to upload, 0 to delete", out), out
        assert re.search(r"is published \(\d+ sent, 0 removed\)", out), out
        assert "/2026/the-kettle-list/index.html" not in out
        assert not re.search(r"^\s+\+ /", out, re.MULTILINE), out

        tasks.publish(MockContext(), target=[listed.as_uri()], verbose=True)
        out = capsys.readouterr().out
    files = sorted(
        p.relative_to(listed).as_posix() for p in listed.rglob("*") if p.is_file()
    )
    shown = re.findall(r"^\s+\+ /(\S+)$", out, re.MULTILINE)
    assert "2026/the-kettle-list/index.html" in shown
    # Every file sent is listed, none cut off (the marker is written last).
    assert len(shown) >= len(files) - 1 > 25, out
    assert "more (--verbose lists all)" not in out


def test_withdraw_lists_the_replaced_pages_only_with_verbose(tmp_path, capsys):
    tree = tmp_path / "tree"
    (tree / "2026" / "a-post").mkdir(parents=True)
    (tree / "index.html").write_text("<!doctype html><title>Home</title>")
    (tree / "2026" / "a-post" / "index.html").write_text("<title>A post</title>")
    quiet, listed = (tmp_path / "quiet").as_uri(), (tmp_path / "listed").as_uri()
    ops.publish(tree, [open_target(quiet), open_target(listed)])
    tasks.withdraw(MockContext(), target=[quiet])
    out = capsys.readouterr().out
    assert re.search(r"\d+ to upload", out), out
    assert "/2026/a-post/index.html" not in out
    tasks.withdraw(MockContext(), target=[listed], verbose=True)
    out = capsys.readouterr().out
    assert re.search(r"^\s+\+ /2026/a-post/index\.html$", out, re.MULTILINE), out
