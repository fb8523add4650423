"""Builders shared by the sending tests: jobs, journaled batches and runs against real servers."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from smtp_server import FaultServer

from mailkit.batch import BatchOptions, BatchReport, BatchSender
from mailkit.config import Security, SmtpSettings
from mailkit.enqueue import Enqueued, enqueue
from mailkit.job import Job, load_job
from mailkit.merge import prepare
from mailkit.outbox import Outbox
from mailkit.transports.smtp import SmtpTransport

JOB = """\
name = "Paski testowe"
kind = "rows"
company = "Firma Testowa"

[data]
path = "people.csv"
key = "id"

[data.columns]
id = "Nr"
"imię" = "Imię"
email = "E-mail"
cc = {{ column = "DW", type = "emails" }}
bcc = {{ column = "UDW", type = "emails" }}

[template]
subject = "Pasek dla {{imię}}"
text = "Dzień dobry {{imię}}, w załączeniu pasek."

[sender]
name = "Kadry"
address = "kadry@firma.example.com"
{sender_extra}
{rest}
"""

FAST = BatchOptions(connections=2, backoff=0.05, backoff_max=0.2, max_attempts=3)


def people(n: int, *, domain: str = "example.org") -> list[list[str]]:
    """A header row and ``n`` people with one address each, no CC/BCC."""
    rows = [["Nr", "Imię", "E-mail", "DW", "UDW"]]
    rows += [[f"P{i:03d}", f"Osoba{i}", f"osoba{i}@{domain}", "", ""] for i in range(1, n + 1)]
    return rows


def write_job(
    folder: Path, rows: list[list[str]], *, sender_extra: str = "", rest: str = ""
) -> Path:
    """A job file and its CSV in ``folder``; ``rest`` adds sections ([destination], [batch])."""
    lines = [",".join(_cell(c) for c in row) for row in rows]
    (folder / "people.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    path = folder / "job.toml"
    path.write_text(JOB.format(sender_extra=sender_extra, rest=textwrap.dedent(rest)), "utf-8")
    return path


def _cell(value: str) -> str:
    return f'"{value}"' if "," in value else value


def smtp_settings(server: FaultServer, **changes: Any) -> SmtpSettings:
    """Settings for ``server``: plain localhost unless it speaks TLS; 2 s timeout."""
    security = {None: Security.NONE, "starttls": Security.STARTTLS, "implicit": Security.TLS}
    base = SmtpSettings(
        host="localhost" if server.tls else "127.0.0.1",
        port=server.port,
        security=security[server.tls],
        timeout_ms=2000,
        ca_bundle=server.ca_bundle if server.tls else None,
    )
    return base.replace(**changes) if changes else base


def journal(job: Job, outbox: Outbox, **kwargs: Any) -> Enqueued:
    """Preflight and enqueue every row of ``job`` under the job's batch name."""
    done = enqueue(prepare(job), outbox, job.name, **kwargs)
    assert done.ok, done.report.lines()
    return done


def send(
    outbox: Outbox, batch: str, settings: SmtpSettings, options: BatchOptions = FAST, **dsn: Any
) -> BatchReport:
    """Run a BatchSender over SMTP to the end."""

    def transports() -> SmtpTransport:
        return SmtpTransport(settings, **dsn)

    return asyncio.run(BatchSender(outbox, batch, transports, options).run())


def load(path: Path) -> Job:
    """The job at ``path``."""
    return load_job(path)
