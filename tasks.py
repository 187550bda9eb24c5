"""The writer's commands: thin verbs over Pelican and the hearth package."""

import contextlib
import json
import os
import shlex
import shutil
import signal
import sys
import urllib.parse
from pathlib import Path

from invoke import Exit, task
from invoke.main import program
from invoke.parser.parser import ParseMachine
from pelican import main as pelican_main
from pelican.settings import DEFAULT_CONFIG, get_settings_from_file, read_settings
from rich.console import Console

from hearth import audit as leak_audit
from hearth import envelope, frontmatter, links, localtime, reading, schedule, secrets
from hearth import notice as notice_post
from hearth import posts as hearth_posts
from hearth import rules as hearth_rules
from hearth.frontmatter import SITE_AUDIENCE
from hearth.state import state_path
from hearth.targets import TargetError, configured_targets, ops
from hearth.targets.base import scratch_dir, sweep_scratch
from hearth.targets.report import RichReporter

ROOT = Path(__file__).resolve().parent
SETTINGS_FILE_BASE = "pelicanconf.py"
SETTINGS_FILE_PUBLISH = "publishconf.py"
SETTINGS = {**DEFAULT_CONFIG, **get_settings_from_file(str(ROOT / SETTINGS_FILE_BASE))}
POST_FOLDERS = [ROOT / SETTINGS["PATH"] / path for path in SETTINGS["ARTICLE_PATHS"]]

CONFIG = {
    "output": "output",
    "publish_output": "public",
    "host": "127.0.0.1",
    "port": 8000,
}


def pelican_run(cmd):
    """Run Pelican in this process, as Pelican's own tasks.py does."""
    # program.core is set when invoke runs from the command line; it holds
    # any options given after `--`, passed on to Pelican.
    if getattr(program, "core", None) is not None:
        cmd += " " + program.core.remainder
        # `invoke --debug build`: Pelican's -D, tracebacks included.
        if program.args.debug.value:
            cmd += " -D"
    # The settings files name paths relative to the repository (publishconf
    # imports pelicanconf from the working folder), so run from there.
    with contextlib.chdir(ROOT):
        pelican_main(shlex.split(cmd))


def _state_file(settings):
    """The tracked state file the settings name (HEARTH_STATE_FILE), from ROOT."""
    return state_path(settings, ROOT)


STATE_FILE = _state_file(SETTINGS)


@contextlib.contextmanager
def _say_if_state_changed():
    """After a build that changed the state file, one line: commit it."""

    def read():
        try:
            return STATE_FILE.read_bytes()
        except FileNotFoundError:
            return None

    before = read()
    try:
        yield
    finally:
        # Said even when the command stops later: the file has changed.
        if read() != before:
            print(
                f"{STATE_FILE.name} changed: commit it (git add {STATE_FILE.name} "
                "&& git commit), so private posts keep their addresses and "
                "readers' remembered keys keep working."
            )


@task(help={"publish": "use publishconf.py: what goes public (no drafts)"})
def build(c, publish=False):
    """Build the site (the preview, or with --publish what goes public)."""
    with _say_if_state_changed():
        if publish:
            settings, targets = _publish_targets()
            extra = _address_overrides(_addressed(settings, targets))
            overrides = f" -e {shlex.join(extra)}" if extra else ""
            pelican_run(
                f"-s {SETTINGS_FILE_PUBLISH}{overrides} -o {CONFIG['publish_output']}"
            )
        else:
            pelican_run(f"-s {SETTINGS_FILE_BASE} -o {CONFIG['output']}")
    if publish:
        line = hearth_posts.left_out(_readings()[1])
        if line:
            print(line)


@task
def clean(c):
    """Remove the generated sites (output/ and public/)."""
    for name in (CONFIG["output"], CONFIG["publish_output"]):
        shutil.rmtree(ROOT / name, ignore_errors=True)


