"""`imrgold serve`: the annotation interface in a browser, through textual-serve.

Each browser session runs `imrgold annotate` in a process of its own, the same Textual app a
terminal opens. The server listens on 127.0.0.1 only unless ``--host`` says otherwise; a random
token is the first segment of every path it answers (the page, its scripts and fonts, the
websocket), and anything else is refused with 403. textual-serve's page asks a font CDN for its
font: that link is replaced by the font textual-serve ships, so the browser fetches nothing from
anywhere but this server.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import os
import re
import secrets
import shlex
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imrgold.cli.commands import annotate
from imrgold.cli.common import UserError, db_path, existing_store
from imrgold.cli.identity import ENV as ANNOTATOR_ENV
from imrgold.cli.identity import resolve
from imrgold.core import environment

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.typedefs import Handler

NAME = "serve"
HELP = "open the annotation interface in a browser (reach it through an SSH tunnel)"
EXAMPLES = """examples:
  imrgold serve
  imrgold serve --port 8001 --annotator ana
  imrgold serve --read-only
"""
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8000
EXTRA_MISSING = "the browser view needs the serve extra: pip install 'imrgold[serve]'"
TEMPLATE = "app_index.html"

# An external stylesheet in textual-serve's page (its font comes from a CDN).
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*>", re.S)
# The fonts textual-serve ships in its static folder, in place of the CDN's.
_LOCAL_FONTS = """<style>
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf");
        font-style: normal;
      }
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-Italic-VariableFont_wght.ttf");
        font-style: italic;
      }
    </style>"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    annotate.add_arguments(parser)
    parser.add_argument(
        "--host",
        metavar="ADDRESS",
        default=None,
        help=f"address to listen on (default: {LOOPBACK}, this machine only; any other is "
        "reachable from the network)",
    )
    parser.add_argument(
        "--port",
        metavar="N",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default: {DEFAULT_PORT}; 0 takes a free one)",
    )


def local_page(template: str) -> str:
    """textual-serve's page template loading nothing from the network: its stylesheet from
    another host (the CDN's font) becomes the fonts it ships; any further one is dropped."""
    fonts = iter([_LOCAL_FONTS])
    return _EXTERNAL_LINK.sub(lambda _: next(fonts, ""), template)


def token_matches(path: str, token: str) -> bool:
    """Whether ``path``'s first segment is ``token``, compared in constant time."""
    first = path.split("/", 2)[1] if path.startswith("/") else ""
    return hmac.compare_digest(first.encode("utf-8", "surrogateescape"), token.encode("ascii"))


def reachable_from_network(host: str) -> bool:
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it resolves to whatever the network says
        return True


