"""Make the sample support bundle: ``python data/make_bundle.py [FILE]``.

A realistic configuration of the fictional Hurtownia Bałtyk (the account "Kadry" with its
password, a message type, two templates, the overdue-reminder job) is saved in a throw-away
settings store and written out by mailkit's own export, which leaves every secret out. The
exporting user and time are fixed, so the file is the same on every run.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from mailkit.accounts import Account
from mailkit.bundle import export_bundle
from mailkit.catalog import CatalogTemplate, MessageType, save_template, save_type
from mailkit.config import DsnNotify, DsnOptions, RateLimits, Secret, Security, SmtpSettings
from mailkit.saved_accounts import save_account
from mailkit.saved_jobs import save_job
from mailkit.secrets import KEY_DIR_ENV, Keys
from mailkit.store import Scope, SettingsStore

HERE = Path(__file__).resolve().parent
OUT = HERE / "support" / "baltyk_bundle.toml"
EXPORTED_BY = "k.wisniewska"  # the customer's administrator who exported it
EXPORTED_AT = "2026-11-20T09:15:00+00:00"
PASSWORD = "Kadry-Haslo-2026!"  # noqa: S105 (a sample: saved in the store, never exported)


def make(path: Path) -> str:
    """Write the bundle to ``path``; returns its text."""
    kadry = Account(
        name="Kadry",
        address="kadry@hurtownia-baltyk.example.com",
        sender_name="Kadry i Płace – Hurtownia Bałtyk",
        smtp=SmtpSettings(
            host="smtp.hurtownia-baltyk.example.com",
            port=587,
            security=Security.STARTTLS,
            username="kadry@hurtownia-baltyk.example.com",
            timeout_ms=20_000,
        ),
        owner=EXPORTED_BY,
        reply_to="sekretariat@hurtownia-baltyk.example.com",
        copy_to_self=True,
        dsn=DsnOptions(frozenset({DsnNotify.ON_FAILURE, DsnNotify.DELAY})),
        limits=RateLimits(per_minute=30, per_hour=600, recipients_per_message=50),
        default=True,
    )
    umowa = MessageType(
        "umowa", "Umowa o pracę", "Employment contract", "Umowy i aneksy dla pracowników"
    )
    aneks = CatalogTemplate(
        "Aneks do umowy",
        "umowa",
        "Aneks do umowy o pracę – {imię} {nazwisko}",
        "Dzień dobry {imię},\n\nw załączeniu przesyłamy aneks do umowy o pracę.\n"
        "Prosimy o podpisanie i odesłanie jednego egzemplarza.\n\nZ poważaniem\n"
        "{wysyłający}\n{firma}\n",
        default=True,
    )
    reminder = CatalogTemplate(
        "Przypomnienie – stanowcze",
        "przypomnienie",
        "Zaległe płatności – {kontrahent}",
        "Szanowni Państwo,\n\nmimo wcześniejszego przypomnienia nie otrzymaliśmy zapłaty za "
        "faktury wymienione w załączniku.\nProsimy o uregulowanie należności w ciągu 7 dni.\n\n"
        "Z poważaniem\n{wysyłający}\n{firma}\n",
    )
    job = (HERE / "jobs" / "overdue.toml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="mailkit-bundle-") as tmp:
        keys = Keys(EXPORTED_BY, env={KEY_DIR_ENV: str(Path(tmp) / "keys")})
        user = os.environ.get("JUPYTERHUB_USER")
        os.environ["JUPYTERHUB_USER"] = EXPORTED_BY  # the store's user: the bundle's exported_by
        try:
            store = SettingsStore(Path(tmp) / "settings.sqlite3", keys=keys)
        finally:
            if user is None:
                del os.environ["JUPYTERHUB_USER"]
            else:
                os.environ["JUPYTERHUB_USER"] = user
        with store:
            save_account(store, kadry, Scope.GLOBAL, secrets={"smtp.password": Secret(PASSWORD)})
            save_type(store, umowa, Scope.GLOBAL)
            save_template(store, aneks, Scope.GLOBAL)
            save_template(store, reminder, Scope.PERSONAL)
            save_job(store, "Przypomnienia o płatnościach", job, Scope.GLOBAL)
            text = export_bundle(store)
    text = re.sub(r'(?m)^exported_at = ".*"$', f'exported_at = "{EXPORTED_AT}"', text, count=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    make(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