@task(help={"port": "port to serve on (default 8000)"})
def serve(c, port=CONFIG["port"]):
    """Build the preview and serve it on http://127.0.0.1:8000."""
    from pelican.server import ComplexHTTPRequestHandler, RootedHTTPServer

    build(c)

    class AddressReuseTCPServer(RootedHTTPServer):
        allow_reuse_address = True

    server = AddressReuseTCPServer(
        str(ROOT / CONFIG["output"]),
        (CONFIG["host"], int(port)),
        ComplexHTTPRequestHandler,
    )
    print(f"Serving the site at http://{CONFIG['host']}:{port}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@task(help={"port": "port to serve on (default 8000)"})
def preview(c, port=CONFIG["port"]):
    """Preview the site: rebuild on every change and reload the browser."""
    from hearth import preview as live

    def build_once():
        with _say_if_state_changed():
            pelican_run(f"-s {SETTINGS_FILE_BASE} -o {CONFIG['output']}")

    try:
        live.serve(
            build_once,
            ROOT / CONFIG["output"],
            host=CONFIG["host"],
            port=int(port),
            root=ROOT,
        )
    except live.PortInUseError as err:
        raise Exit(str(err)) from None


@task(help={"output": "the built site to check (default: public/, what goes public)"})
def audit(c, output=CONFIG["publish_output"]):
    """Check a built site for any text of private posts, drafts or hidden posts."""
    try:
        findings = leak_audit.audit_site(SETTINGS, output, root=ROOT)
    except leak_audit.AuditError as err:
        raise Exit(str(err)) from None
    for finding in findings:
        print(finding)
    if findings:
        raise Exit(
            f"The leak audit found {len(findings)} leak(s) in {output}/ (listed "
            "above: output file, surface, what leaked, from which source). Do "
            "not publish this build: fix the template, setting or plugin that "
            "wrote it, build again and re-run invoke audit.",
            code=1,
        )
    print(f"The leak audit found no private text in {output}/.")


def _readings():
    """Every post and page, read as the build reads them (hearth.reading)."""
    # read_settings, as Pelican does: paths made absolute, excludes completed.
    with contextlib.chdir(ROOT):
        settings = read_settings(str(ROOT / SETTINGS_FILE_BASE))
    try:
        return settings, reading.read_site(settings)
    except reading.ReadingError as err:
        raise Exit(str(err)) from None


def _rule_notes(console, found):
    """Under `invoke posts`: which rule (hearth-rules.json) applies to a post."""
    with contextlib.chdir(ROOT):
        settings = read_settings(str(ROOT / SETTINGS_FILE_BASE))
    try:
        active = hearth_rules.load(hearth_rules.rules_file(settings))
    except hearth_rules.RulesError as e:
        raise Exit(str(e)) from None
    for post in found:
        if post.kind != "article" or post.error:
            continue
        for rule in hearth_rules.explain(active, post.relative_path, post.metadata):
            console.print(
                f"{post.relative_path}: {rule.describe()}",
                style="cyan", markup=False, highlight=False,
            )  # fmt: skip


RULE_HELP = {
    "file": "one post's file, e.g. content/posts/2026-08-27-foggy-days.md",
    "before": "the posts dated before this day, e.g. 2026-06-01",
    "tag": "the posts with this tag, e.g. therapy",
    "category": "the posts in this category, e.g. Notes",
    "audience": "make the public ones among them private for this audience",
    "unpublish": "take them off the site, its lists and feeds",
    "undo": "remove this rule again (give the same options): the way back",
    "publish": "publish right after (else run `invoke publish` when ready)",
}


@task(help=RULE_HELP)
def rule(  # noqa: PLR0917 - invoke maps flags to parameters
    c, file=None, before=None, tag=None, category=None, audience=None,
    unpublish=False, undo=False, publish=False,
):  # fmt: skip
    """Move some posts into an audience or off the site, files untouched."""
    settings, found = _readings()
    try:
        new = hearth_rules.make_rule(
            file=file, before=before, tag=tag, category=category, audience=audience,
            unpublish=unpublish, content_path=settings["PATH"],
            known=settings.get("HEARTH_AUDIENCES") or {},
        )  # fmt: skip
        path = hearth_rules.rules_file(settings)
        active = hearth_rules.load(path)
    except hearth_rules.RulesError as e:
        raise Exit(str(e)) from None
    articles = [p for p in found if p.kind == "article" and not p.error]
    if undo:
        if new not in active:
            listed = "\n  ".join(r.describe() for r in active) or "(none)"
            raise Exit(f"No rule {new.describe()} to undo. The rules now:\n  {listed}")
        back = [p for p in articles if new.matches(p.relative_path, p.metadata)]
        print(f"Undoing {new.describe()}; these posts go back to what their files say:")
        for post in back:
            print(f"  {post.relative_path}  {post.title!r}")
        hearth_rules.save(path, [r for r in active if r != new])
    else:
        if new in active:
            print(f"The rule is already there: {new.describe()}. Nothing changes.")
            return
        changes = []
        for post in articles:
            meta = dict(post.metadata)
            if hearth_rules.apply([new], post.relative_path, meta):
                was = f"{post.status}, " + (
                    f"private for {', '.join(post.audience)}"
                    if post.audience
                    else "public"
                )
                now = "off the site" if new.unpublish else f"private for {new.audience}"
                changes.append(
                    f"  {post.relative_path}  {post.title!r}: {was} -> {now}"
                )
        print(f"Rule: {new.describe()}. What changes:")
        print("\n".join(changes) if changes else "  nothing (no public post matches)")
        hearth_rules.save(path, [*active, new])
        undo_line = _undo_line(new)
        print(f"Saved in {path.name} (commit it). The way back: {undo_line}")
    if publish:
        globals()["publish"](c)
    else:
        print("Run `invoke publish` to put this online.")


def _undo_line(new):
    parts = ["invoke rule --undo"]
    for name in ("file", "before", "tag", "category", "audience"):
        value = getattr(new, name)
        if value:
            parts.append(f"--{name} {shlex.quote(value)}")
    if new.unpublish:
        parts.append("--unpublish")
    return " ".join(parts)


@task(
    help={
        "file": "the post's file, e.g. content/posts/2026-08-27-foggy-days.md",
        "undo": "bring it back",
        "publish": RULE_HELP["publish"],
    }
)
def unpublish(c, file, undo=False, publish=False):
    """Take one post off the site, its lists and feeds; --undo brings it back."""
    rule(c, file=file, unpublish=True, undo=undo, publish=publish)


@task(
    help={
        "title": "the post's title (quote it)",
        "audience": "public, or who may read it, e.g. friends or 'friends, "
        "family' (default: HEARTH_DEFAULT_AUDIENCE, else public)",
        "warnings": "content warnings, comma-separated, e.g. 'grief, anxiety'",
        "listing": "for a private post: hidden (default) or locked",
    }
)
def new_post(c, title, audience="", warnings="", listing=""):
    """Start a new post in content/posts/ (a draft, front-matter filled in)."""
    # invoke passes `new-post --help` to the task as its title.
    if title.startswith("-"):
        raise Exit(
            f"{title!r} looks like an option, not a title. For help run "
            "'invoke --help new-post'."
        )
    settings, found = _readings()
    try:
        path = hearth_posts.new_post(
            POST_FOLDERS[0],
            title,
            known_audiences=settings.get("HEARTH_AUDIENCES", {}),
            audience=audience or None,
            default_audience=settings.get(reading.DEFAULT_AUDIENCE_SETTING),
            warnings=warnings,
            listing=listing or None,
            regex_subs=settings["SLUG_REGEX_SUBSTITUTIONS"],
            readings=found,
        )
    except (hearth_posts.NewPostError, frontmatter.FrontMatterError) as err:
        raise Exit(str(err)) from None
    print(f"Wrote {path.relative_to(ROOT)}: a draft until you set 'status: published'.")


@task
def posts(c):
    """List every post: date, title, status, audience, warnings and address."""
    from hearth import warnings as hearth_warnings
    from hearth.state import State, StateError

    settings, found = _readings()
    found = hearth_posts.sort_posts(found)
    state_file = _state_file(settings)
    try:
        post_ids = State.load(
            state_file, secrets_file=ROOT / secrets.SECRETS_FILE_NAME
        ).post_ids(p.relative_path for p in found)
    except StateError as err:
        raise Exit(str(err)) from None
    console = Console()
    console.print(hearth_posts.posts_table(found, settings, post_ids))
    _rule_notes(console, found)
    for post in found:
        for note in post.notes:
            console.print(note, style="yellow", markup=False, highlight=False)
    vocabulary, aliases = hearth_warnings.vocabulary_in(settings)
    for line in hearth_posts.unknown_labels(found, vocabulary, aliases):
        console.print(line, style="yellow", markup=False, highlight=False)
    broken = [post for post in found if post.error]
    for post in broken:
        console.print(post.error, style="red", markup=False, highlight=False)
    if broken:
        raise Exit(
            f"{len(broken)} file(s) above have errors; the build stops until "
            "they are fixed."
        )


@task(
    help={
        "audience": "the audience whose posts the link opens, e.g. friends",
        "url": "the private post's address, e.g. /p/0123456789abcdef/, or its "
        "file, e.g. content/posts/2026-09-21-after-the-phone-call.md",
        "preview": "allow the demo passphrase (a link for the local preview)",
    }
)
def unlock_link(c, audience, url, preview=False):
    """Print a link that opens an audience's posts without the passphrase."""
    from hearth.state import State, StateError

    found = _readings()[1]
    state_file = _state_file(SETTINGS)
    try:
        # The post the link is for must be one this audience can open.
        with contextlib.chdir(ROOT):
            url = hearth_posts.unlock_target(
                found,
                State.load(
                    state_file, secrets_file=ROOT / secrets.SECRETS_FILE_NAME
                ).post_ids(p.relative_path for p in found),
                audience,
                url,
            )
        passphrase = secrets.passphrase_for(
            audience, publish=not preview, secrets_file=ROOT / secrets.SECRETS_FILE_NAME
        )
        key = links.audience_key(audience, passphrase, state_file)
        # The public address from its one place (publishconf.py); a preview
        # link stays relative to wherever the preview is served.
        site = "" if preview else _public_address(*_publish_targets())
        link = links.unlock_link(url, key, site)
    except (
        secrets.SecretsError,
        links.LinkError,
        hearth_posts.LinkTargetError,
        StateError,
    ) as err:
        raise Exit(str(err)) from None
    print(link)
    print(hearth_posts.link_grants(found, audience, SETTINGS), file=sys.stderr)


READER_HELP = {
    "audience": "the audience, e.g. friends",
    "name": "the reader's name, e.g. sam (lower case)",
}


def _audience_of_site(audience):
    audiences = SETTINGS.get("HEARTH_AUDIENCES", {})
    if audience not in audiences:
        raise Exit(
            f"{audience!r} is not an audience in HEARTH_AUDIENCES "
            f"(pelicanconf.py): {', '.join(audiences) or 'none yet'}."
        )


@task
def readers(c):
    """List who can read what (never a secret): audience, reader, their keys."""
    try:
        rows = secrets.list_readers(
            SETTINGS.get("HEARTH_AUDIENCES", {}),
            secrets_file=ROOT / secrets.SECRETS_FILE_NAME,
        )
    except secrets.SecretsError as err:
        raise Exit(str(err)) from None
    for audience, reader, what in rows:
        print(f"{audience:16} {reader or '-':16} {what}")


@task(
    positional=["audience", "name"],
    help={
        **READER_HELP,
        "link_expires": "the last day the reader's link opens anything, e.g. "
        "2027-01-31 (checked at each publish, not by the browser)",
    },
)
def readers_add(c, audience, name, link_expires=""):
    """Give a reader their own passphrase and link: readers-add friends sam."""
    import datetime as dt

    from hearth import readers as hearth_readers

    _audience_of_site(audience)
    file = secrets.secrets_file_path(ROOT / secrets.SECRETS_FILE_NAME)
    expires = None
    if link_expires:
        try:
            expires = dt.date.fromisoformat(link_expires)
        except ValueError:
            raise Exit(
                f"--link-expires {link_expires!r} is not a day like 2027-01-31."
            ) from None
    try:
        reader = secrets.add_reader(
            audience, name, link_expires=expires, secrets_file=file
        )
    except (secrets.SecretsError, hearth_readers.ReaderError) as err:
        raise Exit(str(err)) from None
    # The one time these secrets are shown: for the writer to send.
    fragment = "#k=" + envelope.b64url(reader.link)
    print(f"Added {name!r} to {audience!r} (kept in {file}). Send {name}, privately:")
    print(f"  passphrase: {reader.passphrase}")
    print(f"  link: the address of any {audience} post, followed by {fragment}")
    if expires:
        print(f"  (the link stops at the first publish after {expires.isoformat()})")
    print("They can read from the next publish on. This is not shown again.")


@task(positional=["audience", "name"], help=READER_HELP)
def readers_remove(c, audience, name):
    """Drop a reader: readers-remove friends sam (rotates at the next publish)."""
    _audience_of_site(audience)
    try:
        secrets.remove_reader(
            audience, name, secrets_file=ROOT / secrets.SECRETS_FILE_NAME
        )
    except secrets.SecretsError as err:
        raise Exit(str(err)) from None
    print(
        f"Removed {name!r} from {audience!r}. The next publish makes a new key "
        f"for {audience!r}: nothing published after it opens for {name}; what "
        f"{name} already downloaded stays theirs. The other readers notice "
        "nothing."
    )


@task
def passphrase(c):
    """Print a fresh generated passphrase (six words from EFF's long list)."""
    from hearth import readers as hearth_readers

    print(hearth_readers.generate_passphrase())


@task(help={"args": "extra pytest arguments, e.g. -k unlock"})
def test(c, args=""):
    """Run the whole test suite."""
    # From the repository, so that pytest finds its settings in pyproject.toml.
    python = shlex.quote(sys.executable)
    result = c.run(
        f"cd {shlex.quote(str(ROOT))} && {python} -m pytest {args}",
        warn=True,
        pty=False,
    )
    if result.exited:
        raise Exit(f"The tests failed (exit {result.exited}).", code=result.exited)


# --- Publishing, withdrawing, locking (README; the logic is hearth.targets) ---

LOCK_CACHE = "cache/hearth-lock"  # the last locked tree, so re-locks reuse bytes
TARGET_HELP = "a target URL instead of HEARTH_TARGETS (repeat for several)"
DRY_RUN_HELP = "show what would change on each target; touch nothing"
VERBOSE_HELP = "list every file sent or removed (default: how many)"


MESSAGE_HELP = (
    "the notice: its words, or a post in content/ (e.g. notices/resting.md); "
    "may also be given without --message"
)
MESSAGE_FILE_HELP = "a Markdown file holding the notice (front-matter allowed)"

# `invoke withdraw "I need some space"`: invoke fills positional parameters
# only when they are required; these may be left out (the kind default).
_OPTIONAL_POSITIONAL = {"withdraw": {"message"}, "lock": {"message"}}
_complete_context = ParseMachine.complete_context


def _complete_with_optional_positionals(self):
    context = self.context
    for arg in getattr(context, "positional_args", ()):
        if arg.value is None and arg.name in _OPTIONAL_POSITIONAL.get(context.name, ()):
            arg.value = ""
    return _complete_context(self)


ParseMachine.complete_context = _complete_with_optional_positionals


UNTIL_HELP = (
    "end by itself then, in your time zone: 2026-12-04 or 2026-12-04T18:00 "
    "(or with an offset, 2026-12-04T18:00+01:00); see `due`"
)
FOR_HELP = "end by itself after this long: 90m, 12h, 3d, 2w; see `due`"
SCHEDULE_FILE = schedule.SCHEDULE_FILE_NAME  # beside the sources; commit it


def _schedule_file():
    # HEARTH_SCHEDULE_FILE: elsewhere (the tests; a CI job that keeps it aside).
    return ROOT / (os.environ.get("HEARTH_SCHEDULE_FILE") or SCHEDULE_FILE)


def _end(until, for_, target=None):
    """When a withdraw or lock ends, checked before anything is done."""
    try:
        end = schedule.end_of(until=until, for_=for_)
    except schedule.ScheduleError as e:
        raise Exit(str(e)) from None
    if end and not all(schedule.keepable(url) for url in target or ()):
        raise Exit(
            f"--target holds a password, and --for/--until write the target into "
            f"{SCHEDULE_FILE}, which is committed: keep the token in git's "
            "credential helper (or the environment), not in the address."
        )
    return end


def _plans():
    """The schedule's plans; a damaged file is told once and counts as none."""
    try:
        return schedule.load(_schedule_file())
    except schedule.ScheduleError as e:
        print(f"Warning: {e}")
        return []


def _covers(settings):
    """plan -> {shown: address} of the targets it covers (its own, else the
    configured ones); {} when they cannot be named now."""

    def covers(plan):
        try:
            found = configured_targets(plan.targets, settings.get("HEARTH_TARGETS", ()))
        except TargetError:
            return {}
        return {t.display: t.url for t in found}

    return covers


def _acted_on(targets, settings, save=True):
    """Take the targets just acted on out of the schedule's plans; say what
    that did. Returns (plans kept, plans ended). `save=False`: the caller
    writes the schedule itself, with a plan of its own added."""
    plans = _plans()
    if not plans:
        return [], []
    kept, ended, narrowed = schedule.without(
        plans, _covers(settings), {t.display for t in targets}
    )
    if save and (ended or narrowed):
        schedule.save(_schedule_file(), kept)
    for plan, rest in narrowed:
        print(
            f"The schedule ({schedule.describe(plan)}) stays for {', '.join(rest)}: "
            "`invoke due` publishes them then."
        )
    return kept, ended


def _record(state, end, target, targets, settings):
    """After a withdraw or lock: keep its end for `invoke due`, or cancel an
    earlier plan for these targets (a withdraw or lock without an end lasts
    until you publish). Plans for other targets stay."""
    kept, ended = _acted_on(targets, settings, save=end is None)
    if end is None:
        for earlier in ended:
            print(
                f"The earlier schedule ({schedule.describe(earlier)}) is cancelled: "
                f"the site stays {state} until you run `invoke publish`. If CI runs "
                f"`due`, commit and push {SCHEDULE_FILE} now, or CI still has it."
            )
        return
    plan = schedule.Plan(
        state=state,
        until=schedule.iso(end),
        since=schedule.iso(schedule.now()),
        targets=list(target or []),
    )
    schedule.save(_schedule_file(), [*kept, plan])
    print(
        f"The site is {schedule.describe(plan)}. Then `invoke due` publishes it "
        f"again (run it from cron, a systemd timer or CI: README, 'For a while'); "
        f"{SCHEDULE_FILE} holds the plan: commit it if CI runs `due`."
    )


def _notice(message, message_file, settings):
    """The notice post from the command's words (hearth.notice.choose)."""
    if not message and not message_file:
        return None
    try:
        return notice_post.choose(
            message=message or None,
            message_file=message_file or None,
            root=ROOT,
            known_audiences=settings.get("HEARTH_AUDIENCES", {}),
        )
    except notice_post.NoticeError as e:
        raise Exit(str(e)) from None


def _debug():
    """`invoke --debug ...` or HEARTH_DEBUG=1: show tracebacks, not messages."""
    if os.environ.get("HEARTH_DEBUG"):
        return True
    try:
        return bool(program.args.debug.value)
    except (AttributeError, TypeError, IndexError):
        return False


_INTERRUPTED = []


@contextlib.contextmanager
def _calmly(verb):
    """One message instead of a traceback; Ctrl-C noticed even where a
    library swallows it (Pelican's main does, and returns a half build)."""

    def on_ctrl_c(signum, frame):
        _INTERRUPTED.append(signum)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, on_ctrl_c)
    except ValueError:  # not the main thread (a test runner's worker)
        previous = None
    _INTERRUPTED.clear()
    try:
        yield
    except TargetError as e:
        raise Exit(str(e)) from None
    except KeyboardInterrupt:
        if verb == "status":
            raise Exit("Stopped by Ctrl-C; status changes nothing.", code=130) from None
        raise Exit(
            f"Stopped by Ctrl-C: the {verb} did not finish. Each target switches "
            "whole (file, ssh, git) or is marked half done (S3): run `invoke "
            f"status` to see what each serves now, and re-run `invoke {verb}` to "
            "finish.",
            code=130,
        ) from None
    except Exception as e:
        if _debug():
            raise
        what = ops.os_fault(e, "this computer") if isinstance(e, OSError) else e
        raise Exit(
            f"The {verb} failed: {what} ({type(e).__name__}). Run `invoke status` "
            f"to see what each target serves now; `invoke --debug {verb}` shows "
            "where it failed."
        ) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _stop_if_interrupted():
    if _INTERRUPTED:
        raise KeyboardInterrupt


