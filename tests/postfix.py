"""A real Postfix on 127.0.0.1 for tests: a private config, virtual mailboxes, its own bounces.

Usage::

    with Postfix(mailroot, {"kadry@firma.example.com": "ala/"}, uid, gid) as mta:
        ...  # send to 127.0.0.1:mta.port; unknown recipients of its domains bounce with a DSN

Postfix accepts every recipient of its virtual domains (``smtpd_reject_unlisted_recipient =
no``), delivers known ones into Maildirs under ``mailroot`` (the folder Dovecot serves) and
bounces the others with an RFC 3464 report to the envelope sender, which it delivers the same
way. Needs the Debian package ``postfix`` and root (the master daemon runs as root, its
services as ``postfix``). Started in the foreground (``start-fg``) in its own session, bounded
by START_TIMEOUT; stopped with ``postfix stop``, then by its process group; files removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["POSTFIX", "Postfix"]

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
START_TIMEOUT = 20.0

_MAIN = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {root}
maillog_file = {root}/maillog
myhostname = mx.mailkit.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_reject_unlisted_recipient = no
relayhost =
alias_maps =
alias_database =
biff = no
virtual_mailbox_domains = {domains}
virtual_mailbox_base = {mailroot}
virtual_mailbox_maps = inline:{{ {boxes} }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
"""

# Only what a local delivery and its bounces need; nothing chrooted.
_MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Postfix:
    """Postfix with a config in a temp folder; ``boxes`` maps addresses to Maildirs."""

    def __init__(self, mailroot: Path, boxes: dict[str, str], uid: int, gid: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mailkit-postfix-"))
        self.conf = self.root / "conf"
        self.port = _free_port()
        self.mailroot, self.boxes, self.uid, self.gid = mailroot, boxes, uid, gid
        self._proc: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> None:
        self.root.chmod(0o755)  # the postfix user must reach its data and queue folders
        self.conf.mkdir()
        (self.root / "queue").mkdir()
        (self.root / "data").mkdir()
        shutil.chown(self.root / "data", "postfix")
        domains = sorted({a.split("@")[1] for a in self.boxes})
        (self.conf / "main.cf").write_text(
            _MAIN.format(
                root=self.root,
                mailroot=self.mailroot,
                domains=", ".join(domains),
                boxes=", ".join(f"{a}={box}" for a, box in self.boxes.items()),
                uid=self.uid,
                gid=self.gid,
            )
        )
        (self.conf / "master.cf").write_text(_MASTER.format(port=self.port))

    def _postfix(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [POSTFIX, "-c", str(self.conf), *args], capture_output=True, timeout=30, check=False
        )

    def start(self) -> Postfix:
        """Start in the foreground and wait (bounded) until it greets; RuntimeError otherwise."""
        if not Path(POSTFIX).exists():
            raise RuntimeError("postfix is not installed: apt-get install postfix")
        self._write_config()
        check = self._postfix("check")  # creates the queue folders with their owners
        if check.returncode:
            self.stop()
            raise RuntimeError(f"postfix check failed: {check.stderr.decode(errors='replace')}")
        self._proc = subprocess.Popen(
            [POSTFIX, "-c", str(self.conf), "start-fg"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self._proc.poll() is None:
            if self._greets():
                return self
            time.sleep(0.1)
        log = self.log()
        self.stop()
        raise RuntimeError(f"postfix did not start within {START_TIMEOUT} s:\n{log}")

    def _greets(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"220")
        except OSError:
            return False

    def log(self) -> str:
        """Postfix's own log file."""
        with contextlib.suppress(OSError):
            return (self.root / "maillog").read_text(errors="replace")
        return ""

    def stop(self) -> None:
        """``postfix stop``, then its process group if anything is left; files removed."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._postfix("stop")
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Postfix:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
