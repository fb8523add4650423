""" "Test SMTP": every step of a connection checked, reported and explained as data."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..config import Security
from ..i18n import N_, _
from ..signing import certificate_summary
from .explain import Problem, problem

__all__ = [
    "TITLES",
    "Diagnosis",
    "OnStep",
    "Run",
    "Step",
    "StepStatus",
    "certificate_details",
    "certificate_problem",
    "check_dns",
    "check_tcp",
    "ssl_error",
    "tls_context",
    "verify_error",
]

OnStep = Callable[["Step"], None]


class StepStatus(StrEnum):
    """How one step ended."""

    OK = "ok"
    WARNING = "warning"  # works, but something deserves attention
    FAILED = "failed"
    SKIPPED = "skipped"  # not run: an earlier step failed, or it was not asked for


TITLES = {
    "dns": N_("DNS lookup"),
    "tcp": N_("TCP connection"),
    "tls": N_("Greeting and TLS"),
    "ehlo": N_("Server extensions (EHLO)"),
    "auth": N_("Login (AUTH)"),
    "envelope": N_("Sender and recipients, nothing sent (MAIL FROM, RCPT TO, RSET)"),
    "message": N_("Test message"),
    "imap-login": N_("IMAP login"),
    "imap-folders": N_("IMAP folders"),
    "imap-special": N_("Sent and Drafts folders"),
}


@dataclass(frozen=True)
class Step:
    """One checked step: status, what happened and, on failure, the explanation."""

    name: str
    status: StepStatus
    detail: str = ""
    problem: Problem | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def title(self) -> str:
        """The step's name in the current language."""
        return _(TITLES[self.name])

    def lines(self) -> list[str]:
        """The step for a terminal: a status mark, the title, detail and explanation."""
        mark = {"ok": "[ OK ]", "warning": "[WARN]", "failed": "[FAIL]", "skipped": "[ -- ]"}
        out = [f"{mark[self.status.value]} {self.title}: {self.detail}".rstrip(": ")]
        if self.problem is not None:  # its first line is the detail
            out += [f"       {line}" for line in self.problem.lines()[1:]]
        return out


@dataclass(frozen=True)
class Diagnosis:
    """All steps of one test, in order; failed or skipped ones included."""

    service: str  # "smtp" or "imap"
    host: str
    port: int
    security: Security
    steps: tuple[Step, ...]

    @property
    def ok(self) -> bool:
        """True when no step failed."""
        return all(s.status is not StepStatus.FAILED for s in self.steps)

    @property
    def failure(self) -> Step | None:
        """The first failed step, if any."""
        return next((s for s in self.steps if s.status is StepStatus.FAILED), None)

    def lines(self) -> list[str]:
        """The whole checklist for a terminal."""
        head = f"{self.service.upper()} {self.host}:{self.port} ({self.security.value})"
        return [head, *(line for s in self.steps for line in s.lines())]


class Run:
    """Collects steps in order, tells ``on_step`` about each, and skips the rest on failure."""

    def __init__(self, names: Sequence[str], on_step: OnStep | None) -> None:
        self.names = tuple(names)
        self.steps: list[Step] = []
        self.on_step = on_step
        self.started = time.monotonic()

    def add(self, name: str, status: StepStatus, detail: str = "", **extra: Any) -> Step:
        seconds = time.monotonic() - self.started
        step = Step(name, status, detail, extra.pop("problem", None), extra, round(seconds, 3))
        self.steps.append(step)
        self.started = time.monotonic()
        if self.on_step is not None:
            self.on_step(step)
        return step

    def fail(self, name: str, explained: Problem, **extra: Any) -> None:
        self.add(name, StepStatus.FAILED, explained.summary, problem=explained, **extra)

    @property
    def failed(self) -> bool:
        return any(s.status is StepStatus.FAILED for s in self.steps)

    def finish(self, service: str, host: str, port: int, security: Security) -> Diagnosis:
        done = {s.name for s in self.steps}
        why = _("an earlier step failed") if self.failed else _("not asked for")
        for name in self.names:
            if name not in done:
                self.add(name, StepStatus.SKIPPED, why)
        order = {n: i for i, n in enumerate(self.names)}
        steps = sorted(self.steps, key=lambda s: order.get(s.name, 99))
        return Diagnosis(service, host, port, security, tuple(steps))


# -- steps shared with IMAP ------------------------------------------------------------------


async def check_dns(run: Run, host: str, port: int, timeout: float) -> bool:
    """Step 'dns': the server name resolves."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
        )
    except (socket.gaierror, UnicodeError, TimeoutError) as err:
        run.fail("dns", problem("unknown-host", host=host, reason=err))
        return False
    addresses = sorted({str(info[4][0]) for info in infos})
    run.add(
        "dns",
        StepStatus.OK,
        _("{host} is {addresses}").format(host=host, addresses=", ".join(addresses)),
        addresses=addresses,
    )
    return True


async def check_tcp(run: Run, host: str, port: int, timeout: float) -> bool:
    """Step 'tcp': the port accepts a connection."""
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except ConnectionRefusedError:
        run.fail("tcp", problem("connection-refused", host=host, port=port))
        return False
    except TimeoutError:
        run.fail("tcp", problem("connect-timeout", host=host, port=port, seconds=timeout))
        return False
    except OSError as err:
        run.fail("tcp", problem("network-error", host=host, port=port, reason=err.strerror or err))
        return False
    peer = writer.get_extra_info("peername")
    writer.close()
    run.add("tcp", StepStatus.OK, _("connected to {peer}").format(peer=f"{peer[0]}:{peer[1]}"))
    return True


def tls_context(verify: bool, ca_bundle: Any = None) -> ssl.SSLContext:
    """A client context: system CAs (or ``ca_bundle``), TLS 1.2+; unverified only on request."""
    ctx = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def certificate_details(ssl_object: Any) -> dict[str, Any]:
    """Subject, issuer, names, expiry and TLS version of a live TLS connection."""
    if ssl_object is None:
        return {}
    out: dict[str, Any] = {"tls_version": ssl_object.version()}
    der = ssl_object.getpeercert(binary_form=True)
    if der:
        out.update(certificate_summary(der))
    return out


def certificate_problem(
    err: ssl.SSLCertVerificationError, host: str, peek: dict[str, Any]
) -> Problem:
    """Expired, wrong name or untrusted: what the verification error code says."""
    reason = err.verify_message or str(err.reason)
    if err.verify_code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
        return problem("certificate-expired", reason=f"{reason}, {peek.get('not_after', '?')}")
    if err.verify_code in (62, 64):  # X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH
        names = ", ".join(peek.get("names", [])) or "?"
        return problem("certificate-name", host=host, reason=reason, names=names)
    return problem("certificate-untrusted", reason=reason)


def verify_error(err: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate error inside ``err`` (aiosmtplib wraps it for implicit TLS)."""
    for candidate in (err, err.__cause__, err.__context__):
        if isinstance(candidate, ssl.SSLCertVerificationError):
            return candidate
    return None


def ssl_error(err: BaseException) -> ssl.SSLError | None:
    """Any TLS error inside ``err``."""
    for candidate in (err, err.__cause__, err.__context__):
        if isinstance(candidate, ssl.SSLError):
            return candidate
    return None
