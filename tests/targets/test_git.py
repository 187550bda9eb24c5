"""git+ target: a bare repository as the remote, one orphan commit per deploy."""

import subprocess

import pytest

from hearth.targets import MARKER, Interrupted, TargetError, open_target, ops
from tests.targets.conftest import StopAfter
from tests.targets.cycle import (
    MESSAGE,
    assert_locked,
    assert_published,
    assert_withdrawn,
    lock,
    marker_state,
)

pytestmark = pytest.mark.server


def git(repo, *args):
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], capture_output=True, check=True
    ).stdout


@pytest.fixture
def remote(tmp_path):
    repo = tmp_path / "site.git"
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    return repo


def branch_reader(repo, branch="gh-pages"):
    def read(rel):
        result = subprocess.run(
            ["git", "--git-dir", str(repo), "cat-file", "blob", f"{branch}:{rel}"],
            capture_output=True,
            check=False,
        )
        return result.stdout if result.returncode == 0 else None

    return read


def withdraw(target, **kw):
    return ops.withdraw(
        [target], sitename="Hearth", site_url="http://127.0.0.1",
        message=MESSAGE, feeds=["feeds/all.atom.xml"], **kw,
    )  # fmt: skip


def test_publish_withdraw_publish_lock_publish_leaves_one_commit_each_time(
    sample_publish, remote, site_recipients
):
    target = open_target(f"git+{remote}#gh-pages")
    read = branch_reader(remote)
    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)
    assert read(".nojekyll") == b""
    [status] = ops.status([open_target(f"git+{remote}#gh-pages")])
    assert (status.state, status.ok) == ("published", True), status.problems

    withdraw(open_target(f"git+{remote}#gh-pages"))
    # Exactly one commit, holding only the notice files: the withdrawn site
    # is not in the branch's history.
    assert git(remote, "rev-list", "--count", "gh-pages").strip() == b"1"
    files = set(git(remote, "ls-tree", "-r", "--name-only", "gh-pages").split())
    assert all(
        f.endswith((b".html", b".xml"))
        or f in {b"robots.txt", b"hearth-notice.css", MARKER.encode(), b".nojekyll"}
        for f in files
    ), files
    assert_withdrawn(read, sample_publish)
    assert marker_state(read) == "withdrawn"
    # The commit does not carry the writer's name.
    author = git(remote, "log", "-1", "--format=%an <%ae>", "gh-pages")
    assert author.strip() == b"Hearth <hearth@localhost>"

    ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    assert git(remote, "rev-list", "--count", "gh-pages").strip() == b"1"
    assert_published(read, sample_publish)

    lock(sample_publish, open_target(f"git+{remote}#gh-pages"), site_recipients)
    assert git(remote, "rev-list", "--count", "gh-pages").strip() == b"1"
    assert_locked(read, sample_publish, site_recipients)
    [status] = ops.status([open_target(f"git+{remote}#gh-pages")])
    assert (status.state, status.ok) == ("locked", True), status.problems

    ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    assert_published(read, sample_publish)


def test_withdraw_warns_that_the_host_may_keep_old_commits(sample_publish, remote):
    warnings = []

    class Collect(ops.Reporter):
        def warn(self, message):
            warnings.append(message)

    ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    withdraw(open_target(f"git+{remote}#gh-pages"), reporter=Collect())
    assert any("unreferenced commits" in w for w in warnings)


def test_republishing_the_same_tree_pushes_nothing(sample_publish, remote):
    ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    first = git(remote, "rev-parse", "gh-pages")
    [again] = ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    assert not again.plan.changed
    assert git(remote, "rev-parse", "gh-pages") == first


def test_other_branches_of_the_remote_are_left_alone(sample_publish, remote, tmp_path):
    ops.publish(sample_publish, [open_target(f"git+{remote}#main")])
    ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    withdraw(open_target(f"git+{remote}#gh-pages"))
    assert_published(branch_reader(remote, "main"), sample_publish)


def test_interrupted_publish_then_rerun_converges(sample_publish, remote):
    ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    withdraw(open_target(f"git+{remote}#gh-pages"))
    read = branch_reader(remote)
    with pytest.raises(Interrupted):
        # The progress callback fires after the push, so the interruption
        # lands between the push and the end of the command.
        ops.publish(
            sample_publish,
            [open_target(f"git+{remote}#gh-pages")],
            reporter=StopAfter(1),
        )
    ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    assert_published(read, sample_publish)
    assert git(remote, "rev-list", "--count", "gh-pages").strip() == b"1"


def test_push_killed_before_it_lands_leaves_the_branch_as_it_was(
    sample_publish, remote, monkeypatch
):
    ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    before = git(remote, "rev-parse", "gh-pages")
    target = open_target(f"git+{remote}#gh-pages")
    real_git = target._git

    def killed_at_push(*args, **kw):
        if args[0] == "push":
            raise Interrupted("killed while pushing")
        return real_git(*args, **kw)

    monkeypatch.setattr(target, "_git", killed_at_push)
    with pytest.raises(Interrupted):
        withdraw(target)
    assert git(remote, "rev-parse", "gh-pages") == before
    withdraw(open_target(f"git+{remote}#gh-pages"))
    assert_withdrawn(branch_reader(remote), sample_publish)


def test_missing_remote_fails_clearly(sample_publish, tmp_path):
    target = open_target(f"git+{tmp_path / 'missing.git'}#gh-pages")
    with pytest.raises(
        TargetError,
        match=r"git \w+ failed \(fatal: .*missing.git' does not appear to be a "
        r"git repo.*live site was not changed",
    ):
        ops.publish(sample_publish, [target])


def test_a_remote_hook_never_sees_a_passphrase(sample_publish, remote, monkeypatch):
    # A hook (or a credential helper) runs with the environment git gives it;
    # the writer's passphrases and the secrets file's path stay out of it.
    seen = remote.parent / "hook-environment"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nenv > {seen}\n")
    hook.chmod(0o755)
    monkeypatch.setenv("HEARTH_PASSPHRASE_FRIENDS", "hearth-test-friends-passphrase")
    monkeypatch.setenv("HEARTH_SECRETS_FILE", "/somewhere/secrets.toml")
    monkeypatch.setenv("HEARTH_UNRELATED", "kept")
    ops.publish(sample_publish, [open_target(f"git+{remote}#gh-pages")])
    environment = seen.read_text()
    assert "HEARTH_UNRELATED=kept" in environment  # the hook did run
    assert "hearth-test-friends-passphrase" not in environment
    assert "HEARTH_PASSPHRASE" not in environment
    assert "HEARTH_SECRETS_FILE" not in environment
