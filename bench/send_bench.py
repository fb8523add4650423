"""Send benchmark on loopback against Postfix's smtp-sink: smtp-source, mailmerge and mailkit.

    python bench/send_bench.py [--messages 5000] [--mailmerge 1000] [--memory 100000]

Compares, in one run and on the same messages (5 KB body, then with a 30 KB PDF each):
(a) Postfix ``smtp-source`` with 20 sessions, (b) awdeorio's ``mailmerge`` (pip extra
``bench``), (c) mailkit end to end: render, build, journal (SQLite; checked on every core) and
send over 20 connections. Then the peak memory of a mailkit batch of ``--memory`` recipients.
Installs ``postfix`` with apt if ``smtp-sink`` is missing, starts and stops ``smtp-sink`` by its
PID and never leaves the postfix daemon running. Ratios measured side by side are what count here.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from reportlab.pdfgen import canvas

from mailkit.eventloop import run
from mailkit.job import load_job
from mailkit.sending import SendRun

ROOT = Path(__file__).resolve().parents[1]
SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"
BODY = 5000


def _postfix_running() -> bool:
    return subprocess.run(["pgrep", "-f", "postfix/sbin/master|/usr/lib/postfix/sbin/master"],
                          capture_output=True, check=False).returncode == 0  # fmt: skip


def ensure_postfix() -> bool:
    """Install postfix (smtp-sink, smtp-source) if missing; True if the daemon ran before."""
    was_running = _postfix_running()
    if not (Path(SINK).exists() and Path(SOURCE).exists()):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postfix"],
                       check=True, env=env)  # fmt: skip
    return was_running


def stop_postfix_unless(was_running: bool) -> None:
    """The benchmark needs only smtp-sink/smtp-source: stop a daemon the install started."""
    if _postfix_running() and not was_running:
        subprocess.run(["postfix", "stop"], check=False, capture_output=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def smtp_sink() -> Iterator[int]:
    """smtp-sink on a free loopback port; stopped by its PID."""
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    proc = subprocess.Popen([SINK, *user, "-m", "1000", f"127.0.0.1:{port}", "1024"])
    try:
        for _try in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.02)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def make_pdf(path: Path, size: int = 30_000) -> None:
    """A real PDF of about ``size`` bytes (reportlab, uncompressed text)."""
    pdf = canvas.Canvas(str(path), pageCompression=0)
    line = 0
    while True:
        pdf.drawString(40, 800 - 14 * (line % 55), f"Pozycja {line}: zażółć gęślą jaźń 1234,56 zł")
        line += 1
        if line % 55 == 0:
            pdf.showPage()
        if line % 20 == 0 and len(pdf.getpdfdata()) >= size:
            break
    path.write_bytes(pdf.getpdfdata())


def write_people(folder: Path, n: int) -> Path:
    path = folder / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "name", "email"])
        out.writerows([f"R{i:06d}", f"Osoba {i}", f"user{i}@example.com"] for i in range(n))
    return path


def body_text() -> str:
    para = "Dzień dobry, przesyłamy informację o rozliczeniu za bieżący okres. "
    return (para * (BODY // len(para) + 1))[:BODY]


# -- (a) smtp-source -------------------------------------------------------------------------


def run_smtp_source(port: int, n: int, size: int) -> float:
    cmd = [SOURCE, "-l", str(size), "-m", str(n), "-s", "20", "-d", "-f", "a@example.com",
           "-t", "b@example.com", "-M", "example.com", f"127.0.0.1:{port}"]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return n / (time.perf_counter() - started)


# -- (b) mailmerge ---------------------------------------------------------------------------


def mailmerge_files(folder: Path, port: int, n: int, pdf: Path | None) -> list[str]:
    attach = f"ATTACHMENT: {pdf}\n" if pdf else ""
    (folder / "t.txt").write_text(
        "TO: {{email}}\nSUBJECT: Rozliczenie {{name}}\nFROM: bench@example.com\n"
        f"{attach}\n{{{{name}}}}\n{body_text()}\n",
        encoding="utf-8",
    )
    (folder / "c.conf").write_text(
        f"[smtp_server]\nhost = 127.0.0.1\nport = {port}\nratelimit = 0\n"
    )
    db = write_people(folder, n)
    mm = shutil.which("mailmerge", path=str(Path(sys.executable).parent)) or "mailmerge"
    return [mm, "--template", str(folder / "t.txt"), "--database", str(db),
            "--config", str(folder / "c.conf"), "--no-dry-run", "--no-limit",
            "--output-format", "raw"]  # fmt: skip


def run_mailmerge(port: int, n: int, pdf: Path | None) -> float:
    """Messages per second from (T(N) - T(1)) / (N - 1): mailmerge's start-up left out."""
    times = []
    for count in (1, n):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = mailmerge_files(Path(tmp), port, count, pdf)
            started = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            times.append(time.perf_counter() - started)
    return (n - 1) / (times[1] - times[0])


