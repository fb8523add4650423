"""The public surface of `mailkit` is what __all__ says, and everything in it exists."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import mailkit


def test_all_names_exist_and_are_sorted() -> None:
    for name in mailkit.__all__:
        assert hasattr(mailkit, name), name
    assert list(mailkit.__all__) == sorted(mailkit.__all__)


def test_no_private_names_are_exported() -> None:
    assert not [n for n in mailkit.__all__ if n.startswith("_") and n != "__version__"]


def test_core_imports_without_jupyter() -> None:
    """Outside mailkit.ui nothing imports ipywidgets, IPython or voila."""
    # walk_packages would import the mailkit.ui package itself to list it: walk by hand.
    code = (
        "import sys, pkgutil, importlib, mailkit\n"
        "def walk(path, prefix):\n"
        "    for m in pkgutil.iter_modules(path, prefix):\n"
        "        if m.name.startswith('mailkit.ui') or m.name == 'mailkit.__main__':\n"
        "            continue\n"
        "        module = importlib.import_module(m.name)\n"
        "        if m.ispkg:\n"
        "            walk(module.__path__, m.name + '.')\n"
        "walk(mailkit.__path__, 'mailkit.')\n"
        "bad = [n for n in ('ipywidgets', 'IPython', 'voila') if n in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "[]"


def test_every_module_has_a_docstring() -> None:
    missing = []
    for info in pkgutil.walk_packages(mailkit.__path__, "mailkit."):
        if info.name.startswith("mailkit.ui") or info.name == "mailkit.__main__":
            continue
        module = importlib.import_module(info.name)
        if not (module.__doc__ or "").strip():
            missing.append(info.name)
    assert not missing
