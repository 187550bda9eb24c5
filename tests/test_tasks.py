"""The writer's tasks, run for real in a copy of the repository.

Task functions are called with a real invoke Context (or the real `invoke`
command for the servers) in a temporary copy, so that a test never writes into
the working tree. MockContext only checks the command `invoke test` composes.
"""

import importlib.util
import itertools
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from invoke import Collection, Context, Exit, MockContext, Result

from tests.conftest import ROOT, environ, passphrase_env, stop_group

INVOKE = Path(sys.executable).parent / "invoke"
_COUNTER = itertools.count()


@pytest.fixture
def repo(tmp_path):
    """A copy of the repository's site (tasks, settings, content) in tmp_path."""
    dest = tmp_path / "repo"
    dest.mkdir()
    for name in ("tasks.py", "pelicanconf.py", "publishconf.py"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "content", dest / "content")
    # Theme and plugins are read, never written: link them.
    for name in ("theme", "plugins"):
        (dest / name).symlink_to(ROOT / name, target_is_directory=True)
    return dest


def load_tasks(repo):
    """Import repo/tasks.py as its own module (ROOT is then the copy)."""
    name = f"hearth_tasks_copy_{next(_COUNTER)}"
    spec = importlib.util.spec_from_file_location(name, repo / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_task_and_flag_explains_itself():
    # `invoke --list` prints the docstring's first line; `--help` the flags.
    tasks = load_tasks(ROOT)
    collection = Collection.from_module(tasks)
    assert {"build", "clean", "serve", "preview", "new-post", "posts", "test"} <= set(
        collection.task_names
    )
    for name in collection.task_names:
        task = collection[name]
        assert task.__doc__ and task.__doc__.strip(), name
        params = task.get_arguments()
        for arg in params:
            assert arg.help, f"{name} --{arg.name} has no help text"


def test_new_post_task_writes_a_dated_draft_with_explained_front_matter(repo, capsys):
    tasks = load_tasks(repo)
    tasks.new_post(
        Context(), "Small mercies", audience="friends", warnings="grief, anxiety"
    )
    written = list((repo / "content" / "posts").glob("*-small-mercies.md"))
    assert len(written) == 1
    text = written[0].read_text()
    assert written[0].name[:10] == time.strftime("%Y-%m-%d")
    assert 'title: "Small mercies"' in text
    assert 'audience: ["friends"]' in text
    assert 'warnings: ["grief", "anxiety"]' in text
    for key in ("title", "date", "warnings", "audience", "listing", "status"):
        assert f"# {key}:" in text, f"no comment explains {key!r}"
    assert "small-mercies.md" in capsys.readouterr().out


def test_new_post_task_on_an_existing_slug_refuses_and_leaves_the_file(repo):
    tasks = load_tasks(repo)
    existing = repo / "content" / "posts" / "2026-08-19-the-kettle-list.md"
    before = existing.read_bytes()
    posts_before = sorted((repo / "content" / "posts").iterdir())
    with pytest.raises(Exit, match=r"the-kettle-list\.md already has the slug"):
        tasks.new_post(Context(), "The kettle list")
    assert existing.read_bytes() == before
    assert sorted((repo / "content" / "posts").iterdir()) == posts_before


def test_new_post_task_on_the_same_day_refuses_and_leaves_the_file(repo):
    tasks = load_tasks(repo)
    tasks.new_post(Context(), "Twice in one day")
    (path,) = (repo / "content" / "posts").glob("*-twice-in-one-day.md")
    path.write_text(path.read_text() + "\nWords the writer typed.\n")
    before = path.read_bytes()
    with pytest.raises(Exit, match="already has the slug 'twice-in-one-day'"):
        tasks.new_post(Context(), "Twice in one day", audience="friends")
    assert path.read_bytes() == before


def test_new_post_task_refuses_an_unknown_audience_naming_the_known_ones(repo):
    tasks = load_tasks(repo)
    with pytest.raises(Exit, match=r"unknown audience 'freinds'.*family, friends"):
        tasks.new_post(Context(), "A typo", audience="freinds")
    assert not list((repo / "content" / "posts").glob("*a-typo*"))


def test_new_post_task_treats_a_help_flag_as_a_mistake_not_a_title(repo):
    # invoke hands `invoke new-post --help` to the task as its title.
    tasks = load_tasks(repo)
    with pytest.raises(Exit, match="looks like an option"):
        tasks.new_post(Context(), "--help")
    assert not list((repo / "content" / "posts").glob("*help*"))


def test_a_new_post_builds(repo, tmp_path):
    tasks = load_tasks(repo)
    tasks.new_post(Context(), "First light", warnings="insomnia")
    tasks.new_post(Context(), "For the family", audience="family", listing="locked")
    tasks.build(Context())
    # New posts are drafts: the preview has them, marked as drafts.
    drafts = repo / "output" / "drafts"
    page = (drafts / "first-light.html").read_text()
    assert "First light" in page
    assert "Draft" in page
    # The sample's own draft and the new public one are under drafts/; the
    # private draft gets its opaque p/<id>/ address, still marked a draft.
    assert len(list(drafts.glob("*.html"))) == 2
    private_drafts = [
        p
        for p in (repo / "output" / "p").rglob("index.html")
        if "Draft — only in the preview" in p.read_text()
    ]
    assert len(private_drafts) == 1
    assert "For the family" not in private_drafts[0].read_text()


def test_posts_task_lists_every_post_and_marks_private_ones(repo, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    tasks = load_tasks(repo)
    tasks.posts(Context())
    out = capsys.readouterr().out
    lines = out.splitlines()
    for title in ("The kettle list", "After the phone", "A letter I", "Unfinished"):
        assert any(title in line for line in lines), title
    phone = next(line for line in lines if "After the phone" in line)
    assert "PRIVATE: friends" in phone
    kettle = next(line for line in lines if "The kettle list" in line)
    assert "public" in kettle and "2026-08-19" in kettle
    assert "/2026/the-kettle-list/" in kettle
    # The copy has no state file yet: the private address comes with a build.
    assert "/p/…/ (after the next build)" in phone
    unfinished = next(line for line in lines if "Unfinished" in line)
    assert "draft" in unfinished
    assert "/drafts/unfinished-thoughts-about-rest.html" in unfinished
    assert "10 posts: 7 public, 2 private" in out
    assert "0 hidden (preview only)" in out


def test_posts_task_names_a_broken_post_and_fails(repo, capsys):
    tasks = load_tasks(repo)
    broken = repo / "content" / "posts" / "2026-12-01-broken.md"
    broken.write_text("---\ntitle: Broken\naudience: [friends\n---\nBody\n")
    with pytest.raises(Exit, match="1 file"):
        tasks.posts(Context())
    out = capsys.readouterr().out.replace("\n", "")
    assert "ERROR" in out
    assert "2026-12-01-broken.md, line 3: the YAML front-matter is malformed" in out


def test_clean_task_removes_both_outputs(repo):
    tasks = load_tasks(repo)
    for name in ("output", "public"):
        (repo / name / "x").mkdir(parents=True)
    tasks.clean(Context())
    assert not (repo / "output").exists()
    assert not (repo / "public").exists()


def test_test_task_runs_pytest_from_the_repository_with_extra_arguments():
    tasks = load_tasks(ROOT)
    c = MockContext(run=Result(exited=0))
    tasks.test(c, args="-k unlock")
    command = c.run.call_args.args[0]
    assert command.startswith(f"cd {ROOT} && ")
    assert command.endswith(f"{sys.executable} -m pytest -k unlock")


def test_test_task_fails_with_pytests_exit_code():
    tasks = load_tasks(ROOT)
    with pytest.raises(Exit) as failed:
        tasks.test(MockContext(run=Result(exited=2)))
    assert failed.value.code == 2


def test_build_publish_task_writes_the_public_site_without_drafts(repo, monkeypatch):
    for key, value in passphrase_env().items():
        monkeypatch.setenv(key, value)
    tasks = load_tasks(repo)
    tasks.build(Context(), publish=True)
    assert (repo / "public" / "index.html").is_file()
    assert not (repo / "public" / "drafts").exists()


# --- the servers: the real `invoke` command in a copy, on a free port ---


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url, timeout=60, until=None):
    """GET url until it answers (and contains `until`, if given)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = response.read().decode()
            if until is None or until in body:
                return body
            last = "page did not change yet"
        except (urllib.error.URLError, ConnectionError) as err:
            last = err
        time.sleep(0.3)
    raise AssertionError(f"{url} never answered as expected: {last}")


@pytest.fixture
def start_invoke(repo):
    """start_invoke(*args): run `invoke -r repo ...` in its own process group."""
    started = []

    def _start(*args):
        proc = subprocess.Popen(
            [str(INVOKE), "-r", str(repo), *args],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Pelican's preview forks a server process
        )
        started.append(proc)
        return proc

    yield _start
    for proc in started:
        stop_group(proc)
        proc.stdout.close()


@pytest.mark.server
def test_serve_builds_the_preview_and_serves_it_on_127_0_0_1(repo, start_invoke):
    port = free_port()
    start_invoke("serve", "--port", str(port))
    home = fetch(f"http://127.0.0.1:{port}/")
    assert "A Sunday walk with the dog" in home
    assert (repo / "output" / "index.html").is_file()
    about = fetch(f"http://127.0.0.1:{port}/about/")
    assert "<h1" in about


@pytest.mark.server
def test_preview_rebuilds_when_a_post_changes(repo, start_invoke):
    port = free_port()
    start_invoke("preview", "--port", str(port))
    fetch(f"http://127.0.0.1:{port}/", until="A Sunday walk with the dog")
    post = repo / "content" / "posts" / "2026-10-05-sunday-walk.md"
    changed = post.read_text().replace("with the dog", "in the rain")
    # Pelican starts watching only after its first build, which may finish
    # after the server answers: write again until the change is seen.
    for _attempt in range(10):
        post.write_text(changed)
        try:
            fetch(f"http://127.0.0.1:{port}/", timeout=5, until="in the rain")
            break
        except AssertionError:
            continue
    else:
        pytest.fail("the preview never rebuilt after the post changed")


def test_unlock_link_says_what_it_grants_and_uses_the_public_address(
    repo, capsys, monkeypatch
):
    for key, value in passphrase_env().items():
        monkeypatch.setenv(key, value)
    tasks = load_tasks(repo)
    tasks.build(Context())  # gives the private posts their addresses
    capsys.readouterr()
    phone = "content/posts/2026-09-21-after-the-phone-call.md"
    tasks.unlock_link(Context(), "friends", phone)
    printed = capsys.readouterr()
    # The address comes from publishconf.py's HEARTH_SITEURL (the suite's).
    assert printed.out.startswith("https://blog.example/p/")
    assert "#k=" in printed.out
    assert (
        "Anyone with this link can read every post for 'friends' (Close friends): "
        "2 posts now, and any you add for 'friends' later" in printed.err
    )
    assert "opens no other audience's posts" in printed.err
    letter = "content/posts/2026-10-18-letter-home.md"
    tasks.unlock_link(Context(), "family", letter, preview=True)
    printed = capsys.readouterr()
    assert printed.out.startswith("/p/")  # a preview link stays relative
    assert "'family' (Family): 1 post now" in printed.err


def test_a_build_that_changes_the_state_file_says_to_commit_it(repo, capsys):
    tasks = load_tasks(repo)
    tasks.build(Context())  # the copy has no state file: the build makes one
    assert (repo / "hearth-state.json").is_file()
    out = capsys.readouterr().out
    assert out.count("hearth-state.json changed: commit it") == 1
    tasks.build(Context())  # nothing new: nothing to commit, nothing said
    assert "hearth-state.json" not in capsys.readouterr().out


def test_a_publish_that_changes_the_state_file_says_to_commit_it_once(
    repo, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(repo)
    tasks = load_tasks(repo)
    www = (tmp_path / "www").as_uri()
    with environ(**passphrase_env()):
        tasks.publish(Context(), target=[www])  # the copy's first: ids are made
        assert (repo / "hearth-state.json").is_file()
        out = capsys.readouterr().out
        assert out.count("hearth-state.json changed: commit it") == 1, out
        # After the deploy's lines, as the last thing said.
        assert out.rstrip().splitlines()[-1].startswith("hearth-state.json changed")
        tasks.publish(Context(), target=[www])
    assert "hearth-state.json" not in capsys.readouterr().out


def test_the_hearth_wrapper_runs_tasks_from_any_folder(repo, tmp_path):
    (repo / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "hearth", repo / "scripts" / "hearth")
    (repo / ".venv").symlink_to(Path(sys.executable).parent.parent)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for cwd in (outside, repo / "content" / "posts"):
        done = subprocess.run(
            [str(repo / "scripts" / "hearth"), "posts"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "10 posts: 7 public" in " ".join(done.stdout.split())
    done = subprocess.run(
        [str(repo / "scripts" / "hearth"), "new-post", "From afar"],
        cwd=outside,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert list((repo / "content" / "posts").glob("*-from-afar.md"))
    assert not list(outside.iterdir())


def test_the_hearth_wrapper_says_to_run_setup_first(repo, tmp_path):
    (repo / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "hearth", repo / "scripts" / "hearth")
    done = subprocess.run(
        [str(repo / "scripts" / "hearth"), "posts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "run " in done.stderr and "scripts/setup first" in done.stderr