def page_url(host: str, port: int, token: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/{token}/"


def _require_extra() -> None:
    try:
        import aiohttp_jinja2  # noqa: F401
        import textual_serve.server  # noqa: F401
        from aiohttp import web  # noqa: F401
    except ImportError:
        raise UserError(EXTRA_MISSING) from None


def run(args: argparse.Namespace) -> int:
    _require_extra()
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port {args.port} is not a port number (0-65535)")
    host = LOOPBACK if args.host is None else args.host
    if reachable_from_network(host):
        print(
            f"imrgold serve: warning: listening on {host}, reachable from the network; the "
            "letters carry health information, and anyone who has the link can read and change "
            "the store (the connection is not encrypted)",
            file=sys.stderr,
            flush=True,
        )
    annotator = resolve(args.annotator)
    path = db_path(args.db)
    if args.read_only:
        existing_store(path)
    from imrgold.store import Store

    # Fail now, not in the first browser session, if the store is damaged or another writer
    # holds it.
    with Store.open(path, read_only=args.read_only, annotator=annotator):
        pass
    # The sessions' command line is visible to every user of the machine: the store and the
    # annotator go to them in the environment, which only their owner can read.
    child_env = {ANNOTATOR_ENV.value: annotator}
    if args.db:
        child_env[environment.Var.DB.value] = str(path.absolute())
    # `exec`: the session is the app itself, no shell between it and the signals it is sent.
    command = f"exec {shlex.quote(sys.executable)} -m imrgold annotate"
    if args.read_only:
        command += " --read-only"
    plan = Plan(command, child_env, host, args.port, secrets.token_urlsafe(32), args.read_only)
    return _serve(plan)


@dataclass(frozen=True)
class Plan:
    """What `imrgold serve` serves, where, and to whom."""

    command: str  # run once a browser session, by the shell
    env: dict[str, str]  # added to the sessions' environment
    host: str
    port: int
    token: str
    read_only: bool


def _serve(plan: Plan) -> int:
    os.environ.update(plan.env)
    return asyncio.run(_listen(plan))


async def _build_app(plan: Plan) -> web.Application:
    import aiohttp_jinja2
    import jinja2
    from aiohttp import web
    from textual_serve.server import Server, to_int

    class TokenServer(Server):
        """textual-serve's server, its page made local and its links made from the address the
        browser used (through a tunnel that is not the one listened on)."""

        async def _make_app(self) -> web.Application:
            inner = await super()._make_app()
            shipped = (Path(self.templates_path) / TEMPLATE).read_text(encoding="utf-8")
            loader = jinja2.DictLoader({TEMPLATE: local_page(shipped)})
            aiohttp_jinja2.setup(inner, loader=loader, autoescape=True)
            return inner

        async def on_startup(self, app: web.Application) -> None:
            """Quiet: textual-serve's banner names an address that is not the one served."""

        async def handle_index(self, request: web.Request) -> web.Response:
            router = request.app.router
            static = str(router["static"].url_for(filename="/")).rstrip("/") + "/"
            scheme = "wss" if request.secure else "ws"
            context: dict[str, object] = {
                "font_size": to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": f"{scheme}://{request.host}{router['websocket'].url_for()}",
                "config": {"static": {"url": static}},
                "application": {"name": self.title},
            }
            return aiohttp_jinja2.render_template(TEMPLATE, request, context)

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            # A second writer's app would stop at the store's lock and leave its tab blank:
            # refuse it here, and the page says the session ended.
            if writers and not plan.read_only:
                print(
                    "imrgold serve: another browser session refused: the store is open in one "
                    "already (one writer at a time)",
                    file=sys.stderr,
                    flush=True,
                )
                raise web.HTTPConflict(text="the store is open in another browser session")
            writers.append(request)
            try:
                return await super().handle_websocket(request)
            finally:
                writers.remove(request)

    writers: list[web.Request] = []
    sessions: set[asyncio.Task[object]] = set()

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not token_matches(request.path, plan.token):
            raise web.HTTPForbidden(text="403: this address needs the link imrgold serve printed")
        task = asyncio.current_task()
        assert task is not None
        sessions.add(task)
        try:
            response: web.StreamResponse = await handler(request)
        finally:
            sessions.discard(task)
        return response

    async def end_sessions(app: web.Application) -> None:
        # A session lasts as long as its websocket: end each now, which tells its app to quit
        # (and so lets go of the store), rather than wait out aiohttp's minute of grace.
        for task in list(sessions):
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)

    async def private(request: web.Request, response: web.StreamResponse) -> None:
        # The token is in every address: never hand it on, never keep a page.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"

    server = TokenServer(plan.command, title="imrgold")
    app = web.Application(middlewares=[guard])
    app.on_response_prepare.append(private)
    app.on_shutdown.append(end_sessions)
    app.add_subapp(f"/{plan.token}/", await server._make_app())
    return app


async def _listen(plan: Plan) -> int:
    from aiohttp import web

    runner = web.AppRunner(await _build_app(plan), access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(runner, plan.host, plan.port)
        await site.start()
        bound = runner.addresses[0][1]
        print(f"imrgold serve: open {page_url(plan.host, bound, plan.token)}", flush=True)
        if not reachable_from_network(plan.host):
            print(
                f"from another machine: ssh -L {bound}:{LOOPBACK}:{bound} "
                f"{socket.gethostname()}, then open the link there; Ctrl+C stops",
                flush=True,
            )
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0
