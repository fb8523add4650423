"""The app served by a real Voila on 127.0.0.1 and driven by Debian's headless chromium."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright
from voilapage import open_app_page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("MAILKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The lab template asks a CDN for Font Awesome and MathJax; offline that is noise, not a fault.
OFFLINE_NOISE = re.compile(
    r"net::ERR_|Unsatisfied version|No satisfying version|Available versions"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Voila:
    """A running Voila: its URL and its log (which says when its kernel pool is warm)."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]
    pid: int = 0  # Voila's own process when ``process`` is a launcher (./dev app's)

    def _count(self, text: str) -> int:
        return self.log.read_text(encoding="utf-8", errors="replace").count(text)

    def wait_warm(self, timeout: float = 90) -> None:
        """Wait until a pre-heated kernel has run the notebook and waits for the next page.

        Voila logs "filled" when the kernel has started; it then runs the notebook in the
        background, so Voila and its newest kernel must also have gone quiet (no CPU for 1 s).
        """
        deadline = time.monotonic() + timeout
        while self._count("is filled with") <= self._count("Using pre-heated kernel"):
            self._check(deadline, timeout)
        quiet_since, last = time.monotonic(), -1
        while time.monotonic() - quiet_since < 1.0:
            self._check(deadline, timeout)
            pid = self.pid or self.process.pid
            ticks = _cpu_ticks(pid) + _cpu_ticks(_newest_child(pid))
            if ticks != last:
                quiet_since, last = time.monotonic(), ticks

    def _check(self, deadline: float, timeout: float) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"Voila stopped; see {self.log}")
        if time.monotonic() > deadline:
            pytest.fail(f"Voila's kernel pool did not warm up within {timeout} s; see {self.log}")
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    """Children of every thread of `pid`, skipping a thread or child that ends meanwhile."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            text = (task / "children").read_text(encoding="ascii")
        except OSError:
            continue
        found.extend(int(c) for c in text.split())
    return found


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    return text.rsplit(")", 1)[1].split()  # fields after the command name (which may hold spaces)


def _newest_child(pid: int) -> int:
    """The kernel Voila started last (children sorted by start time)."""
    started: dict[int, int] = {}
    for kid in _children(pid):
        try:
            started[kid] = int(_stat(kid)[19])
        except OSError:
            continue  # the child ended between the two reads
    return max(started, key=started.__getitem__) if started else pid


def _cpu_ticks(pid: int) -> int:
    try:
        fields = _stat(pid)
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voila]:
    """Voila serving notebooks/app.ipynb (with voila.json) on a free 127.0.0.1 port."""
    home = tmp_path_factory.mktemp("voila-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MAILKIT_", "XDG_"))}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1")
    port = _free_port()
    log = home / "voila.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voila",
                "notebooks/app.ipynb",
                "--no-browser",
                f"--port={port}",
                "--Voila.ip=127.0.0.1",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Voila(f"http://127.0.0.1:{port}/", log, process)
    try:
        _poll(server, timeout=90)
        server.wait_warm()
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Voila then shuts its kernels down); kill whatever is left after 30 s."""
    kernels = _children(process.pid) if process.poll() is None else []
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    for pid in kernels:  # kernels run in their own sessions: a killed Voila leaves them behind
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _poll(server: Voila, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"Voila exited with {server.process.returncode}; see {server.log}")
        try:
            with urllib.request.urlopen(server.url, timeout=30) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"Voila did not answer within {timeout} s; see {server.log}")


@dataclass
class DevApp:
    """``python -m mailkit.localapp`` (what ``./dev app`` runs): the sink and Voila."""

    server: Voila
    sink_port: int
    sink_folder: Path
    home: Path


def _voila_child(launcher: int, deadline: float) -> int:
    while time.monotonic() < deadline:
        for pid in _children(launcher):
            with contextlib.suppress(OSError):
                if b"voila" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
        time.sleep(0.2)
    pytest.fail("the launcher started no Voila")