def _publish_settings():
    return {
        **DEFAULT_CONFIG,
        **get_settings_from_file(str(ROOT / SETTINGS_FILE_PUBLISH)),
    }


def _publish_targets(target=None):
    """The publish settings and the targets a command acts on."""
    settings = _publish_settings()
    return settings, _targets(target, settings)


def _targets(target, settings):
    try:
        return configured_targets(target, settings.get("HEARTH_TARGETS", ()))
    except TargetError as e:
        raise Exit(str(e)) from None


def _address_of(url):
    """An address as compared: no trailing slash, scheme and host in lower case."""
    parts = urllib.parse.urlsplit(url.strip().rstrip("/"))
    return urllib.parse.urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, "")
    )


def _public_address(settings, targets, *, strict=True):
    """The site's public address for this run, from its one place.

    It is HEARTH_SITEURL (publishconf.py) or the targets' ?url=; both may
    give it only if they agree. HEARTH_SITEURL in the environment is one
    run's choice and wins. Two different addresses stop a publish (`strict`)
    with a message naming each place; a withdraw or lock only warns, so that
    it is never held back, and uses the first.
    """
    configured = (settings.get("HEARTH_SITEURL") or "").strip()
    places = {}  # address -> where it is set
    if configured:
        where = (
            "HEARTH_SITEURL in the environment"
            if os.environ.get("HEARTH_SITEURL", "").strip()
            else f"HEARTH_SITEURL in {SETTINGS_FILE_PUBLISH}"
        )
        places[_address_of(configured)] = [where]
    for target in targets:
        if target.site_url:
            places.setdefault(_address_of(target.site_url), []).append(
                f"the ?url= of the target {target.display}"
            )
    if not places:
        return ""
    first = next(iter(places))
    if os.environ.get("HEARTH_SITEURL", "").strip():
        # One run's address, chosen on purpose: said, not refused.
        others = [a for a in places if a != first]
        if others:
            print(
                f"The site's address for this run is {first!r} (HEARTH_SITEURL in "
                f"the environment), not {', '.join(map(repr, others))} of "
                f"{', '.join(w for a in others for w in places[a])}."
            )
        return first
    if len(places) > 1:
        listed = "\n  ".join(
            f"{address!r}: {', '.join(where)}" for address, where in places.items()
        )
        message = (
            "The site's public address is set in more than one place, "
            f"differently:\n  {listed}\nA publish has one address (its feeds and "
            f"unlock links use it). Keep it in one place: HEARTH_SITEURL in "
            f"{SETTINGS_FILE_PUBLISH}, or the target's ?url= (remove the other, "
            "or make them the same)."
        )
        if strict:
            raise Exit(message + " Nothing was built or deployed.")
        print(f"Warning: {message} This run uses {first!r}.")
    return first


