"""The live preview: rebuild on every change, reload the browser, show errors.

`invoke preview` is a thin wrapper over `serve`. The watching, the
websocket and the browser-side reloading are python-livereload's (the
LiveReload protocol and its livereload.js); this module adds what a writer
needs on top:

- the build runs once per change, so each of its messages is printed once
  per change (Pelican's own dedup of repeated warnings is reset per build);
- a build that stops is shown in the browser as an error page with the
  message (for every page, instead of the page as it was), until the next
  build succeeds, when the browser reloads onto the site again;
- the reload script is a same-origin <script src>, which the theme's
  Content-Security-Policy (script-src 'self') lets run; livereload's own
  snippet is inline and would be refused.
"""

import errno
import html
import logging
import mimetypes
import os
import posixpath
import socket
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from livereload import Server
from livereload.handlers import LiveReloadHandler
from pelican.log import DEFAULT_LOG_HANDLER, LimitFilter
from pelican.log import init as init_logging

logger = logging.getLogger(__name__)

# What a change to any of these means: build again (relative to the repository).
WATCHED = ("content/**/*", "theme/**/*", "pelicanconf.py", "plugins/**/*.py")


class PortInUseError(OSError):
    """The preview's port is taken (another preview, or another program)."""


# A WSGI application and its start_response (PEP 3333).
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class BuildResult:
    """The last build: ok, or the messages that stopped it."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.errors


class _Collect(logging.Handler):
    """Keeps the text of every error a build logs, for the error page."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text not in self.messages:
            self.messages.append(text)


def run_build(build: Callable[[], object], result: BuildResult) -> BuildResult:
    """Run `build()` (one Pelican build) and record in `result` how it went."""
    # Pelican drops a warning it has printed before in this process; each
    # build after a change should say its warnings again, once.
    LimitFilter._raised_messages.clear()
    LimitFilter._group_count.clear()
    collect = _Collect()
    root = logging.getLogger()
    if not root.handlers:
        # Pelican sets up its console handler only when the root logger has
        # none; the collector below must not take its place.
        init_logging(handler=DEFAULT_LOG_HANDLER)
    root.addHandler(collect)
    try:
        build()
    except SystemExit as stop:
        if stop.code:
            result.errors = collect.messages or [
                "The build stopped; see the terminal for why."
            ]
            return result
    finally:
        root.removeHandler(collect)
    result.errors = []
    return result


def error_page(errors: Iterable[str], script: str) -> bytes:
    """The page the browser shows while the build is stopped."""
    items = "\n".join(f"<pre>{html.escape(message)}</pre>" for message in errors)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>The preview is waiting for a fix</title>
<style>body{{font:1.1rem/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;
padding:0 1rem}}pre{{white-space:pre-wrap;background:#fff4f0;border-left:4px solid
#b3261e;padding:.75rem 1rem}}</style>
{script}</head><body>
<h1>The preview is waiting for a fix</h1>
<p>The last build stopped, so this is not your site as it is now. Fix what
the message says and save the file: this page reloads by itself.</p>
{items}
</body></html>
""".encode()


def site_app(root: str | os.PathLike[str], result: BuildResult, script: str) -> WSGIApp:
    """A WSGI app serving the built site from `root`, or the error page."""
    folder = Path(root).resolve()

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        path = urllib.parse.unquote(environ.get("PATH_INFO") or "/")
        clean = posixpath.normpath("/" + path.lstrip("/"))
        target = (folder / clean.lstrip("/")).resolve()
        if folder != target and folder not in target.parents:
            return _send(start_response, "404 Not Found", b"Not found", "text/plain")
        if target.is_dir():
            if not path.endswith("/"):
                start_response("301 Moved Permanently", [("Location", path + "/")])
                return [b""]
            target = target / "index.html"
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if not result.ok and (kind == "text/html" or not target.exists()):
            return _send(
                start_response,
                "500 Build stopped",
                error_page(result.errors, script),
                "text/html; charset=utf-8",
            )
        if not target.is_file():
            missing = folder / "404.html"
            body = missing.read_bytes() if missing.is_file() else b"Not found"
            return _send(start_response, "404 Not Found", body, "text/html")
        if kind.startswith("text/") or kind.endswith(("javascript", "json", "xml")):
            kind += "; charset=utf-8"
        return _send(start_response, "200 OK", target.read_bytes(), kind)

    return app


def _send(
    start_response: StartResponse, status: str, body: bytes, kind: str
) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", kind),
            ("Content-Length", str(len(body))),
            # Always the latest build: the browser must not keep an old page.
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]


class _PreviewServer(Server):
    """livereload's server with a reload script the theme's CSP allows."""

    def __init__(self, app: WSGIApp, script: str) -> None:
        super().__init__(app)
        self._script = script

    def application(self, *args: Any, **kwargs: Any) -> Any:
        # livereload ignores a change within 3 s of the last reload (against
        # bursts of saves). Here one change is one build, and a fix saved
        # just after a mistake must still replace the error page.
        LiveReloadHandler.DEFAULT_RELOAD_TIME = 0
        return super().application(*args, **kwargs)

    def get_web_handlers(self, script: bytes) -> Any:
        return super().get_web_handlers(self._script.encode())

    def _setup_logging(self) -> None:
        # The preview says what it does itself; livereload's and tornado's
        # lines (watching, each request) only when something goes wrong.
        logging.getLogger("livereload").setLevel(logging.WARNING)
        logging.getLogger("tornado.access").setLevel(logging.WARNING)


def free_port_after(host: str, port: int) -> int:
    """The first port after `port` that nothing listens on (to suggest)."""
    for candidate in range(port + 1, port + 50):
        with socket.socket() as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port + 1


def serve(
    build: Callable[[], object],
    output: str | os.PathLike[str],
    *,
    host: str,
    port: int,
    root: str | os.PathLike[str],
    announce: Callable[[str], object] = print,
) -> None:
    """Build, serve `output` on host:port and rebuild whenever a file changes.

    `build()` runs one build (raising SystemExit on failure, as Pelican's
    main does); `root` is the repository whose WATCHED files are watched.
    Raise PortInUseError if the port is taken. Returns on Ctrl-C.
    """
    # Claim the port before the first build: a taken port is said at once.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                raise
            raise PortInUseError(
                f"Port {port} on {host} is already in use (another preview or "
                f"another program). Stop that, or preview on another port: "
                f"invoke preview --port {free_port_after(host, port)}"
            ) from None
    result = BuildResult()
    run_build(build, result)
    script = f'<script src="/livereload.js?port={port}"></script>'
    server = _PreviewServer(site_app(output, result, script), script)

    def rebuild() -> None:
        run_build(build, result)
        if result.ok:
            announce("Rebuilt; the browser reloads.")
        else:
            announce("The preview shows the error until it is fixed.")

    for pattern in WATCHED:
        server.watch(str(Path(root) / pattern), rebuild)
    announce(
        f"Previewing the site at http://{host}:{port}/ : it rebuilds and the "
        "browser reloads whenever you save a file (Ctrl-C to stop)."
    )
    server.serve(host=host, port=port, debug=False, restart_delay=0)
