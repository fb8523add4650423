"""Several users sharing one settings store, as on JupyterHub: own HOME, own key, one global key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailkit.accounts import Account
from mailkit.config import Security, SmtpSettings
from mailkit.store import SettingsStore


class Users:
    """Switch the process between users; each gets a HOME (and key folder) of their own."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.store_path = root / "shared" / "settings.sqlite3"
        self.global_key = root / "shared" / "global.key"
        monkeypatch.setenv("MAILKIT_GLOBAL_KEY_FILE", str(self.global_key))
        self.stores: list[SettingsStore] = []

    def home(self, name: str) -> Path:
        return self.root / f"home-{name}"

    def become(self, name: str) -> SettingsStore:
        """Act as ``name`` from now on and open the shared store as them."""
        home = self.home(name)
        home.mkdir(parents=True, exist_ok=True)
        self.monkeypatch.setenv("HOME", str(home))
        self.monkeypatch.setenv("JUPYTERHUB_USER", name)
        store = SettingsStore(self.store_path)
        self.stores.append(store)
        return store

    def close(self) -> None:
        for store in self.stores:
            store.close()


def account(name: str, address: str, **changes: object) -> Account:
    """A plain STARTTLS account with a login (its password goes in separately)."""
    smtp = SmtpSettings("smtp.firma.example.com", security=Security.STARTTLS, username=address)
    return Account(name, address, smtp).replace(**changes)
