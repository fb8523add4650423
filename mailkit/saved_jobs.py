"""Jobs kept in the settings store: a job file saved under a name, listed, opened and removed.

A saved job is the file's TOML as written, plus where the file was: its relative paths (data,
templates, attachments) still start from that folder, and the job keeps the file's name, so a
job without a ``name`` setting is the same batch whether it runs by file or by saved name. A
job that came in a bundle has no folder; its paths start from the current folder, or from the
one the caller names.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import check_name
from .errors import ConfigError
from .i18n import _
from .job import Job, load_job, parse_job
from .labels import scope_label
from .store import Entry, Scope, SettingsStore

__all__ = [
    "JOB",
    "SavedJob",
    "find_job",
    "get_job",
    "list_jobs",
    "open_job_or_file",
    "remove_job",
    "save_job",
    "save_job_file",
]

JOB = "job"


@dataclass(frozen=True)
class SavedJob:
    """A job as stored: its TOML text, where its file was (folder and file name, when saved
    from a file), scope and revision."""

    name: str
    scope: Scope
    toml: str
    folder: Path | None
    file: str
    revision: int
    updated_by: str
    updated_at: str

    def job(self, folder: str | Path | None = None) -> Job:
        """The job, validated; relative paths start from ``folder``, else the saved one."""
        base = Path(folder) if folder is not None else self.folder or Path.cwd()
        path = base.resolve() / (self.file or f"{self.name}.toml")
        return parse_job(_parse(self.name, self.toml), path=path)


def _saved(entry: Entry) -> SavedJob:
    folder, file = entry.body.get("folder"), entry.body.get("file")
    return SavedJob(
        entry.name,
        entry.scope,
        str(entry.body.get("toml", "")),
        Path(folder) if isinstance(folder, str) and folder else None,
        file if isinstance(file, str) and "/" not in file and "\\" not in file else "",
        entry.revision,
        entry.updated_by,
        entry.updated_at,
    )


def _parse(name: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            _("job {name} is not valid TOML: {reason}").format(name=name, reason=err),
            setting="job",
        ) from err


def save_job(
    store: SettingsStore, name: str, text: str, scope: Scope, *, origin: Path | None = None
) -> int:
    """Keep a job's TOML under ``name`` (with ``origin``, the file it was read from); the
    revision.

    Only the TOML is checked here: the files a job names may exist only where it runs.
    """
    check_name(name, "job.name")
    if "/" in name or "\\" in name:
        raise ConfigError(
            _("job.name {name!r} must not contain / or \\").format(name=name), setting="job.name"
        )
    doc = _parse(name, text)
    missing = [k for k in ("data", "template", "sender") if not isinstance(doc.get(k), dict)]
    if missing:
        raise ConfigError(
            _("job {name} needs the section(s) {sections}").format(
                name=name, sections=", ".join(f"[{k}]" for k in missing)
            ),
            setting="job",
        )
    body: dict[str, Any] = {"toml": text}
    if origin is not None:
        origin = origin.resolve()
        body.update(folder=str(origin.parent), file=origin.name)
    return store.put(JOB, name, body, scope).revision


def save_job_file(
    store: SettingsStore, path: str | Path, scope: Scope, *, name: str = ""
) -> SavedJob:
    """Check a job file's settings, then save it under ``name`` (default: the file's name
    without .toml); its relative paths keep starting from its folder. The table is read when
    the job runs: next month's file may not be there yet."""
    path = Path(path).resolve()
    load_job(path)  # a ConfigError names the setting or the missing file
    name = name or path.stem
    text = path.read_text(encoding="utf-8")
    save_job(store, name, text, scope, origin=path)
    saved = get_job(store, name, scope)
    assert saved is not None  # just written in this store
    return saved


def list_jobs(store: SettingsStore, scope: Scope | None = None) -> list[SavedJob]:
    """Saved jobs by name; None: the global ones and the user's own."""
    return [_saved(e) for e in store.entries(JOB, scope)]


def get_job(store: SettingsStore, name: str, scope: Scope) -> SavedJob | None:
    """The job saved under ``name`` in ``scope``, or None."""
    entry = store.entry(JOB, name, scope)
    return _saved(entry) if entry else None


def find_job(store: SettingsStore, name: str) -> SavedJob:
    """The job ``name`` that applies to this user (their own before the global one)."""
    for scope in (Scope.PERSONAL, Scope.GLOBAL):
        saved = get_job(store, name, scope)
        if saved is not None:
            return saved
    known = sorted({j.name for j in list_jobs(store)})
    raise ConfigError(
        _("there is no job file {name} and no saved job of that name; saved jobs: {known}").format(
            name=name, known=", ".join(known) or _("none")
        ),
        setting="job",
    )


def remove_job(store: SettingsStore, name: str, scope: Scope) -> None:
    """Forget the job saved under ``name`` in ``scope``; a ConfigError when there is none."""
    if not store.delete(JOB, name, scope):
        raise ConfigError(
            _("there is no saved job {name} ({scope})").format(name=name, scope=scope_label(scope)),
            setting="job",
        )


def open_job_or_file(text: str, store: SettingsStore | None = None) -> Job:
    """A job file's path, or the name of a saved job: what ``mailkit`` commands accept."""
    path = Path(text).expanduser()
    if path.suffix.lower() == ".toml" or path.exists() or ("/" in text or "\\" in text):
        return load_job(path)
    if store is not None:
        return find_job(store, text).job()
    with SettingsStore() as own:  # $MAILKIT_STORE, else ~/.local/share/mailkit/settings.sqlite3
        return find_job(own, text).job()