def _addressed(settings, targets, *, strict=True):
    """The publish settings with the public address of this run in them."""
    address = _public_address(settings, targets, strict=strict)
    if not address:
        return settings  # the build's guard says it is not set
    return {**settings, "HEARTH_SITEURL": address, "FEED_DOMAIN": address}


def _address_overrides(settings):
    """Pelican -e settings giving a build the address _addressed chose."""
    if not settings.get("HEARTH_SITEURL"):
        return []
    return [
        f"{name}={json.dumps(settings[name])}"
        for name in ("HEARTH_SITEURL", "FEED_DOMAIN")
    ]


def _publish_build(settings):
    """Build what goes public into a fresh folder, in this process.

    The folder is removed on every way out but success (Ctrl-C too); one a
    killed run left behind is swept by the next run (sweep_scratch).
    """
    sweep_scratch()
    out = Path(scratch_dir("build"))
    extra = _address_overrides(settings)
    try:
        try:
            pelican_main(
                ["content", "-s", SETTINGS_FILE_PUBLISH, "-o", str(out)]
                + (["-e", *extra] if extra else [])
            )
        except SystemExit as e:
            if e.code:
                raise Exit(
                    "The publish build failed (see the message above); "
                    "nothing was deployed and every target is as it was."
                ) from None
        # Pelican's main swallows Ctrl-C and returns a half-built site.
        _stop_if_interrupted()
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out


