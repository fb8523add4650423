"""The app as ``./dev app`` runs it, in a real browser: send to the sink, the Log, held rows,
a failing Test SMTP, the language, and Ctrl-C stopping the sink and Voila."""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import time
from email import policy
from pathlib import Path
from typing import Any

import pytest
from payroll import pdf_opens_with
from processes import running

from mailkit import load_job, prepare
from mailkit.sink import list_messages, read_message

# A kernel start, and a reload when Voila served an empty page (open_app_page), fit in 300 s.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
DATA, PREVIEW, SEND, LOG, ACCOUNTS = 0, 2, 3, 4, 6
BAR_WIDTH = "() => document.querySelector('.mk-dispatch-send .progress-bar').style.width"


def _english(page: Any) -> None:
    page.locator(".mk-language button", has_text="English").click()
    page.wait_for_selector(".mk-preflight-summary:has-text('messages ready')")


def _load(page: Any, label: str) -> None:
    page.locator(".mk-sample select").select_option(label=label)
    page.locator("button.mk-load-sample").click()
    page.wait_for_selector(f".mk-notice:has-text('Loaded {label}')")
    page.wait_for_selector(".mk-preflight-summary .mk-ok, .mk-preflight-summary .mk-warning")


def test_send_every_reminder_to_the_sink_and_see_each_in_the_log(dev_page: Any) -> None:
    shot, page = dev_page.shot, dev_page.page
    _english(page)
    titles = page.locator(".mk-tabs .lm-TabBar-tab").all_inner_texts()
    assert titles == ["Data", "Templates", "Preview", "Send", "Log", "Compose", "Accounts"]
    _load(page, "Przypomnienia o płatnościach")  # 1. the sample invoices
    assert page.locator(".mk-customer-table tbody tr").count() == 35
    dev_page.tab(PREVIEW)  # 2. a customer's reminder
    record = prepare(load_job(ROOT / "data" / "jobs" / "overdue.toml")).records.records[6]
    search = page.locator(".mk-search input")
    search.fill(record.values["kontrahent"])
    search.press("Enter")
    page.wait_for_selector(f".mk-position:has-text('{record.key}')")
    body = page.frame_locator(".mk-body iframe.mk-frame").locator("body")
    body.filter(has_text=record.values["kontrahent"]).wait_for()  # the frame reloads after
    assert "FV/2026/" in body.inner_text()
    assert "biuro@hurtownia-baltyk.example.com" in page.locator(".mk-headers").inner_text()
    dev_page.tab(SEND)  # 3. all of them to the sink
    page.wait_for_selector(".mk-sender-rule:has-text('Local test sink')")
    page.locator(".mk-send-mode button", has_text="All rows").click()
    shot("send-before")
    page.locator("button.mk-send-button").click()
    page.wait_for_selector(".mk-send .mk-notice:has-text('sent: 35')")
    page.wait_for_function(f"() => ({BAR_WIDTH})() === '100%'")  # 4. the bar reaches 100 %
    assert "sent: 35" in page.locator(".mk-send-status .mk-progress-text").inner_text()
    assert page.locator(".mk-confirm-send").is_hidden()  # the sink needs no confirmation
    shot("send-done")
    dev_page.tab(LOG)  # 5. every row sent, and what the sink captured
    page.wait_for_selector(".mk-log-counts:has-text('35 row(s)')")
    assert page.locator(".mk-log-rows td.mk-state-sent").count() == 35
    page.wait_for_selector(".mk-sink-summary:has-text('35 message(s) captured')")
    page.locator("button.mk-sink-open").click()
    page.wait_for_selector(".mk-sink-view iframe.mk-frame")
    assert "Przypomnienie" in page.locator(".mk-sink-view").inner_text()
    shot("log")


