"""``mailkit jobs``: save a job file under a name, list the saved jobs, show one, remove one."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from ..errors import ConfigError
from ..i18n import _
from ..labels import scope_label
from ..saved_jobs import find_job, list_jobs, remove_job, save_job_file
from ..store import Scope, SettingsStore
from .common import EXIT_OK, out

__all__ = ["register"]


def _jobs(ns: argparse.Namespace) -> int:
    action, target = ns.action, ns.target
    if action != "list" and not target:
        what = _("a job file (.toml)") if action == "save" else _("a saved job's name")
        raise ConfigError(_("jobs {action} needs {what}").format(action=action, what=what))
    with SettingsStore() as store:  # $MAILKIT_STORE, else ~/.local/share/mailkit/settings.sqlite3
        if action == "save":
            saved = save_job_file(store, target, Scope(ns.scope), name=ns.name or "")
            out(
                _("job {name} saved ({scope}); its paths start from {folder}").format(
                    name=saved.name, scope=scope_label(saved.scope), folder=saved.folder
                )
            )
            out(_("run it with: mailkit send {name}").format(name=shlex.quote(saved.name)))
        elif action == "show":
            out(find_job(store, target).toml.rstrip("\n"))
        elif action == "remove":
            remove_job(store, target, Scope(ns.scope))
            out(_("job {name} removed ({scope})").format(name=target, scope=scope_label(ns.scope)))
        else:
            jobs = list_jobs(store)
            if not jobs:
                out(_("no saved jobs; save one with: mailkit jobs save FILE"))
            for job in jobs:
                folder = str(job.folder) if job.folder else _("(paths from the current folder)")
                out(f"{job.name}\t{scope_label(job.scope)}\t{job.updated_at}\t{folder}")
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``jobs``."""
    p = commands.add_parser(
        "jobs",
        help=_("save a job file under a name (for bundles and `mailkit send NAME`), list them"),
    )
    p.add_argument("action", nargs="?", default="list", choices=("list", "show", "save", "remove"))
    p.add_argument("target", nargs="?", help=_("save: the job file; show, remove: the name"))
    p.add_argument("--name", help=_("save: the name (default: the file's name without .toml)"))
    p.add_argument(
        "--scope", choices=[s.value for s in Scope], default=Scope.PERSONAL.value,
        help=_("save, remove: your own (personal) or everyone's (global)"),
    )  # fmt: skip
    p.set_defaults(handler=_jobs)
