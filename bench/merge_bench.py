"""Benchmark the merge core: load and group invoices, then render and build reminders.

    python bench/merge_bench.py [--invoices 100000] [--messages 10000]

Prints wall-clock figures; run it on an otherwise idle machine and compare runs side by side.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "data"))

from make_samples import nip  # noqa: E402

import mailkit  # noqa: E402
from mailkit.data import Records, check_table, group_overdue, read_spec  # noqa: E402
from mailkit.gc_pause import heap_frozen  # noqa: E402


def write_tables(folder: Path, invoices: int, customers: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    nips = [nip(rng) for _ in range(customers)]
    with (folder / "customers.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["NIP", "Nazwa", "E-mail"])
        for i, n in enumerate(nips):
            w.writerow([n, f"Kontrahent Łódź {i} Sp. z o.o.", f"faktury{i}@klient{i}.example.com"])
    start = dt.date(2026, 1, 1)
    with (folder / "invoices.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "Numer faktury",
                "NIP nabywcy",
                "Data wystawienia",
                "Termin płatności",
                "Kwota brutto",
                "Zapłacono",
            ]
        )
        for i in range(invoices):
            issued = start + dt.timedelta(days=rng.randrange(320))
            gross = rng.randrange(10000, 5000000) / 100
            paid = rng.choice([0.0, gross, gross / 2])
            w.writerow(
                [
                    f"FV/2026/{issued.month:02d}/{i:06d}",
                    rng.choice(nips),
                    issued.isoformat(),
                    (issued + dt.timedelta(days=14)).isoformat(),
                    f"{gross:.2f}",
                    f"{paid:.2f}",
                ]
            )


def job_for(folder: Path) -> mailkit.Job:
    text = (ROOT / "data/jobs/overdue.toml").read_text(encoding="utf-8")
    text = text.replace("../invoices.csv", str(folder / "invoices.csv"))
    text = text.replace("../customers.csv", str(folder / "customers.csv"))
    text = text.replace('miasto = "Miasto"\n', "")
    text = text.replace("../templates/", str(ROOT / "data/templates") + "/")
    path = folder / "job.toml"
    path.write_text(text, encoding="utf-8")
    # Plain reminders: the statement PDF is measured by bench/payslip_bench.py's kind of run.
    return dataclasses.replace(mailkit.load_job(path), attachments=None)


def best_of(runs: int, fn):  # type: ignore[no-untyped-def]
    times = []
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), sorted(times)[len(times) // 2], result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--invoices", type=int, default=100_000)
    ap.add_argument("--customers", type=int, default=12_500)
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_tables(folder, args.invoices, args.customers)
        job = job_for(folder)
        as_of = job.as_of or dt.date.today()

        def invoices_only() -> Records:
            with heap_frozen():
                checked = check_table(read_spec(job.data), job.data)
                return group_overdue(checked, as_of, group_field=job.group_by)

        best, median, grouped = best_of(args.runs, invoices_only)
        print(
            f"load+check+group {args.invoices:,} invoice rows -> {len(grouped):,} customers: "
            f"best {best:.3f} s, median {median:.3f} s"
        )
        best, median, merge = best_of(args.runs, lambda: mailkit.prepare(job))
        print(
            f"  ... plus the customer table ({args.customers:,} rows, addresses validated): "
            f"best {best:.3f} s, median {median:.3f} s"
        )

        write_tables(folder, args.messages * 3, args.messages, seed=11)
        merge = mailkit.prepare(job_for(folder))
        n = sum(1 for r in merge.records.records if not r.blocked)

        def build() -> int:  # the pipeline preflight and sending use: render, build, freeze
            return sum(len(b.message.data) for b in merge.messages() if b.message)

        best, median, size = best_of(args.runs, build)
        print(
            f"render+build {n:,} reminders (avg {size // n:,} B): best {n / best:,.0f} msg/s, "
            f"median {n / median:,.0f} msg/s (one core)"
        )


if __name__ == "__main__":
    main()
