"""`imrgold serve`: the annotation app in a browser, only for whoever has the printed link."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import aiohttp
import pytest

from imrgold.cli.commands import serve
from imrgold.cli.main import main
from imrgold.store import Store

ROOT = Path(__file__).resolve().parent.parent
ANNOTATOR = "zelda"
# Every address a page makes its browser fetch: src, href, url(...).
_FETCHED = re.compile(r"""\b(?:src|href)="([^"]*)"|url\(\s*["']?([^"')]*)""")
_ESCAPE = re.compile(r"\x1b(?:\[[0-9;?$]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|.)")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMRGOLD_")}
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / f"xdg-{name.lower()}")
    return env


def _children(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found += kids
        frontier += kids
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def _status(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        return response.status


async def _ws_status(session: aiohttp.ClientSession, url: str) -> int:
    try:
        async with session.ws_connect(url):
            return 101
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status


async def _screen_showing(ws: aiohttp.ClientWebSocketResponse, *wanted: str) -> str:
    """The app's output as text, up to the first screen that shows all of ``wanted``."""
    received = b""
    while True:
        message = await asyncio.wait_for(ws.receive(), timeout=60)
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), message
        if message.type is aiohttp.WSMsgType.BINARY:
            received += message.data
        text = _ESCAPE.sub("", received.decode("utf-8", "replace"))
        if all(words in text for words in wanted):
            return text


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_serve_answers_only_with_the_token_and_runs_the_app(tmp_path):
    db = tmp_path / "team" / "store.json"
    argv = ["serve", "--port", "0", "--db", str(db), "--annotator", ANNOTATOR]
    proc = subprocess.Popen(
        [sys.executable, "-m", "imrgold", *argv],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # A server that never prints its link must not hang the suite.
    watchdog = threading.Timer(240, proc.kill)
    watchdog.start()
    try:
        first = proc.stdout.readline()
        found = re.fullmatch(r"imrgold serve: open (http://127\.0\.0\.1:(\d+)/([\w-]+)/)\n", first)
        assert found, (first, proc.stderr.read() if proc.poll() is not None else "")
        url, port, token = found.groups()
        assert len(token) >= 43
        assert f"ssh -L {port}:127.0.0.1:{port}" in proc.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
        session_processes: list[int] = []

        async def browse() -> None:
            async with aiohttp.ClientSession() as http:
                async with http.get(url) as response:
                    assert response.status == 200
                    assert response.headers["Referrer-Policy"] == "no-referrer"
                    page = await response.text()
                fetched = [a or b for a, b in _FETCHED.findall(page)]
                assert any(f.endswith("/js/textual.js") for f in fetched)
                assert any(f.endswith(".ttf") for f in fetched)  # the shipped font, not a CDN's
                # Nothing from another host: every address is this server's, under the token.
                assert fetched and all(f.startswith(f"/{token}/static/") for f in fetched), fetched
                assert "googleapis" not in page
                for address in fetched:
                    assert await _status(http, base + address) == 200, address
                ws_url = re.search(r'data-session-websocket-url="([^"]+)"', page).group(1)
                assert ws_url == f"ws://127.0.0.1:{port}/{token}/ws"

                refused = [
                    "/",
                    f"/?token={token}",
                    f"/{wrong}/",
                    f"/{token[:-1]}/",
                    f"/{token}x/",
                    f"/{token[:-1]}é/",
                    f"//{token}/",
                    f"/{token.upper() if token != token.upper() else token.lower()}/",
                    "/static/js/textual.js",
                    f"/{wrong}/static/js/textual.js",
                    f"/download/{token}",
                ]
                for path in refused:
                    assert await _status(http, base + path) == 403, path
                for path in ("/ws", f"/{wrong}/ws", f"/ws?token={token}"):
                    assert await _ws_status(http, base.replace("http", "ws") + path) == 403, path

                async with http.ws_connect(f"{ws_url}?width=140&height=40") as ws:
                    # The annotation app itself, on the store given, for the annotator given
                    # (the header's label comes a frame after the first screen).
                    await _screen_showing(ws, "no letters yet", f"{db} · {ANNOTATOR}")
                    # One writer at a time: a second tab is refused, not left blank at the lock.
                    assert await _ws_status(http, f"{ws_url}?width=80&height=24") == 409
                    session_processes.extend(_children(proc.pid))
                    assert session_processes
                    for pid in session_processes:
                        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
                        assert "annotate" in argv
                        # Neither the token nor whose store it is shows in the process list.
                        assert token not in argv and ANNOTATOR not in argv and str(db) not in argv
                    # Stopping the server ends the session's app with it.
                    proc.terminate()
                    last = await asyncio.wait_for(ws.receive(), timeout=60)
                    while last.type is aiohttp.WSMsgType.BINARY:  # what the app still drew
                        last = await asyncio.wait_for(ws.receive(), timeout=60)
                    assert last.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)

        try:
            asyncio.run(browse())
        except BaseException:
            proc.kill()
            out, err = proc.communicate()
            print(f"imrgold serve printed:\n{out}\n{err}")  # shown by pytest with the failure
            raise
        # The app quits once it has loaded the drug lexicon it started building (a cold cache
        # here): the server waits for it rather than kill it mid-save.
        assert proc.wait(timeout=120) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert not [pid for pid in session_processes if _running(pid)]
    # The session's app let go of the store: a writer can open it now.
    Store.open(db, annotator="after").close()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """`imrgold serve` run in-process up to the point it would listen; what it would serve."""
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("IMRGOLD_DB", raising=False)
    calls: list[serve.Plan] = []

    def listen(plan):
        calls.append(plan)
        return 0

    monkeypatch.setattr(serve, "_serve", listen)
    return calls


