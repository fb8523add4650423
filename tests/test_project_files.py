"""The project's own files stay honest: environment.yml, CI, README commands, notebooks, samples."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import openpyxl
import yaml  # type: ignore[import-untyped]
from stdnum.pl import nip, pesel

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names where they differ from PyPI's
CONDA_NAMES = {"jinja2": "jinja2", "babel": "babel", "email-validator": "email-validator"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].strip().lower()


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    missing = {CONDA_NAMES.get(n, n) for n in wanted} - conda
    assert not missing, f"environment.yml lacks {sorted(missing)}"
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./dev test" in readme and "./dev app" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "./dev test" in ci
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111


def test_committed_notebooks_carry_no_outputs_or_widget_state() -> None:
    for path in sorted((ROOT / "notebooks").glob("**/*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert "widgets" not in nb.get("metadata", {}), path
        for cell in nb["cells"]:
            assert not cell.get("outputs"), f"{path}: a cell has outputs"
            assert cell.get("execution_count") is None, f"{path}: a cell was executed"


def test_sample_data_is_reproducible(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "data" / "make_samples.py"), str(tmp_path)],
        check=True,
        timeout=120,
    )
    for name in ("employees.csv", "customers.csv", "invoices.csv"):
        assert (tmp_path / name).read_bytes() == (ROOT / "data" / name).read_bytes(), name
    made = openpyxl.load_workbook(tmp_path / "invoices.xlsx").active
    kept = openpyxl.load_workbook(ROOT / "data" / "invoices.xlsx").active
    assert made is not None and kept is not None
    assert list(made.values) == list(kept.values)


def test_sample_data_is_realistic() -> None:
    with (ROOT / "data" / "employees.csv").open(encoding="utf-8-sig") as fh:
        staff = list(csv.DictReader(fh, delimiter=";"))
    assert len(staff) >= 50
    assert all(pesel.is_valid(r["PESEL"]) for r in staff)
    assert sum(r["PESEL"].startswith("0") for r in staff) >= 5  # born 2000 or later
    assert any(set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ") & set(r["Imię"] + r["Nazwisko"]) for r in staff)
    with (ROOT / "data" / "customers.csv").open(encoding="cp1250") as fh:
        customers = list(csv.DictReader(fh, delimiter=";"))
    assert len(customers) >= 40 and all(nip.is_valid(r["NIP"]) for r in customers)
    with (ROOT / "data" / "invoices.csv").open(encoding="utf-8") as fh:
        invoices = list(csv.DictReader(fh))
    assert len(invoices) >= 150
    assert all(re.fullmatch(r"FV/2026/\d\d/\d{4}", r["Numer faktury"]) for r in invoices)