def _audit(settings, build):
    """The leak audit's findings on the build (one if it cannot run)."""
    return ops.leak_audit(settings, build, ROOT)


def _site(settings):
    return {
        "sitename": settings["SITENAME"],
        "site_url": settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "",
        "lang": settings.get("DEFAULT_LANG", "en"),
    }


def _feeds(settings):
    """The site's fixed feed paths (not the per-tag or per-category patterns)."""
    names = ("FEED_ALL_ATOM", "FEED_ATOM", "FEED_ALL_RSS", "FEED_RSS")
    return [settings[n] for n in names if settings.get(n) and "{" not in settings[n]]


@task(
    iterable=["target"],
    help={"target": TARGET_HELP, "dry_run": DRY_RUN_HELP, "verbose": VERBOSE_HELP},
)
def publish(c, target=None, dry_run=False, verbose=False):
    """Build the public site, audit it for leaks, and put it on every target."""
    settings, targets = _publish_targets(target)
    settings = _addressed(settings, targets)
    with _say_if_state_changed(), _calmly("publish"):
        build = _publish_build(settings)
        try:
            # Name the drafts and hidden posts this publish leaves out.
            line = hearth_posts.left_out(_readings()[1])
            if line:
                print(line)
            findings = _audit(settings, build)
            _stop_if_interrupted()  # an audit cut short proves nothing either way
            if findings:
                raise Exit(
                    "The leak audit found private text in the build, so nothing "
                    "was deployed:\n  " + "\n  ".join(findings)
                )
            ops.publish(
                build, targets, dry_run=dry_run, reporter=RichReporter(verbose=verbose)
            )
        finally:
            shutil.rmtree(build, ignore_errors=True)
    if not dry_run:
        kept, ended = _acted_on(targets, settings)
        if ended and not kept:
            print(
                f"Published: the schedule in {SCHEDULE_FILE} is done and removed "
                "(if CI runs `due`, commit and push its removal)."
            )
        elif ended:
            print(f"Published: the schedule for {len(ended)} plan(s) is done.")