@pytest.fixture(scope="module")
def dev_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevApp]:
    """The app as ``./dev app`` starts it (sink, its account, Voila), with a private HOME
    (settings store, outbox) and free ports; stopped with SIGINT, as Ctrl-C would."""
    home = tmp_path_factory.mktemp("dev-app-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MAILKIT_", "XDG_"))}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1")
    port, sink_port, folder = _free_port(), _free_port(), home / "sink"
    log = home / "app.log"
    command = [sys.executable, "-m", "mailkit.localapp", f"--port={port}"]
    command += [f"--sink-port={sink_port}", f"--sink-folder={folder}"]
    with log.open("wb") as out:
        launcher = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        pid = _voila_child(launcher.pid, time.monotonic() + 60)
        server = Voila(f"http://127.0.0.1:{port}/", log, launcher, pid)
        _poll(server, timeout=90)
        server.wait_warm()
        yield DevApp(server, sink_port, folder, home)
    finally:
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGINT)
            try:
                launcher.wait(timeout=40)
            except subprocess.TimeoutExpired:
                _stop(launcher)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, launched once per module; never ``playwright install``.

    Not for the whole session: while Playwright's sync API is open, its event loop counts as
    running in this thread, and every later ``asyncio.run`` in the suite would fail.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (./dev test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


class Page:
    """One browser page on the app, with the console errors it logged and a screenshot helper."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type == "error" and not OFFLINE_NOISE.search(message.text):
            self.errors.append(message.text)

    def shot(self, name: str) -> Path:
        """Save a screenshot (look at it when the UI changes)."""
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def tab(self, index: int) -> None:
        """Open the tab at ``index`` (0: Data, 1: Templates, 2: Preview, 3: Send, 4: Log,
        5: Compose, 6: Accounts)."""
        self.page.locator(".mk-tabs .lm-TabBar-tab").nth(index).click()


def _checked(page: Any) -> None:
    """Wait for the sample's preflight verdict (the app is shown; the check may take a while on a
    busy machine) and say what it was if it is not "ready"."""
    summary = ".mk-preflight-summary"
    page.wait_for_selector(f"{summary} .mk-ok, {summary} .mk-warning, {summary} .mk-error",
                           timeout=60_000)  # fmt: skip
    assert page.locator(f"{summary} .mk-ok").count(), page.locator(summary).inner_text()


@contextlib.contextmanager
def _opened(browser: Any, server: Voila, folder: Path) -> Iterator[Page]:
    """A fresh page showing the app with the sample invoices loaded and checked; no console
    errors by the time it closes."""
    context = browser.new_context(viewport={"width": 1300, "height": 2400})
    try:  # closed also when opening fails or a test's ``with`` block does
        page = Page(context.new_page(), folder)
        page.page.set_default_timeout(30_000)
        if open_app_page(page.page, server.url):
            page.errors.clear()  # the abandoned first load's console noise
        _checked(page.page)
        yield page
    finally:
        context.close()  # its kernel is culled when idle (voila.json) or stopped with Voila
    assert not page.errors, page.errors


@pytest.fixture
def app_page(browser: Any, voila: Voila, tmp_path: Path) -> Iterator[Page]:
    """A fresh page showing the app with the sample invoices loaded and checked."""
    voila.wait_warm()
    with _opened(browser, voila, tmp_path) as page:
        yield page


@pytest.fixture
def dev_page(browser: Any, dev_app: DevApp, tmp_path: Path) -> Iterator[Page]:
    """A fresh page on the ``./dev app`` app, its sample invoices loaded and checked."""
    dev_app.server.wait_warm()
    with _opened(browser, dev_app.server, tmp_path) as page:
        yield page


@pytest.fixture
def open_dev_page(
    browser: Any, dev_app: DevApp, tmp_path: Path
) -> Callable[[], contextlib.AbstractContextManager[Page]]:
    """``with open_dev_page() as page``: a page on the ``./dev app`` app opened only then (after
    what the test did first), without waiting for the kernel pool."""
    return lambda: _opened(browser, dev_app.server, tmp_path)
