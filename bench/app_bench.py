"""The app stays responsive while it sends a big batch to the local sink (as ``./dev app``).

    python bench/app_bench.py [--messages 10000] [--browser]

Runs the app's widgets headless on one asyncio loop, as a Voila kernel does: a job of
``--messages`` rows is loaded, checked, and sent with the Send tab to a ``mailkit sink`` process
(the account ``./dev app`` makes). While the batch runs, it measures (a) the kernel loop's
latency (how late a 20 ms timer fires: what any click waits for at most) and (b) the time
the Preview tab takes to show the next row when "Next" is clicked, every 0.5 s.

With ``--browser`` it runs the app as ``./dev app`` does (sink, account, Voila) on a copy of
the app notebook that opens the generated job, and drives Debian's chromium: the time from a
click on "Next" in Preview to the next row on screen, idle and while the batch is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mailkit.accountform import ensure_sink_account
from mailkit.store import SettingsStore
from mailkit.ui import App, PreviewTab, SendTab, open_store

ROOT = Path(__file__).resolve().parents[1]
JOB = """\
name = "Responsiveness"
kind = "rows"
company = "Hurtownia Bałtyk Sp. z o.o."
[data]
path = "people.csv"
key = "id"
[data.columns]
id = "Nr"
"imię" = "Imię"
email = "E-mail"
kwota = {{ column = "Kwota", type = "money" }}
[template]
subject = "Rozliczenie dla {{imię}}"
text = "Dzień dobry {{imię}},\\n\\ndo zapłaty {{kwota}}.\\n{filler}\\n"
[sender]
address = "biuro@hurtownia-baltyk.example.com"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_job(folder: Path, n: int) -> None:
    rows = ["Nr,Imię,E-mail,Kwota"]
    rows += [f"R{i:05d},Osoba{i},osoba{i}@example.org,{100 + i % 900}.50" for i in range(n)]
    (folder / "people.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    filler = "Lorem ipsum dolor sit amet. " * 60  # a body of about 2 KB
    (folder / "job.toml").write_text(JOB.format(filler=filler), encoding="utf-8")


def _summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{name}: n={len(values)} median {statistics.median(values):.0f} ms, "
        f"p95 {p95:.0f} ms, max {max(values):.0f} ms"
    )


async def _watch_loop(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.02)
        lags.append((time.perf_counter() - started - 0.02) * 1000)


async def _click_next(app: App, switches: list[list[float]], stop: asyncio.Event) -> None:
    preview = app.panel(PreviewTab)
    turn = 0
    while not stop.is_set():
        await asyncio.sleep(0.5)
        turn += 1
        started = time.perf_counter()
        if turn % 2:
            preview.next_button.click()  # the next message (built ahead while reading)
            switches[0].append((time.perf_counter() - started) * 1000)
        else:  # a jump far away: nothing was built ahead for it
            preview.search.value = f"osoba{(turn * 7919) % 9000}@"
            switches[1].append((time.perf_counter() - started) * 1000)


async def _run(folder: Path, n: int) -> None:
    app = App.create(folder, store=open_store())
    started = time.perf_counter()
    app.load("job.toml")
    await app.ready()
    print(f"loaded and checked {n} rows in {time.perf_counter() - started:.1f} s")
    app.select(PreviewTab)
    send = app.panel(SendTab)
    send.mode.value = "all"
    lags: list[float] = []
    switches: list[list[float]] = [[], []]
    stop = asyncio.Event()
    watchers = [
        asyncio.ensure_future(_watch_loop(lags, stop)),
        asyncio.ensure_future(_click_next(app, switches, stop)),
    ]
    started = time.perf_counter()
    send.send_button.click()
    await send.dispatch.task
    elapsed = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*watchers)
    print(send.notice.value)
    print(f"sent {n} messages in {elapsed:.1f} s ({n / elapsed:.0f} msg/s), bar "
          f"{send.dispatch.bar.value}/{send.dispatch.bar.max}")  # fmt: skip
    print(_summary("kernel loop latency (20 ms timer, lateness)", lags))
    print(_summary("Preview 'Next' while sending", switches[0]))
    print(_summary("Preview search to a far row while sending", switches[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--browser", action="store_true", help="measure in headless chromium")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mailkit-appbench-") as tmp:
        root = Path(tmp)
        os.environ.update(HOME=str(root), MAILKIT_LANG="en")
        if ns.browser:
            from app_browser import measure  # noqa: PLC0415 (playwright only when asked)

            measure(root, ns.messages, _write_job)
            return
        _write_job(root, ns.messages)
        port = _free_port()
        sink = subprocess.Popen(
            [sys.executable, "-m", "mailkit", "sink", "--folder", str(root / "sink"),
             "--port", str(port)],
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(1.5)
            with SettingsStore() as store:
                ensure_sink_account(store, port, "biuro@hurtownia-baltyk.example.com")
            asyncio.run(_run(root, ns.messages))
        finally:
            sink.send_signal(signal.SIGTERM)
            sink.wait(30)


if __name__ == "__main__":
    main()
