"""A build that stops says so in one plain paragraph, once: what happened,
in which file, what to do; no traceback, no log frame, unless --debug.

The commands run for real (`invoke` in a copy of the repository), one of
them in a pseudo-terminal, where Pelican's rich log handler would draw its
columns and colours.
"""

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import termios

from tests.conftest import ROOT
from tests.test_tasks import INVOKE, repo  # noqa: F401

BROKEN = "content/posts/2026-11-01-broken.md"
BROKEN_TEXT = "---\ntitle: Broken\naudience: freinds\nstatus: published\n---\nHi\n"
MESSAGE = f"{BROKEN}, line 3: unknown audience 'freinds'"
# What Pelican's rich handler puts around a record: its level and source
# columns, and the box characters of a rich traceback.
FRAME = re.compile(r"CRITICAL|ERROR  |__init__\.py:\d+|[│╭╮╰╯─]")


def invoke(repo, *args):  # noqa: F811
    return subprocess.run(
        [str(INVOKE), "-r", str(repo), *args],
        cwd=repo,
        env={**os.environ, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def flat(text):
    return " ".join(text.split())


def test_a_broken_header_stops_the_build_with_one_plain_paragraph(repo):  # noqa: F811
    (repo / BROKEN).write_text(BROKEN_TEXT)
    done = invoke(repo, "build")
    assert done.returncode != 0
    printed = done.stdout + done.stderr
    assert flat(done.stderr).count(MESSAGE) == 1, printed
    assert MESSAGE not in flat(done.stdout)  # once, not also in a log line
    assert "declare new ones in HEARTH_AUDIENCES in pelicanconf.py" in flat(
        done.stderr
    )  # what to do
    assert "Traceback" not in printed
    assert "ContentError" not in printed
    assert not FRAME.search(printed), printed
    assert not (repo / "output" / "index.html").exists()


def test_debug_shows_the_traceback(repo):  # noqa: F811
    (repo / BROKEN).write_text(BROKEN_TEXT)
    done = invoke(repo, "--debug", "build")
    assert done.returncode != 0
    assert "Traceback" in done.stdout + done.stderr


def test_a_broken_template_names_its_file_and_line_and_the_way_to_the_traceback(
    repo,  # noqa: F811
):
    (repo / "theme").unlink()
    shutil.copytree(ROOT / "theme", repo / "theme")
    article = repo / "theme" / "templates" / "article.html"
    lines = article.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if "{{" in line)
    lines[number] = lines[number].replace("{{", "{{ nope(", 1)
    article.write_text("".join(lines))
    done = invoke(repo, "build")
    assert done.returncode != 0
    printed = done.stdout + done.stderr
    said = flat(done.stderr)
    assert said.count("The build stopped in ") == 1, printed
    assert f"theme/templates/article.html, line {number + 1}:" in said
    assert "(TemplateSyntaxError)" in said
    assert "invoke --debug build" in said
    assert "Traceback" not in printed
    assert not FRAME.search(printed), printed


def test_on_a_terminal_the_stop_is_in_plain_colours_and_wrapped_between_words(
    repo,  # noqa: F811
):
    (repo / BROKEN).write_text(BROKEN_TEXT)
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    proc = subprocess.Popen(
        [str(INVOKE), "-r", str(repo), "build"],
        cwd=repo,
        env={**env, "TERM": "xterm-256color"},
        stdin=child,
        stdout=child,
        stderr=child,
        close_fds=True,
    )
    os.close(child)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([main], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main)
        code = proc.wait(60)
    printed = b"".join(chunks).decode(errors="replace").replace("\r", "")
    assert code != 0
    start = printed.index("Hearth stopped the build")
    paragraph = printed[start:]
    assert "\x1b[" not in paragraph, repr(paragraph)  # no colour codes
    assert flat(paragraph).count(MESSAGE) == 1, paragraph
    assert flat(printed).count("unknown audience 'freinds'") == 1
    assert all(len(line) < 60 for line in paragraph.splitlines()), paragraph
    assert not FRAME.search(printed), printed
    assert "Traceback" not in printed


def test_fatal_warnings_say_why_a_warning_stopped_the_build(repo):  # noqa: F811
    pelican = INVOKE.parent / "pelican"
    done = subprocess.run(
        [str(pelican), "content", "-s", "pelicanconf.py", "-o", "out",
         "--fatal", "warnings"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )  # fmt: skip
    assert done.returncode != 0
    printed = done.stdout + done.stderr
    # The preview's demo passphrases are a warning: the build stops there.
    assert "PREVIEW ONLY" in printed
    assert flat(done.stderr).count("because it runs with --fatal") == 1, printed
    assert "Traceback" not in printed
    assert "RuntimeError" not in printed
