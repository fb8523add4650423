"""What the app offers for attachment protection: on or off, and where each row's password
comes from (a column such as PESEL, random, the job's template). PDFs are always encrypted
themselves and other files go into an AES-256 ZIP, as the seed programs do: that is not a choice.
"""

from __future__ import annotations

import dataclasses

from .data import FieldKind
from .errors import ConfigError
from .i18n import _
from .job import Job
from .merge import Merge, prepare
from .passwords import protection_enabled

__all__ = [
    "COLUMN",
    "OFF",
    "RANDOM",
    "TEMPLATE",
    "protection_choice",
    "protection_choices",
    "reprotect",
]

OFF = "off"
RANDOM = "random"
TEMPLATE = "template"
COLUMN = "column:"  # + the field, e.g. "column:pesel"

# Cells that make no password: addresses are on the envelope, amounts in the document itself.
_NOT_PASSWORDS = {FieldKind.EMAIL, FieldKind.EMAILS, FieldKind.MONEY}


def protection_choice(job: Job) -> str:
    """The job's protection as one of ``protection_choices``' values."""
    if not protection_enabled(job):
        return OFF
    spec = job.protection
    return COLUMN + spec.field if spec.source == "column" else spec.source


def protection_choices(job: Job) -> list[tuple[str, str]]:
    """(label, value) for each way the job's attachments can be protected; [] without any."""
    if job.attachments is None or not job.attachments.any:
        return []
    current = protection_choice(job)
    out = [(_("no password: the files go as they are"), OFF)]
    for spec in (job.data, job.customers):
        for column in spec.columns if spec is not None else ():
            value = COLUMN + column.field
            if column.kind in _NOT_PASSWORDS and value != current:
                continue
            if value not in {v for _label, v in out}:
                label = _('the column "{column}"').format(column=column.header)
                if column.kind is FieldKind.PESEL:
                    label += " " + _("(weak: guessable from the birth date)")
                out.append((label, value))
    out.append((_("a random password per recipient, given to them another way"), RANDOM))
    if job.protection.template:
        text = _("the job's password template {template}")
        out.append((text.format(template=job.protection.template), TEMPLATE))
    return out


def reprotect(merge: Merge, choice: str) -> Merge:
    """The same rows with attachments protected as ``choice`` says (nothing is read again);
    passwords typed for held rows are dropped, as they were for the old password source."""
    job = merge.job
    if choice not in {value for _label, value in protection_choices(job)}:
        raise ConfigError(
            _("choose how the attachments are protected from the list"), setting="protection"
        )
    spec = job.protection
    if choice == OFF:
        spec = dataclasses.replace(spec, enabled=False)
    elif choice in (RANDOM, TEMPLATE):
        spec = dataclasses.replace(spec, enabled=True, source=choice)
    else:
        field = choice.removeprefix(COLUMN)
        spec = dataclasses.replace(spec, enabled=True, source="column", field=field)
    return prepare(
        dataclasses.replace(job, protection=spec),
        records=merge.records,
        signing_password=merge.signing_password,
    )
