"""Connection tests ("Test SMTP", "Test IMAP"): every step reported and explained, as data."""

from __future__ import annotations

from collections.abc import Sequence

from ..accounts import Account
from .explain import PROBLEMS, Problem, problem
from .imap import IMAP_STEPS, diagnose_imap
from .smtp import SMTP_STEPS, diagnose_smtp
from .steps import Diagnosis, OnStep, Step, StepStatus

__all__ = [
    "IMAP_STEPS",
    "PROBLEMS",
    "SMTP_STEPS",
    "Diagnosis",
    "Problem",
    "Step",
    "StepStatus",
    "diagnose_account",
    "diagnose_imap",
    "diagnose_smtp",
    "problem",
]


async def diagnose_account(
    account: Account,
    *,
    send_test: bool = False,
    imap: bool = True,
    probe: Sequence[str] = (),
    on_step: OnStep | None = None,
) -> tuple[Diagnosis, ...]:
    """Test the account's SMTP (and IMAP, if set up): the seed's "test connection" button.

    With ``send_test`` a real test message goes to the sender and the account's CC/BCC.
    """
    smtp = await diagnose_smtp(
        account.smtp,
        account.sender(),
        cc=account.cc_addresses(),
        bcc=account.bcc_addresses(),
        probe=probe,
        send_test=send_test,
        on_step=on_step,
    )
    if not imap or account.imap is None:
        return (smtp,)
    return (smtp, await diagnose_imap(account.imap, on_step=on_step))
