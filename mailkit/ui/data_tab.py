"""The Data tab: a sample job or an uploaded table, its column mapping and what checking found."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path
from typing import Any, ClassVar

import ipywidgets as w

from ..data import RawTable
from ..errors import DataError
from ..formatting import format_date, format_money
from ..i18n import N_, _, locale_for
from ..job import Job
from ..merge import Merge, prepare
from ..overview import AgeTotal, CustomerRow, age_totals, customer_rows
from ..privacy import mask_amount, mask_email
from ..sendview import send_as
from ..store import SettingsStore
from ..workbench import (
    chosen_job,
    job_choices,
    load_upload,
    sample_jobs,
    suggest_columns,
    use_table,
)
from .html import age_chart, table
from .kit import Panel, button, choose, css
from .mapping import FindingsView, MappingForm
from .state import AppState
from .work import Activity, Cancel, Progress

__all__ = ["DataTab"]

UPLOAD_LIMIT = 50 * 1024 * 1024  # bytes; a larger table belongs in a job file, not a browser


class DataTab(Panel):
    """Pick a sample job or upload a CSV/XLSX for the job, map its columns, read the report."""

    title: ClassVar[str] = N_("Data")
    css_name: ClassVar[str] = "mk-data"

    def __init__(
        self,
        state: AppState,
        samples: str | Path | None = None,
        store: SettingsStore | None = None,
    ) -> None:
        super().__init__(state)
        self.store = store  # the saved accounts a sender rule may name
        self.samples = sample_jobs(samples) if samples is not None else []
        self.job: Job | None = None
        self.table: RawTable | None = None
        self._cached: tuple[Merge, list[AgeTotal], list[CustomerRow]] | None = None
        self.sample = css(w.Dropdown(layout=w.Layout(width="500px")), "mk-sample")
        self.load_button = button("mk-load-sample", primary=True)
        self.jobs_button = button("mk-refresh-jobs")
        self.upload = css(
            w.FileUpload(
                accept=".csv,.xlsx,.xlsm,.txt", multiple=False, layout=w.Layout(width="auto")
            ),
            "mk-upload",
        )
        self.source = css(w.HTML(), "mk-source")
        self.form = MappingForm(self.labels)
        self.apply_button = button("mk-apply-mapping")
        self.activity = Activity(state, self.notice, "load")
        self.activities.append(self.activity)
        self.summary = css(w.HTML(), "mk-data-summary")
        self.findings = FindingsView(self.labels)
        self.customers = css(w.HTML(), "mk-customers")
        self.chart = css(w.HTML(), "mk-age-chart")
        self._offer_jobs()
        self._build()
        self._wire()

    def _build(self) -> None:
        lab = self.labels
        lab.text(self.sample, N_("Job"))
        lab.text(self.load_button, N_("Load"))
        lab.text(self.jobs_button, N_("Refresh list"))
        lab.text(self.upload, N_("Upload CSV or XLSX"))
        lab.text(self.apply_button, N_("Apply mapping"))
        self.overdue_box = w.VBox(
            [lab.heading(N_("Reminders per customer")), self.chart, self.customers]
        )
        self.children = [
            w.HBox([self.sample, self.load_button, self.jobs_button, self.upload]),
            self.activity,
            self.notice,
            self.source,
            self.summary,
            lab.heading(N_("Columns")),
            self.form,
            w.HBox([self.apply_button]),
            lab.heading(N_("Validation report")),
            self.findings,
            self.overdue_box,
        ]

    def _wire(self) -> None:
        self.on_click(self.load_button, self.load_sample)
        self.on_click(self.jobs_button, self.refresh_jobs)
        self.on_click(self.apply_button, self.apply)
        self.on_change(self.upload, self.uploaded)
        self.on_change(self.findings.severity, self.findings.render)
        self.on_change(self.findings.column, self.findings.render)
        self.watch(["merge", "report", "privacy"], self.refresh)
        self.watch("language", self._offer_jobs)
        self.watch("language", self.form.relabel)

    def _offer_jobs(self) -> None:
        """The sample job files, then the jobs saved in the settings store."""
        choose(self.sample, job_choices(self.samples, self.store), self.sample.value)

    def reread(self) -> None:
        """Offer the jobs saved since the list was made (the app does this as a page opens)."""
        self._offer_jobs()

    def refresh_jobs(self) -> None:
        """List the jobs again: one saved since the page opened (``mailkit jobs save``) shows."""
        self._offer_jobs()
        saved = len(self.sample.options) - len(self.samples)
        self.notice.show(lambda: _("{n} saved job(s) in the list.").format(n=saved), "info")

    # -- handlers: each calls one core function, in the background when it may take long ----

    def load_sample(self, name: str | None = None) -> None:
        """Load the chosen job, a sample file or a saved job (or the sample whose file is
        ``name``), with its own tables."""
        if name is not None:
            self.sample.value = str(self._sample_path(name))
        choice, label = self.sample.value or "", self.sample.label or ""
        if not choice:
            raise DataError(_("There is no job to load: save one with `mailkit jobs save`."))
        self.notice.clear()

        identity, store = self.state.identity, self.store

        def work(_progress: Progress, _cancel: Cancel) -> Merge:
            merge = prepare(chosen_job(choice, store))
            return merge if identity is None else send_as(merge, identity, store)

        self.activity.start(_("Loading {name}").format(name=label), work, self._loaded)

    def _sample_path(self, name: str) -> Path:
        for sample in self.samples:
            if sample.path.name == name:
                return sample.path
        raise DataError(_("there is no sample job {name}").format(name=name))

    def uploaded(self, files: Any) -> None:
        """Read an uploaded table and map it to the current job's fields."""
        if not files:
            return
        item = files[0]
        name, data = str(item["name"]), bytes(item["content"])
        self.upload.value = ()  # the bytes stay in this handler only
        if len(data) > UPLOAD_LIMIT:
            raise DataError(
                _("{name} is larger than 50 MB; put it in a job file").format(name=name)
            )
        if self.job is None and not self.sample.value:
            raise DataError(_("Load a job first: an uploaded table uses its template and sender."))
        job = self.job or chosen_job(self.sample.value, self.store)
        self.notice.clear()

        def work(_progress: Progress, _cancel: Cancel) -> RawTable:
            return load_upload(name, data)

        self.activity.start(
            _("Reading {name}").format(name=name), work, lambda table: self._read(job, table)
        )

    def _read(self, job: Job, table: RawTable) -> None:
        self.job, self.table = job, table
        chosen = suggest_columns(job, table.headers)
        self.form.show(job.data.columns, table.headers, chosen, self._as_of(job))
        self._describe_source()
        missing = self.form.missing()
        if missing:
            self.notice.show(
                lambda: _("Choose the columns for {fields}, then Apply mapping.").format(
                    fields=", ".join(missing)
                ),
                "warning",
            )
            return
        self.apply()

    def apply(self) -> None:
        """Use the table with the mapping (and as-of date) chosen in the form."""
        if self.job is None or self.table is None:
            raise DataError(_("Load a sample job or upload a table first."))
        job, table, mapping = self.job, self.table, self.form.mapping
        as_of = self.form.as_of.value if job.kind == "overdue" else None
        self.notice.clear()

        def work(_progress: Progress, _cancel: Cancel) -> Merge:
            return use_table(job, table, mapping, as_of)

        self.activity.start(_("Checking {name}").format(name=table.source), work, self._loaded)

    def _loaded(self, merge: Merge) -> None:
        self.job, self.table = merge.job, merge.records.table
        headers = self.table.headers
        mapping = {c.field: c.header for c in merge.job.data.columns}
        self.form.show(merge.job.data.columns, headers, mapping, self._as_of(merge.job))
        self.state.use(merge)
        rows = len(merge.keys())
        self.notice.show(
            lambda: _("Loaded {name}: {rows} message(s).").format(name=merge.job.name, rows=rows),
            "ok",
        )

    @staticmethod
    def _as_of(job: Job) -> dt.date | None:
        return (job.as_of or dt.date.today()) if job.kind == "overdue" else None

    # -- drawing --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw the source line, the summary, the report and the reminders."""
        merge = self.state.merge
        self._describe_source()
        if merge is None:
            self.summary.value = ""
            self.overdue_box.layout.display = "none"
            return
        report = self.state.report
        self.findings.show(
            report.findings if report else merge.findings, privacy=self.state.privacy
        )
        self.summary.value = _summary(merge)
        overdue = merge.job.kind == "overdue"
        self.overdue_box.layout.display = "flex" if overdue else "none"
        if overdue:
            self._draw_overdue(merge)

    def _describe_source(self) -> None:
        table = self.table
        if table is None:
            self.source.value = ""
            return
        parts = [
            table.source,
            _("{n} row(s)").format(n=len(table.frame)),
            _("{n} column(s)").format(n=len(table.headers)),
        ]
        if table.encoding:
            parts.append(table.encoding)
        if table.delimiter:
            shown = _("Tab") if table.delimiter == "\t" else table.delimiter
            parts.append(_("delimiter {d}").format(d=shown))
        self.source.value = f"<p>{escape(' · '.join(parts))}</p>"

    def _overview(self, merge: Merge) -> tuple[list[AgeTotal], list[CustomerRow]]:
        """Totals and rows of ``merge``, computed once per merge (a switch of language or
        privacy mode only draws them again)."""
        if self._cached is None or self._cached[0] is not merge:
            self._cached = (merge, age_totals(merge), customer_rows(merge))
        return self._cached[1], self._cached[2]

    def _draw_overdue(self, merge: Merge) -> None:
        private, locale = self.state.privacy, locale_for()
        totals, customers = self._overview(merge)
        self.chart.value = age_chart(totals, privacy=private, locale=locale)

        def money(value: Any) -> str:
            if value is None:
                return ""
            return mask_amount(value) if private else format_money(value, locale)

        rows = (
            [
                r.key,
                r.name,
                (mask_email(r.email) if private else r.email.addr_spec) if r.email else "",
                r.invoices,
                money(r.total),
                format_date(r.oldest_due, locale) if r.oldest_due else "",
                "" if r.days is None else r.days,
                _("blocked") if r.blocked else _("ready"),
            ]
            for r in customers
        )
        headers = [
            _("Key"),
            _("Customer"),
            _("E-mail"),
            _("Invoices"),
            _("Amount due"),
            _("Oldest due date"),
            _("Days overdue"),
            _("Status"),
        ]
        self.customers.value = table(headers, rows, cls="mk-customer-table", limit=100)


def _summary(merge: Merge) -> str:
    extra, locale = merge.records.extra, locale_for()
    if merge.job.kind == "overdue" and "as_of" in extra:
        text = _(
            "{reminders} reminder(s) from {invoices} invoice(s) as of {date}; "
            "{quiet} customer(s) have nothing overdue."
        ).format(
            reminders=len(merge.keys()),
            invoices=extra.get("invoices", 0),
            date=format_date(extra["as_of"], locale),
            quiet=extra.get("customers_without_overdue", 0),
        )
    else:
        text = _("{rows} message(s), one per row.").format(rows=len(merge.keys()))
    return f'<p class="mk-summary-line">{escape(text)}</p>'