def test_other_hosts_only_when_asked_and_then_with_a_warning(served, tmp_path, capsys):
    db = tmp_path / "store.json"
    argv = ["serve", "--db", str(db), "--annotator", ANNOTATOR]
    for quiet in ([], ["--host", "localhost"], ["--host", "127.0.0.1"], ["--host", "::1"]):
        assert main([*argv, *quiet]) == 0
        assert capsys.readouterr().err == "", quiet
    assert served[0].host == "127.0.0.1" and served[0].port == 8000
    for host in ("0.0.0.0", "192.0.2.7", "annotation.example.org"):
        assert main([*argv, "--host", host, "--port", "8123"]) == 0
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("imrgold serve: warning:"), lines
        assert "health information" in lines[0] and "reachable from the network" in lines[0]
        assert served[-1].host == host and served[-1].port == 8123
    # What each session runs: the annotate command, the store and annotator out of its argv.
    for plan in served:
        assert plan.command.endswith(" -m imrgold annotate") and not plan.read_only
        assert plan.env == {"IMRGOLD_ANNOTATOR": ANNOTATOR, "IMRGOLD_DB": str(db)}
    tokens = [plan.token for plan in served]
    assert len(set(tokens)) == len(tokens) and min(map(len, tokens)) >= 43


def test_read_only_sessions_and_bad_input(served, tmp_path, capsys):
    db = tmp_path / "store.json"
    assert main(["serve", "--db", str(db), "--annotator", ANNOTATOR, "--read-only"]) == 2
    err = capsys.readouterr().err
    assert err == f"imrgold serve: error: no store at {db}\n"
    Store.open(db, annotator=ANNOTATOR).close()
    assert main(["serve", "--db", str(db), "--annotator", ANNOTATOR, "--read-only"]) == 0
    assert served[-1].command.endswith(" -m imrgold annotate --read-only")
    assert served[-1].read_only
    assert main(["serve", "--db", str(db), "--annotator", ANNOTATOR, "--port", "70000"]) == 2
    assert capsys.readouterr().err == (
        "imrgold serve: error: --port 70000 is not a port number (0-65535)\n"
    )
    assert len(served) == 1


def test_a_store_another_writer_holds_is_refused_before_serving(served, tmp_path, capsys):
    db = tmp_path / "store.json"
    with Store.open(db, annotator="holder"):
        assert main(["serve", "--db", str(db), "--annotator", ANNOTATOR]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("imrgold serve: error:")
    assert "being written" in err
    assert served == []


def test_a_port_in_use_is_one_line(tmp_path, monkeypatch, capsys):
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    # The child sessions' variables serve sets in its own environment: restored afterwards.
    monkeypatch.setenv("IMRGOLD_ANNOTATOR", "x")
    monkeypatch.setenv("IMRGOLD_DB", "x")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["serve", "--db", str(tmp_path / "s.json"), "--annotator", ANNOTATOR]
        assert main([*argv, "--port", str(port)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("imrgold serve: error:"), err
    assert str(port) in err and "Traceback" not in err


def test_without_the_extra_one_line_and_nothing_served(served, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert main(["serve", "--db", str(tmp_path / "s.json"), "--annotator", ANNOTATOR]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "imrgold serve: error: the browser view needs the serve extra: "
        "pip install 'imrgold[serve]'\n"
    )
    assert served == []


def test_the_other_commands_do_not_load_the_serve_extra():
    code = (
        "import sys; from imrgold.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual_serve', 'aiohttp', 'aiohttp_jinja2')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_page_is_made_local():
    import textual_serve

    shipped = (Path(textual_serve.__file__).parent / "templates" / serve.TEMPLATE).read_text()
    page = serve.local_page(shipped)
    assert not re.search(r"""(?:src|href)="(?:https?:)?//""", page)
    assert page.count("@font-face") == 2 and "fonts/RobotoMono-VariableFont_wght.ttf" in page
    # Only the stylesheet from another host is gone: the page's own still loads.
    assert page.count("<link") == shipped.count("<link") - 1
