"""Configuration bundles: exported without secrets, imported elsewhere asking only for those."""

from __future__ import annotations

from pathlib import Path

import pytest
from users import Users, account

from mailkit.bundle import export_bundle, import_bundle, missing_secrets, read_bundle
from mailkit.catalog import CatalogTemplate, MessageType, save_template, save_type
from mailkit.config import ImapSettings, Secret
from mailkit.errors import ConfigError
from mailkit.saved_accounts import account_for_sending, get_account, save_account
from mailkit.saved_jobs import list_jobs, save_job
from mailkit.store import Scope, SettingsStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    group = Users(tmp_path, monkeypatch)
    yield group
    group.close()


def configure(store: SettingsStore) -> None:
    imap = ImapSettings(
        "imap.firma.example.com",
        username="biuro@firma.example.com",
        sent_folder="Wysłane",
        drafts_folder="Szkice",
    )
    company = account(
        "Firma",
        "biuro@firma.example.com",
        imap=imap,
        default=True,
        cc="archiwum@firma.example.com",
        preset="exchange-online",
    )
    save_account(
        store,
        company,
        Scope.GLOBAL,
        secrets={
            "smtp.password": Secret("MARKER-smtp-9f1"),
            "imap.password": Secret("MARKER-imap-9f2"),
        },
    )
    save_account(
        store,
        account("Moje", "anna@firma.example.com"),
        Scope.PERSONAL,
        secrets={"smtp.password": Secret("MARKER-own-9f3")},
    )
    save_type(store, MessageType("umowa", "Umowa", "Contract"), Scope.GLOBAL)
    save_template(
        store, CatalogTemplate("Umowa", "umowa", "Umowa {numer}", "Treść"), Scope.PERSONAL
    )
    save_job(
        store, "Przypomnienia", (ROOT / "data/jobs/overdue.toml").read_text("utf-8"), Scope.GLOBAL
    )


def test_export_has_no_secret_and_no_ciphertext(users: Users, tmp_path: Path) -> None:
    anna = users.become("anna")
    configure(anna)
    out = tmp_path / "bundle.toml"
    text = export_bundle(anna, out)
    assert out.read_text("utf-8") == text
    assert "MARKER" not in text
    assert "gAAAAA" not in text  # no Fernet token either
    bundle = read_bundle(out)
    assert {(s.value, a.name) for s, a in bundle.accounts} == {
        ("global", "Firma"),
        ("personal", "Moje"),
    }
    assert [t.name for _s, t in bundle.templates] == ["Umowa"]
    assert bundle.exported_by == "anna"


def test_import_elsewhere_asks_only_for_missing_secrets(
    users: Users, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = users.become("anna")
    configure(anna)
    bundle = read_bundle(export_bundle(anna))
    # Support rebuilds it on another machine: a different store, HOME and global key.
    monkeypatch.setenv("MAILKIT_GLOBAL_KEY_FILE", str(tmp_path / "support-global.key"))
    users.store_path = tmp_path / "support" / "settings.sqlite3"
    support = users.become("support")
    needs = missing_secrets(support, bundle, Scope.PERSONAL)
    assert {(n.account, n.field) for n in needs} == {
        ("Firma", "smtp.password"),
        ("Firma", "imap.password"),
        ("Moje", "smtp.password"),
    }
    assert next(n for n in needs if n.field == "imap.password").host == "imap.firma.example.com"
    result = import_bundle(
        support, bundle, Scope.PERSONAL, {("Firma", "smtp.password"): Secret("given-by-support")}
    )
    assert {(n.account, n.field) for n in result.still_missing} == {
        ("Firma", "imap.password"),
        ("Moje", "smtp.password"),
    }
    firma = get_account(support, "Firma", Scope.PERSONAL).account
    assert firma.owner == "support"
    assert firma.imap is not None
    assert firma.imap.sent_folder == "Wysłane"
    assert firma.rate_limits.connections == 3
    with pytest.raises(ConfigError, match=r"no saved imap\.password"):
        account_for_sending(support, "Firma")
    assert [j.name for j in list_jobs(support)] == ["Przypomnienia"]
    # Importing again asks for nothing already given.
    again = missing_secrets(support, bundle, Scope.PERSONAL)
    assert ("Firma", "smtp.password") not in {(n.account, n.field) for n in again}


def test_import_of_global_items_needs_the_right_and_is_all_or_nothing(users: Users) -> None:
    anna = users.become("anna")
    configure(anna)
    bundle = read_bundle(export_bundle(anna))
    bartek = users.become("bartek")
    with pytest.raises(ConfigError, match="manage mail sending"):
        import_bundle(bartek, bundle)  # global items keep their scope
    assert not bartek.entries("template", Scope.PERSONAL)  # nothing half-imported


@pytest.mark.parametrize(
    "text",
    [
        "not toml = = 1",
        "mailkit_bundle = 99",
        'mailkit_bundle = 1\n[[accounts]]\nname = "X"\naddress = "x@firma.example.com"\n'
        'smtp = { host = "h", prot = 25 }',
    ],
)
def test_bad_bundles_are_clear_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        read_bundle(text)
