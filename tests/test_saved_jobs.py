"""Saved jobs: a job file kept under a name, run by that name from anywhere, bundled, removed."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sendkit import people, write_job

from mailkit.cli.common import EXIT_OK, EXIT_USAGE
from mailkit.errors import ConfigError
from mailkit.saved_jobs import find_job, list_jobs, open_job_or_file, save_job, save_job_file
from mailkit.sink import list_messages
from mailkit.store import Scope, SettingsStore

SINK = '[destination]\nkind = "sink"\nfolder = "sink"\nport = 0\n'


def mailkit(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailkit", "--lang", "en", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(autouse=True)
def outbox_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILKIT_OUTBOX", str(tmp_path / "outbox.sqlite3"))


def test_a_saved_job_runs_by_name_from_another_folder_then_is_bundled_and_removed(
    tmp_path: Path,
) -> None:
    folder, elsewhere = tmp_path / "kadry", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    job = write_job(folder, people(3), rest=SINK)
    # No name setting: the batch is named after the file, whichever way the job runs.
    job.write_text(job.read_text("utf-8").replace('name = "Paski testowe"\n', ""), "utf-8")

    saved = mailkit("jobs", "save", job, "--name", "Paski", cwd=elsewhere)
    assert saved.returncode == EXIT_OK, saved.stderr
    assert f"its paths start from {folder}" in saved.stdout
    assert "run it with: mailkit send Paski\n" in saved.stdout
    listed = mailkit("jobs", cwd=elsewhere)
    assert listed.stdout.startswith("Paski\tpersonal\t")
    shown = mailkit("jobs", "show", "Paski", cwd=elsewhere)
    assert shown.stdout.rstrip("\n") == job.read_text("utf-8").rstrip("\n")

    sent = mailkit("send", "Paski", cwd=elsewhere)  # the table and the sink are in kadry/
    assert sent.returncode == EXIT_OK, sent.stderr + sent.stdout
    assert "sent: 3" in sent.stdout
    assert len(list_messages(folder / "sink")) == 3
    assert not (elsewhere / "sink").exists()
    status = mailkit("status", "Paski", cwd=elsewhere)  # the same batch as the file's
    assert "sent: 3" in status.stdout
    again = mailkit("send", job, cwd=elsewhere)
    assert "0 row(s) added, 3 already" in again.stdout, again.stdout + again.stderr

    bundle = elsewhere / "bundle.toml"
    assert mailkit("config", "export", bundle, cwd=elsewhere).returncode == EXIT_OK
    jobs = tomllib.loads(bundle.read_text("utf-8"))["jobs"]
    assert [(j["name"], j["toml"]) for j in jobs] == [("Paski", job.read_text("utf-8"))]
    assert str(folder) not in bundle.read_text("utf-8")  # this machine's folders stay here

    assert mailkit("jobs", "remove", "Paski", cwd=elsewhere).returncode == EXIT_OK
    gone = mailkit("check", "Paski", cwd=elsewhere)
    assert gone.returncode == EXIT_USAGE
    assert "no job file Paski and no saved job of that name; saved jobs: none" in gone.stderr
    assert "Traceback" not in gone.stderr


def test_a_job_file_is_checked_before_it_is_saved(tmp_path: Path) -> None:
    job = write_job(tmp_path, people(1))
    job.write_text(job.read_text("utf-8").replace('key = "id"', 'kye = "id"'), "utf-8")
    with SettingsStore() as store:
        with pytest.raises(ConfigError, match=r"unknown setting data\.kye"):
            save_job_file(store, job, Scope.PERSONAL)
        assert list_jobs(store) == []
        with pytest.raises(ConfigError, match="must not contain /"):
            save_job(store, "a/b", job.read_text("utf-8"), Scope.PERSONAL)
        no_data = '[template]\ntext="a"\n[sender]\naddress="a@b.pl"\n'
        with pytest.raises(ConfigError, match=r"needs the section\(s\) \[data\]"):
            save_job(store, "x", no_data, Scope.PERSONAL)


def test_own_job_before_the_global_one_and_bundled_jobs_use_the_current_folder(
    anna_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own, shared = tmp_path / "own", tmp_path / "shared"
    own.mkdir()
    shared.mkdir()
    with SettingsStore() as store:
        save_job_file(store, write_job(shared, people(2)), Scope.GLOBAL, name="Paski")
        assert open_job_or_file("Paski", store).data.path == shared / "people.csv"
        save_job_file(store, write_job(own, people(1)), Scope.PERSONAL, name="Paski")
        assert open_job_or_file("Paski", store).data.path == own / "people.csv"
        # A job from a bundle has no folder: its paths start from the current one.
        save_job(store, "Z paczki", (own / "job.toml").read_text("utf-8"), Scope.PERSONAL)
        monkeypatch.chdir(shared)
        assert find_job(store, "Z paczki").job().data.path == shared / "people.csv"
        assert find_job(store, "Z paczki").job(own).data.path == own / "people.csv"
        # A path is always a file, never a saved name.
        with pytest.raises(ConfigError, match="cannot open"):
            open_job_or_file("Paski.toml", store)