# -- (c) mailkit -----------------------------------------------------------------------------

JOB = """\
name = "bench"
kind = "rows"
[data]
path = "people.csv"
key = "id"
[data.columns]
id = "id"
name = "name"
email = "email"
[template]
subject = "Rozliczenie {{name}}"
text = '''{{name}}
{body}'''
[sender]
address = "bench@example.com"
[destination]
kind = "smtp"
[destination.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
[batch]
connections = 20
retention_days = 1
[batch.limits]
connections = 20
{attach}"""


def mailkit_job(folder: Path, port: int, n: int, pdf: Path | None) -> Path:
    write_people(folder, n)
    attach = ""
    if pdf:  # one file per row, as payslips are (hard links: no extra disk)
        (folder / "pdf").mkdir()
        for i in range(n):
            os.link(pdf, folder / "pdf" / f"R{i:06d}.pdf")
        attach = '[attachments]\nfiles = ["pdf/{id}.pdf"]\n[protection]\nenabled = false\n'
    job = folder / "job.toml"
    job.write_text(JOB.format(port=port, body=body_text(), attach=attach), encoding="utf-8")
    return job


def run_mailkit(port: int, n: int, pdf: Path | None) -> dict[str, float]:
    """One child process: render, build, journal and send; returns its own timings."""
    with tempfile.TemporaryDirectory() as tmp:
        job = mailkit_job(Path(tmp), port, n, pdf)
        env = {**os.environ, "MAILKIT_OUTBOX": str(Path(tmp) / "outbox.sqlite3")}
        done = subprocess.run([sys.executable, __file__, "--child", str(job)], env=env,
                              check=True, capture_output=True, text=True)  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def child(job_path: str) -> None:
    """Runs inside the child: the whole send of the job, timed after imports."""
    started = time.perf_counter()
    outcome = run(SendRun(load_job(job_path), confirm=lambda _info: True).run())  # as mailkit send
    seconds = time.perf_counter() - started
    report = outcome.report
    if report is None or report.outcome != "sent":
        raise SystemExit("\n".join(outcome.enqueued.report.lines()))
    # Forked helpers (preflight on every core) count too: the sum of the peaks, an upper bound.
    peak = sum(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF,
               resource.RUSAGE_CHILDREN)) / 1024  # fmt: skip
    print(json.dumps({"seconds": seconds, "sent": report.sent_now, "peak_mb": peak,
                      "rate": report.sent_now / seconds}))  # fmt: skip


# -- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="0 skips the comparison")
    parser.add_argument("--mailmerge", type=int, default=1000)
    parser.add_argument("--memory", type=int, default=100_000, help="0 skips the memory run")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    was_running = ensure_postfix()
    try:
        measure(args)
    finally:
        stop_postfix_unless(was_running)


def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, smtp_sink() as port:
        pdf = Path(tmp) / "dokument.pdf"
        make_pdf(pdf)
        print(f"smtp-sink on 127.0.0.1:{port}; PDF {pdf.stat().st_size} bytes; "
              f"{args.messages} messages (mailmerge {args.mailmerge})")  # fmt: skip
        workloads = (("5 KB", None), ("5 KB + 30 KB PDF", pdf)) if args.messages else ()
        for label, attachment in workloads:
            size = BODY + (int(pdf.stat().st_size * 4 / 3) if attachment else 0)
            source = run_smtp_source(port, max(args.messages, 20_000), size)
            merge = run_mailmerge(port, args.mailmerge, attachment)
            kit = run_mailkit(port, args.messages, attachment)
            one = run_mailkit(port, 1, attachment)  # start-up left out, as for mailmerge
            marginal = (args.messages - 1) / (kit["seconds"] - one["seconds"])
            print(f"\n{label}:")
            print(f"  (a) smtp-source, 20 sessions : {source:8.0f} msg/s")
            print(f"  (b) mailmerge                : {merge:8.0f} msg/s")
            print(f"  (c) mailkit end to end       : {kit['rate']:8.0f} msg/s "
                  f"({kit['seconds']:.1f} s, peak {kit['peak_mb']:.0f} MB)")  # fmt: skip
            print(f"      per message, start-up left out: {marginal:8.0f} msg/s")
            print(f"  mailkit / mailmerge = {kit['rate'] / merge:.1f}x "
                  f"({marginal / merge:.1f}x per message), "
                  f"mailkit / smtp-source = {100 * kit['rate'] / source:.0f} %")  # fmt: skip
        if args.memory:
            big = run_mailkit(port, args.memory, None)
            print(f"\n{args.memory} recipients (5 KB): {big['rate']:.0f} msg/s, "
                  f"{big['seconds']:.0f} s, peak memory {big['peak_mb']:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