def test_a_held_payslip_gets_its_password_in_the_browser(
    dev_page: Any, dev_app: Any, tmp_path: Path
) -> None:
    page = dev_page.page
    _english(page)
    _load(page, "Paski wynagrodzeń 10/2026")
    lines = (ROOT / "data" / "employees.csv").read_text(encoding="utf-8-sig").splitlines()
    cells = lines[2].split(";")
    cells[3] = ""  # this employee's PESEL is missing: the payslip would go unprotected
    upload = tmp_path / "pracownicy.csv"
    upload.write_text("\n".join([lines[0], lines[1], ";".join(cells), lines[3]]) + "\n", "utf-8")
    with page.expect_file_chooser() as chooser:
        page.locator("button.mk-upload").click()
    chooser.value.set_files(str(upload))
    page.wait_for_selector(".mk-source:has-text('pracownicy.csv')")
    dev_page.tab(SEND)
    page.wait_for_selector(f".mk-held:has-text('{cells[0]}')")
    dev_page.shot("held")
    password = page.locator(".mk-row-password input[type=password]")
    password.fill("Mocne-Haslo-77")
    page.locator("button.mk-set-password").click()
    page.wait_for_function(
        "() => document.querySelector('.mk-row-password input').value === ''"
    )  # emptied in the kernel and in the page
    page.wait_for_selector(".mk-send-summary:has-text('3 of 3 messages ready')")
    page.locator(".mk-send-mode button", has_text="All rows").click()
    page.locator("button.mk-send-button").click()
    page.wait_for_selector(".mk-send .mk-notice:has-text('sent: 3')")
    dev_page.shot("held-sent")
    opened = []
    for item in list_messages(dev_app.sink_folder):
        msg = email.message_from_bytes(
            read_message(dev_app.sink_folder, item.id), policy=policy.default
        )
        for part in msg.iter_attachments():
            if pdf_opens_with(part.get_content(), "Mocne-Haslo-77"):
                opened.append(str(msg["To"]))
    assert len(opened) == 1 and cells[4] in opened[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_failing_test_smtp_explains_itself(dev_page: Any) -> None:
    page = dev_page.page
    _english(page)
    dev_page.tab(ACCOUNTS)
    page.locator("button.mk-new-account").click()
    # the sink's account showed security "none" already: wait for the empty form (STARTTLS on
    # 587), or choosing "none" below would change nothing when the kernel answers late
    page.wait_for_function("() => document.querySelector('.mk-smtp-port input').value === '587'")
    for cls, value in (
        ("mk-acc-name", "Firma"),
        ("mk-acc-address", "biuro@hurtownia-baltyk.example.com"),
        ("mk-smtp-host", "127.0.0.1"),
    ):
        page.locator(f".{cls} input").fill(value)
    # security first: choosing it brings its usual port, which must not replace the typed one
    page.locator(".mk-smtp-security select").select_option(label="none (this computer only)")
    page.wait_for_function("() => document.querySelector('.mk-smtp-port input').value === '25'")
    port = _closed_port()
    page.locator(".mk-smtp-port input").fill(str(port))
    page.locator(".mk-smtp-port input").press("Tab")  # an IntText sends its value on change
    page.locator("button.mk-test-smtp").click()
    page.wait_for_selector(".mk-checklist .mk-verdict, .mk-accounts .mk-notice .mk-error")
    shown = page.locator(".mk-checklist").inner_text()
    problem = page.locator(".mk-accounts .mk-notice").first.inner_text()
    assert f"127.0.0.1:{port}" in shown, (shown, problem)
    failed = page.locator(".mk-checklist li.mk-step-failed")
    assert failed.count() == 1, (shown, problem)
    text = failed.inner_text()
    assert "connection refused" in text
    assert "Likely causes:" in text and "What to do:" in text
    assert "failed" in page.locator(".mk-checklist .mk-verdict").inner_text()
    dev_page.shot("test-smtp")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _save_job(dev_app: Any, file: str, name: str) -> None:
    """``mailkit jobs save`` into the app's settings store, as a user at a terminal would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILKIT_", "XDG_"))}
    saved = subprocess.run(
        [sys.executable, "-m", "mailkit", "--lang", "en", "jobs", "save",
         ROOT / "data" / "jobs" / file, "--name", name],
        env={**env, "HOME": str(dev_app.home)}, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr


def test_a_job_saved_from_the_command_line_loads_in_the_app(dev_page: Any, dev_app: Any) -> None:
    page = dev_page.page
    _english(page)
    _save_job(dev_app, "payslips.toml", "Paski listopad")
    page.locator("button.mk-refresh-jobs").click()  # the page's kernel started before the save
    page.wait_for_selector(".mk-data .mk-notice:has-text('1 saved job(s) in the list.')")
    page.locator(".mk-sample select").select_option(label="Paski listopad (saved, personal)")
    page.locator("button.mk-load-sample").click()
    name = load_job(ROOT / "data" / "jobs" / "payslips.toml").name
    page.wait_for_selector(f".mk-data .mk-notice:has-text('Loaded {name}: 60 message(s)')")
    page.wait_for_selector(".mk-data-summary:has-text('60 message(s), one per row.')")


def test_a_job_saved_while_the_kernel_waits_is_listed_when_the_page_opens(
    open_dev_page: Any, dev_app: Any
) -> None:
    dev_app.server.wait_warm()  # the pooled kernel has run the notebook and listed the jobs
    _save_job(dev_app, "overdue.toml", "Przypomnienia grudzień")
    with open_dev_page() as page:
        shown = page.page.locator(".mk-sample select option").all_inner_texts()
        options = [o.replace("\xa0", " ") for o in shown]  # ipywidgets shows spaces as NBSP
        assert any(o.startswith("Przypomnienia grudzień (") for o in options), options


def test_ctrl_c_stops_the_sink_and_voila(dev_app: Any) -> None:
    launcher = dev_app.server.process
    voila = dev_app.server.pid
    assert _listening(dev_app.sink_port)
    launcher.send_signal(signal.SIGINT)  # what Ctrl-C sends to ./dev app
    assert launcher.wait(timeout=40) == 0
    deadline = time.monotonic() + 10
    while (_listening(dev_app.sink_port) or running(voila)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _listening(dev_app.sink_port)
    assert not running(voila)
