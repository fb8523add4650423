"""A real Dovecot IMAP server on 127.0.0.1 for tests: temp config, one passwd-file user, TLS.

Usage::

    with Dovecot() as server:          # skips nothing: a missing dovecot binary is an error
        settings = server.settings()   # ImapSettings for the test user over implicit TLS
        ...
    server.messages("Sent")            # raw bytes of what a folder holds (read from the Maildir)

Needs the Debian package ``dovecot-imapd`` (``./dev`` installs it). Works as root (mail
processes run as ``nobody``) and as a normal user (everything runs as that user). The start
is bounded by START_TIMEOUT; the server is stopped (SIGTERM, then SIGKILL) and its files
removed afterwards. Certificates come from the same trustme CA as the SMTP fault server.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from smtp_server import test_ca

from mailkit.config import ImapSettings, Secret, Security

__all__ = ["DOVECOT", "Dovecot"]

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
START_TIMEOUT = 15.0
USER = "ala@example.com"
PASSWORD = "Tajne-Haslo-1"

_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_internal_user = {login_user}
default_internal_group = {login_group}
default_login_user = {login_user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    """Dovecot in the foreground (``-F``) with a private config under a temp folder."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mailkit-dovecot-"))
        self.port = _free_port()  # IMAP with STARTTLS
        self.tls_port = _free_port()  # IMAPS
        self.user, self.password = USER, PASSWORD
        self.ca = test_ca()
        self.ca_bundle = self.root / "ca.pem"
        self._proc: subprocess.Popen[bytes] | None = None

    def _identity(self) -> tuple[str, str, int, int]:
        """(login user, login group, mail uid, mail gid): ``nobody`` as root, else oneself."""
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            group = grp.getgrgid(nobody.pw_gid).gr_name
            return "nobody", group, nobody.pw_uid, nobody.pw_gid
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, grp.getgrgid(me.pw_gid).gr_name, me.pw_uid, me.pw_gid

    def _write_config(self) -> Path:
        login_user, login_group, uid, gid = self._identity()
        cert = self.ca.issue_cert("localhost", "127.0.0.1")
        cert.cert_chain_pems[0].write_to_path(str(self.root / "cert.pem"))
        cert.private_key_pem.write_to_path(str(self.root / "key.pem"))
        self.ca.cert_pem.write_to_path(str(self.ca_bundle))
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        (self.root / "mail").mkdir()
        self.root.chmod(0o755)  # the mail processes (nobody as root) must reach their folder
        os.chown(self.root / "mail", uid, gid)
        conf = self.root / "dovecot.conf"
        conf.write_text(
            _CONF.format(
                root=self.root,
                port=self.port,
                tls_port=self.tls_port,
                login_user=login_user,
                login_group=login_group,
                uid=uid,
                gid=gid,
            )
        )
        return conf

    def start(self) -> Dovecot:
        """Start and wait (bounded) until IMAPS greets; RuntimeError with the log otherwise."""
        if not Path(DOVECOT).exists():
            raise RuntimeError("dovecot is not installed: apt-get install dovecot-imapd")
        conf = self._write_config()
        self._proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "stderr.log").open("wb"),
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if self._greets():
                return self
            time.sleep(0.05)
        log = self.log()
        self.stop()
        raise RuntimeError(f"dovecot did not start within {START_TIMEOUT} s:\n{log}")

    def _greets(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def log(self) -> str:
        """Dovecot's own log and standard error."""
        parts = []
        for name in ("dovecot.log", "stderr.log"):
            with contextlib.suppress(OSError):
                parts.append((self.root / name).read_text(errors="replace"))
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and remove its files."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settings(self, *, security: Security = Security.TLS, **changes: object) -> ImapSettings:
        """ImapSettings for the test user, trusting the test CA."""
        port = self.tls_port if security is Security.TLS else self.port
        base = ImapSettings(
            host="localhost",
            port=port,
            security=security,
            username=self.user,
            password=Secret(self.password),
            timeout_ms=5000,
            ca_bundle=self.ca_bundle,
        )
        return base.replace(**changes) if changes else base

    def messages(self, folder: str) -> list[bytes]:
        """Raw messages in ``folder`` ('INBOX', 'Sent', 'Drafts'), read from the Maildir."""
        base = self.root / "mail" / self.user.split("@")[0] / "Maildir"
        if not base.exists():
            base = self.root / "mail" / self.user.split("@")[0]
        path = base if folder == "INBOX" else base / f".{folder}"
        found = []
        for sub in ("new", "cur"):
            if (path / sub).is_dir():
                found += [p.read_bytes() for p in sorted((path / sub).iterdir())]
        return found