@task
def due(c):
    """Publish again when a withdraw or lock given --for/--until has ended.

    Idempotent: before its time, or with nothing scheduled, it changes nothing.
    """
    try:
        plans = schedule.load(_schedule_file())
        clock = schedule.now()
    except schedule.ScheduleError as e:
        raise Exit(str(e)) from None
    if not plans:
        print("Nothing is due: no withdraw or lock is set to end.")
        return
    due_now = [plan for plan in plans if schedule.is_due(plan, clock)]
    if not due_now:
        print(
            f"Nothing is due yet: the site is "
            f"{'; '.join(schedule.describe(p) for p in plans)} (it is "
            f"{localtime.shown(clock)} now)."
        )
        return
    for plan in due_now:
        if plan not in schedule.load(_schedule_file()):
            continue  # an earlier plan's publish covered its targets too
        print(f"Due: the site was {schedule.describe(plan)}; publishing it again.")
        publish(c, target=plan.targets or None)


def _take_down(message, message_file, until, for_, target):
    """What withdraw and lock both start from: (settings, end, notice, targets)."""
    settings = _publish_settings()
    end = _end(until, for_, target)
    notice = _notice(message, message_file, settings)
    targets = _targets(target, settings)
    # Never held back by two addresses: the bad week comes first.
    settings = _addressed(settings, targets, strict=False)
    return settings, end, notice, targets


