"""Options shared by every command that merges a job: passwords for held rows, the random-password
report and the signing certificate's password (``check``, ``preview``, ``export``, ``send``)."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import getpass
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Secret
from ..errors import ConfigError
from ..i18n import _
from ..job import Job
from ..jobsections import signing_password_from_env
from ..merge import Merge, prepare
from ..saved_jobs import open_job_or_file

__all__ = [
    "MergeSecrets",
    "add_merge_options",
    "job_from_options",
    "merge_secrets",
    "password_notes",
    "prepare_job",
]


def add_merge_options(parser: argparse.ArgumentParser) -> None:
    """Add --password, --password-file, --ask-passwords and --password-report to ``parser``."""
    group = parser.add_argument_group(_("attachment passwords"))
    group.add_argument(
        "--password",
        action="append",
        default=[],
        metavar="ROW=PASSWORD",
        help=_(
            "the password for a held row (repeatable); other users can see it in the process "
            "list, so prefer --password-file or --ask-passwords"
        ),
    )
    group.add_argument(
        "--password-file",
        metavar="FILE",
        help=_("passwords for held rows: ROW=PASSWORD lines, or a .csv with row,password columns"),
    )
    group.add_argument(
        "--ask-passwords",
        action="store_true",
        help=_("ask for the password of each held row"),
    )
    group.add_argument(
        "--password-report",
        metavar="FILE",
        help=_("where random passwords are kept for delivery by another route (a 0600 .csv)"),
    )


@dataclass(frozen=True)
class MergeSecrets:
    """What the options give ``prepare``: typed passwords by row and the certificate password."""

    passwords: dict[str, Secret] = field(default_factory=dict)
    signing_password: Secret | None = None


def job_from_options(ns: argparse.Namespace) -> Job:
    """``ns.job`` loaded, with ``--password-report`` applied."""
    job = open_job_or_file(ns.job)
    if getattr(ns, "password_report", None):
        report = Path(ns.password_report).expanduser().resolve()
        job = dataclasses.replace(
            job, protection=dataclasses.replace(job.protection, report=report)
        )
    return job


def merge_secrets(ns: argparse.Namespace, job: Job) -> MergeSecrets:
    """The secrets the options give, for a command that prepares the merge itself (``send``):
    ``prepare(job, passwords=s.passwords, signing_password=s.signing_password)``."""
    typed = _typed(ns)
    secrets = MergeSecrets(typed, _signing_password(job))
    if getattr(ns, "ask_passwords", False):
        _ask(prepare(job, passwords=typed, signing_password=secrets.signing_password), typed)
    return secrets


def prepare_job(ns: argparse.Namespace) -> Merge:
    """Load ``ns.job`` and prepare it with the passwords the options give."""
    job = job_from_options(ns)
    typed = _typed(ns)
    merge = prepare(job, passwords=typed, signing_password=_signing_password(job))
    if getattr(ns, "ask_passwords", False):
        _ask(merge, {})
    return merge


def _typed(ns: argparse.Namespace) -> dict[str, Secret]:
    """--password-file, then --password (which wins for the same row)."""
    typed = dict(_from_file(ns.password_file)) if getattr(ns, "password_file", None) else {}
    typed.update(_pair(text, "--password") for text in getattr(ns, "password", []))
    return typed


def _ask(merge: Merge, into: dict[str, Secret]) -> None:
    """Ask at the terminal for the password of each held row; give them to ``merge``."""
    for key in merge.held():
        value = getpass.getpass(_("Password for row {row}: ").format(row=key))
        if value:
            merge.supply_passwords({key: Secret(value)})
            into[key] = Secret(value)


def password_notes(merge: Merge) -> list[str]:
    """Lines telling the operator which rows are held and where random passwords are."""
    lines = []
    held = merge.held()
    if held:
        lines.append(
            _(
                "{n} row(s) held, their attachment password is empty: {rows}. Give passwords "
                "with --password ROW=..., --password-file FILE or --ask-passwords."
            ).format(n=len(held), rows=", ".join(held[:20]) + (" ..." if len(held) > 20 else ""))
        )
    plan = merge.plan
    if plan is not None and plan.passwords is not None and merge.job.protection.source == "random":
        lines.append(
            _(
                "The random attachment passwords are in {path} (readable only by you): give them "
                "to the recipients another way than e-mail."
            ).format(path=plan.passwords.report)
        )
    return lines


def _signing_password(job: Job) -> Secret | None:
    """The certificate password: the job's environment variable, else asked at a terminal."""
    signing = job.signing
    if signing is None or not signing.enabled or signing_password_from_env(signing):
        return None
    if not sys.stdin.isatty():
        return None  # prepare() explains which environment variable to set if one is needed
    value = getpass.getpass(
        _("Password of the signing certificate {path} (Enter if it has none): ").format(
            path=signing.certificate.name
        )
    )
    return Secret(value) if value else None


def _pair(text: str, where: str) -> tuple[str, Secret]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value:
        raise ConfigError(
            _("{where}: write ROW=PASSWORD, not {text!r}").format(where=where, text=key + sep),
            setting=where,
        )
    return key.strip(), Secret(value)


def _from_file(name: str) -> list[tuple[str, Secret]]:
    path = Path(name).expanduser()
    try:
        if path.stat().st_mode & 0o077:
            sys.stderr.write(
                _("mailkit: warning: {path} can be read by other users; chmod 600 it").format(
                    path=path
                )
                + "\n"
            )
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ConfigError(
            _("cannot read {path}: {reason}").format(path=path, reason=err.strerror or err),
            setting="--password-file",
        ) from err
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if rows and not {"row", "password"} <= set(rows[0]):
            raise ConfigError(
                _("{path} needs the columns row and password").format(path=path),
                setting="--password-file",
            )
        return [(r["row"].strip(), Secret(r["password"])) for r in rows if r["password"]]
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [_pair(line.rstrip("\r"), os.fspath(path)) for line in lines]
