"""``python -m mailkit.localapp`` (``./dev app``): the local sink, its account and Voila, together.

The sink captures every message on 127.0.0.1 into a Maildir; an account pointing at it is made
in the user's settings store on first run (no secret: the sink takes no login); Voila serves
the app on 127.0.0.1. Ctrl-C (or SIGTERM) stops both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .accountform import ensure_sink_account
from .errors import MailkitError
from .i18n import _
from .labels import scope_label
from .sentlog import SINK_FOLDER_ENV
from .sink import is_mailkit_sink
from .store import SettingsStore

__all__ = ["main"]

SAMPLE_SENDER = ("Hurtownia Bałtyk (test)", "biuro@hurtownia-baltyk.example.com")


def _say(text: str) -> None:
    sys.stderr.write(f"mailkit: {text}\n")
    sys.stderr.flush()


def _sink_up(port: int) -> bool:
    return asyncio.run(is_mailkit_sink("127.0.0.1", port, 1.0))


def _start_sink(folder: Path, port: int) -> subprocess.Popen[bytes] | None:
    """Start ``mailkit sink`` (None when a mailkit sink already listens on ``port``)."""
    if _sink_up(port):
        _say(_("a mailkit sink already listens on 127.0.0.1:{port}; using it").format(port=port))
        return None
    command = [sys.executable, "-m", "mailkit", "sink", "--folder", str(folder)]
    process = subprocess.Popen([*command, "--port", str(port)], start_new_session=True)  # noqa: S603 (our own interpreter, our arguments)
    deadline = time.monotonic() + 15
    while not _sink_up(port):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            raise SystemExit(
                _("the sink could not start on 127.0.0.1:{port}; free the port or set "
                  "MAILKIT_SINK_PORT").format(port=port)
            )  # fmt: skip
        time.sleep(0.2)
    return process


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    """SIGTERM (Voila then stops its kernels; the sink closes); SIGKILL if it hangs."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _account(port: int) -> None:
    try:
        with SettingsStore() as store:
            saved = ensure_sink_account(store, port, SAMPLE_SENDER[1], SAMPLE_SENDER[0])
    except MailkitError as err:
        _say(_("no account for the sink ({reason}); the sample jobs still use it").format(
            reason=err.message
        ))  # fmt: skip
        return
    _say(_("account '{name}' ({scope}) sends to the sink").format(
        name=saved.account.name, scope=scope_label(saved.scope)
    ))  # fmt: skip


def _parse(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m mailkit.localapp", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("MAILKIT_PORT", "8866")))
    parser.add_argument(
        "--sink-port", type=int, default=int(os.environ.get("MAILKIT_SINK_PORT", "2525"))
    )
    parser.add_argument("--sink-folder", default=os.environ.get(SINK_FOLDER_ENV, "out/sink"))
    parser.add_argument("--notebook", default="notebooks/app.ipynb")
    return parser.parse_known_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sink and the app until Ctrl-C; returns Voila's exit status."""
    ns, voila_args = _parse(argv)
    folder = Path(ns.sink_folder).expanduser().resolve()
    _account(ns.sink_port)
    sink = _start_sink(folder, ns.sink_port)
    os.environ[SINK_FOLDER_ENV] = str(folder)  # the Log tab lists what the sink captured
    voila = [sys.executable, "-m", "voila", ns.notebook, "--no-browser", "--Voila.ip=127.0.0.1"]
    command = [*voila, f"--port={ns.port}", *voila_args]
    app = subprocess.Popen(command, start_new_session=True)  # noqa: S603 (the user's own options)
    text = _(
        "sink: 127.0.0.1:{sink} -> {folder}; app: http://127.0.0.1:{port}/ (Ctrl-C stops both)"
    )
    _say(text.format(sink=ns.sink_port, folder=folder, port=ns.port))

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        return app.wait()
    except KeyboardInterrupt:
        _say(_("stopping the app and the sink"))
        return 0
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            _stop(app)
            _stop(sink)


if __name__ == "__main__":
    sys.exit(main())