@task(
    positional=["message"],
    iterable=["target"],
    help={
        "message": MESSAGE_HELP,
        "message_file": MESSAGE_FILE_HELP,
        "until": UNTIL_HELP,
        "for_": FOR_HELP,
        "target": TARGET_HELP,
        "dry_run": DRY_RUN_HELP,
        "verbose": VERBOSE_HELP,
    },
)
def withdraw(  # noqa: PLR0917 - invoke maps flags to parameters
    c, message=None, message_file=None, until=None, for_=None, target=None,
    dry_run=False, verbose=False,
):  # fmt: skip
    """Take the whole site down: one notice at every address, nothing else."""
    settings, end, notice, targets = _take_down(
        message, message_file, until, for_, target
    )
    with _calmly("withdraw"):
        ops.withdraw(
            targets,
            message=notice,
            feeds=_feeds(settings),
            dry_run=dry_run,
            reporter=RichReporter(verbose=verbose),
            **_site(settings),
        )
    if not dry_run:
        _record("withdrawn", end, target, targets, settings)
        from hearth import elsewhere

        print()
        print("\n".join(elsewhere.checklist(_site(settings)["site_url"], targets)))


@task(
    positional=["message"],
    iterable=["target"],
    help={
        "message": MESSAGE_HELP + " (public beside the unlock form)",
        "message_file": MESSAGE_FILE_HELP,
        "until": UNTIL_HELP,
        "for_": FOR_HELP,
        "target": TARGET_HELP,
        "dry_run": DRY_RUN_HELP,
        "verbose": VERBOSE_HELP,
    },
)
def lock(  # noqa: PLR0917 - invoke maps flags to parameters
    c, message=None, message_file=None, until=None, for_=None, target=None,
    dry_run=False, verbose=False,
):  # fmt: skip
    """Put the whole site behind the site passphrase (HEARTH_PASSPHRASE_SITE)."""
    from hearth.secrets import SecretsError, passphrase_for

    settings, end, notice, targets = _take_down(
        message, message_file, until, for_, target
    )
    try:
        passphrase = passphrase_for(SITE_AUDIENCE, publish=True)
    except SecretsError as e:
        raise Exit(str(e)) from None
    with _say_if_state_changed(), _calmly("lock"):
        _lock(settings, targets, passphrase, dry_run, notice, verbose=verbose)
    if not dry_run:
        _record("locked", end, target, targets, settings)


