"""``bench/app_bench.py --browser``: the first widget, and Preview's row switch in chromium
while the app sends."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
POSITION = "() => document.querySelector('.mk-position').innerText"
BAR = "() => document.querySelector('.mk-dispatch-send .progress-bar').style.width"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _notebook(folder: Path) -> Path:
    """The app notebook, opening ``folder/jobs/job.toml`` instead of the samples."""
    doc = json.loads((ROOT / "notebooks" / "app.ipynb").read_text(encoding="utf-8"))
    for cell in doc["cells"]:
        text = "".join(cell["source"])
        text = text.replace('Path("..") / "data" / "jobs"', 'Path("jobs")')
        cell["source"] = text.replace('"overdue.toml"', '"job.toml"')
    path = folder / "app.ipynb"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _switches(page: Any, label: str, count: int) -> None:
    times = []
    for _n in range(count):
        before = page.evaluate(POSITION)
        started = time.perf_counter()
        page.locator("button.mk-next").click()
        page.wait_for_function(f"old => ({POSITION})() !== old", arg=before)
        times.append((time.perf_counter() - started) * 1000)
        page.wait_for_timeout(300)
    print(f"Preview 'Next' {label}: median {statistics.median(times):.0f} ms, "
          f"max {max(times):.0f} ms")  # fmt: skip


def _first_widget(browser: Any, url: str, opens: int = 3) -> None:
    """Seconds from opening the page until the app's tabs are on screen, a fresh page each
    time; Voila pre-heats kernels (voila.json), so each open after the first finds one ready."""
    times = []
    for _n in range(opens):
        time.sleep(5)  # let the next pre-heated kernel get ready, as between two users
        context = browser.new_context(viewport={"width": 1300, "height": 1000})
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_selector(".mk-app .mk-tabs", state="visible", timeout=60_000)
        times.append(time.perf_counter() - started)
        context.close()
    print(f"first widget: {', '.join(f'{t:.2f}' for t in times)} s, "
          f"median {statistics.median(times):.2f} s (target < 3 s)")  # fmt: skip


def _drive(url: str, n: int) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        _first_widget(browser, url)
        page = browser.new_context(viewport={"width": 1300, "height": 1400}).new_page()
        page.set_default_timeout(600_000)
        page.goto(url)
        page.wait_for_selector(".mk-preflight-summary .mk-ok")
        tabs = page.locator(".mk-tabs .lm-TabBar-tab")
        tabs.nth(2).click()
        page.wait_for_selector(".mk-position:has-text('R0')")
        _switches(page, "idle", 8)
        tabs.nth(3).click()
        page.locator(".mk-send-mode button").nth(2).click()
        started = time.perf_counter()
        page.locator("button.mk-send-button").click()
        page.wait_for_selector(".mk-send-status .mk-progress-text")
        print(f"sending began after {time.perf_counter() - started:.1f} s (check and journal)")
        tabs.nth(2).click()
        _switches(page, "while sending", 12)
        tabs.nth(3).click()
        page.wait_for_selector(f".mk-send .mk-notice:has-text('sent: {n}')")
        print(f"{n} sent after {time.perf_counter() - started:.1f} s; bar {page.evaluate(BAR)}")
        browser.close()


def measure(root: Path, n: int, write_job: Callable[[Path, int], None]) -> None:
    """Start the app as ``./dev app`` does on a generated job of ``n`` rows and measure."""
    (root / "nb" / "jobs").mkdir(parents=True)
    write_job(root / "nb" / "jobs", n)
    notebook = _notebook(root / "nb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MAILKIT_"))}
    env.update(HOME=str(root), PYTHONUNBUFFERED="1", MAILKIT_LANG="en")  # the texts waited for
    port = _free_port()
    command = [sys.executable, "-m", "mailkit.localapp", f"--port={port}",
               f"--sink-port={_free_port()}", f"--sink-folder={root / 'sink'}",
               f"--notebook={notebook}"]  # fmt: skip
    with (root / "app.log").open("wb") as log:
        app = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _n in range(300):
            try:
                urllib.request.urlopen(url, timeout=30).close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        _drive(url, n)
    finally:
        app.send_signal(signal.SIGINT)
        app.wait(60)