def _lock(settings, targets, passphrase, dry_run, notice=None, *, verbose=False):
    from hearth.state import State, StateError

    build = _publish_build(settings)
    try:
        findings = _audit(settings, build)
        _stop_if_interrupted()
        if findings:
            # Locking only ever narrows who can read: refusing would leave
            # the site as it is, open to everyone. Lock, and say so loudly.
            print("Warning: the leak audit found private text in the build; it is")
            print("locked behind the site passphrase too. Fix it before publishing:")
            print("  " + "\n  ".join(findings))
        state_file = _state_file(settings)
        # Only the site salt: a lost state key must not stop a lock.
        state = State.load(state_file, check_key=False)
        iterations = settings.get("HEARTH_PBKDF2_ITERATIONS", envelope.ITERATION_FLOOR)
        salt, iterations = state.audience(SITE_AUDIENCE, iterations)
        if not dry_run:
            state.save()  # the site salt must survive: readers' keys depend on it
        key = envelope.derive_key(passphrase, salt, iterations)
        ops.lock(
            build,
            targets,
            recipients=[envelope.Recipient(SITE_AUDIENCE, salt, iterations, key)],
            static_dir=settings.get("THEME_STATIC_DIR", "theme"),
            previous_tree=ROOT / LOCK_CACHE,
            keep_tree=ROOT / LOCK_CACHE,
            dry_run=dry_run,
            reporter=RichReporter(verbose=verbose),
            notice=notice,
            **_site(settings),
        )
    except StateError as e:
        raise Exit(str(e)) from None
    finally:
        shutil.rmtree(build, ignore_errors=True)


@task(
    iterable=["target"],
    help={"target": TARGET_HELP, "dry_run": DRY_RUN_HELP, "verbose": VERBOSE_HELP},
)
def rollback(c, target=None, dry_run=False, verbose=False):
    """Put the previous release back on each target that keeps one; say which cannot."""
    from hearth import rollback as hearth_rollback

    _, targets = _publish_targets(target)
    with _calmly("rollback"):
        results = hearth_rollback.rollback(
            targets, dry_run=dry_run, reporter=RichReporter(verbose=verbose)
        )
    for result in results:
        print(
            ("Rolled back: " if result.done else "Not rolled back: ") + result.message
        )
    if not any(r.done for r in results):
        raise Exit("Nothing was rolled back (see above).")


@task(iterable=["target"], help={"target": TARGET_HELP})
def status(c, target=None):
    """Tell what each target serves now (published, withdrawn, locked) and check it."""
    settings, targets = _publish_targets(target)
    with _calmly("status"):
        results = ops.status(targets)
    plans, covers = _plans(), _covers(settings)
    for result in results:
        since = f" since {localtime.shown(result.since)}" if result.since else ""
        # The plan for this target, if any: another target's says nothing here.
        mine = [p for p in plans if p.state == result.state]
        plan = next((p for p in mine if result.target in covers(p)), None)
        if plan:
            since += f", {schedule.describe(plan)} (then `invoke due` publishes)"
        checked = f", {result.checked_urls} URLs checked" if result.checked_urls else ""
        print(f"{result.target}: {result.state}{since} ({result.files} files{checked})")
        for problem in result.problems:
            print(f"  ERROR: {problem}")
        for warning in result.warnings:
            print(f"  Warning: {warning}")
    if not settings.get("HEARTH_SOURCE_REPO_PRIVATE"):
        for name, url in ops.public_forge_remotes(ROOT):
            print(
                f"Warning: the source repository's remote {name!r} ({url}) looks like "
                "a public forge. Private posts and withdrawn pages live in its "
                "history: make it private, then set HEARTH_SOURCE_REPO_PRIVATE = "
                "True in publishconf.py."
            )
    if any(not r.ok for r in results):
        raise Exit("Some targets do not serve what they should (see ERROR above).")


@task(
    help={
        "posts": "posts in the synthetic site (default 1000)",
        "quick": "a small, fast run: 20 posts, 2 repeats, no scaling builds",
        "repeats": "times each figure is measured (default 3; 2 with --quick)",
        "out": "where to write the results (default benchmarks/results.json)",
        "scratch": "folder for the site and builds (default benchmarks/scratch)",
        "profile": "also profile one Hearth build with pyinstrument",
        "readme": "put the results table into docs/benchmarks.md",
        "only": "comma-separated sections to run (the build section runs too, "
        "and is recorded only if named); their figures replace those in the "
        "results file, the rest are kept",
    }
)
def bench(  # noqa: PLR0917 - invoke maps flags to parameters
    c,
    posts=None,
    quick=False,
    repeats=None,
    out=None,
    scratch=None,
    profile=False,
    readme=False,
    only="",
):
    """Measure Hearth against plain Pelican, StatiCrypt and WebCrypto's floor."""
    from benchmarks import harness

    options = harness.Options(
        posts=int(posts)
        if posts
        else (harness.QUICK_POSTS if quick else harness.DEFAULT_POSTS),
        quick=quick,
        repeats=int(repeats) if repeats else None,
        out=Path(out) if out else harness.RESULTS,
        scratch=Path(scratch) if scratch else harness.SCRATCH,
        profile=profile,
        command=" ".join(["invoke", "bench", *map(shlex.quote, sys.argv[2:])]),
        only=tuple(name.strip() for name in only.split(",") if name.strip()),
    )
    # Wide enough for the table when the output is a file or a pipe.
    console = Console(width=None if sys.stdout.isatty() else 140)
    results = harness.run(options, log=console.log)
    console.print(harness.table(results))
    console.print(f"Results written to {options.out}")
    if readme:
        harness.update_readme(results)
        console.print("docs/benchmarks.md's table updated")
