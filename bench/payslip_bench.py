"""Benchmark the protected-payslip pipeline: generate the PDF, encrypt it (AES-256, R=6), verify
it, build the message; on one process and on worker processes.

    python bench/payslip_bench.py [--payslips 10000] [--workers 2] [--one-worker 2000]
                                  [--sample 200]

It also measures each stage's cost in the same run, on the same rows, and from them the ceiling
(workers / cost per payslip) the parallel pipeline is compared with. Peak memory is the largest
memory (PSS) of this process and its descendants (the worker processes), sampled; the CPU the
run and all other processes used is shown too (a shared machine disturbs the ratios).
Targets (issue 3): two workers >= 1.8x one worker, and >= 85 % of the ceiling.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "data"))

import make_samples as samples  # noqa: E402

import mailkit  # noqa: E402
from mailkit.message import Attachment, freeze  # noqa: E402
from mailkit.parallel import usable_cpus  # noqa: E402
from mailkit.protect import encrypt_pdf, verify_pdf  # noqa: E402

HEADERS = ["Nr ewidencyjny", "Imię", "Nazwisko", "PESEL", "E-mail pracownika", "Dział",
           "Stanowisko", "Okres", "Wynagrodzenie zasadnicze", "Premia", "Dodatek stażowy",
           "Nadgodziny", "Brutto", "Składki ZUS", "Składka zdrowotna", "Zaliczka PIT",
           "Do wypłaty"]  # fmt: skip
PAY = ("base", "bonus", "seniority", "overtime", "gross", "zus", "health", "pit", "net")


def write_employees(path: Path, count: int, seed: int = 3) -> None:
    """``count`` employees like data/employees.csv: valid PESELs, unique addresses."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(HEADERS)
        for i in range(1, count + 1):
            female = i % 2 == 0
            first = rng.choice(samples.FIRST_F if female else samples.FIRST_M)
            last = rng.choice(samples.SURNAMES)[1 if female else 0]
            born = dt.date(rng.randrange(1962, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
            dept = rng.choice(samples.DEPARTMENTS)
            pay = samples.payslip(rng)
            out.writerow(
                [f"P{i:05d}", first, last, samples.pesel(rng, born, female),
                 f"{samples.ascii_slug(f'{first} {last}')}.{i}@example.org", dept,
                 samples.POSITIONS[dept], "10/2026", *(samples.money(pay[k]) for k in PAY)]
            )  # fmt: skip


def job_for(folder: Path) -> mailkit.Job:
    """The sample payslip job (PDF per employee, PESEL password) on the generated table."""
    text = (ROOT / "data/jobs/payslips.toml").read_text(encoding="utf-8")
    text = text.replace("../employees.csv", str(folder / "employees.csv"))
    text = text.replace("../templates/", str(ROOT / "data/templates") + "/")
    path = folder / "job.toml"
    path.write_text(text, encoding="utf-8")
    return mailkit.load_job(path)


class Monitor:
    """Samples this process and its descendants (Linux /proc): peak memory, and the CPU they
    and every other process on the machine used, so a run disturbed by others shows it."""

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.peak = 0
        self.cpu: dict[int, float] = {}  # seconds per process of ours, last seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Monitor:
        self._busy0 = machine_busy()
        self._start = {pid: cpu_seconds(pid) for pid in tree(os.getpid())}  # spent before
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.ours = sum(v - self._start.get(pid, 0.0) for pid, v in self.cpu.items())
        self.others = max(0.0, machine_busy() - self._busy0 - self.ours)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            family = tree(os.getpid())
            self.peak = max(self.peak, tree_memory(family))
            for pid in family:
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu_seconds(pid))


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores, /proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICK


def tree(root: int) -> set[int]:
    """``root`` and its descendants."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(stat[1])
            except (OSError, IndexError, ValueError):
                continue
    family, changed = {root}, True
    while changed:
        grown = family | {p for p, parent in parents.items() if parent in family}
        changed, family = grown != family, grown
    return family


def tree_memory(family: set[int]) -> int:
    """Bytes of memory used by ``family``: the proportional set size, so pages the worker
    processes share (forked from one server) are counted once, not per process."""
    total = 0
    for pid in family:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            total += int(rollup.split("\nPss:", 1)[1].split()[0]) * 1024
        except (OSError, IndexError, ValueError):
            continue
    return total


def stage_costs(merge: mailkit.Merge, sample: int) -> dict[str, float]:
    """Seconds per payslip of each stage, on ``sample`` rows, in this process."""
    assert merge.plan is not None
    maker, passwords = merge.plan.maker, merge.plan.passwords
    assert maker is not None
    assert passwords is not None
    plain = mailkit.prepare(dataclasses.replace(merge.job, attachments=None), records=merge.records)
    records = [r for r in merge.records.records if not r.blocked][:sample]
    spent = dict.fromkeys(("render", "pdf", "encrypt", "verify", "build"), 0.0)
    for record in records:
        t0 = time.perf_counter()
        ctx = merge.context(record)
        merge.template.render(ctx, row=record.key)
        t1 = time.perf_counter()
        pdf = maker.make(ctx, record.key, compress=False)
        t2 = time.perf_counter()
        password = passwords.password(record, ctx).reveal()
        locked = encrypt_pdf(pdf, password)
        t3 = time.perf_counter()
        verify_pdf(locked, password)
        t4 = time.perf_counter()
        attachment = Attachment("pasek-wynagrodzen.pdf", locked, "application/pdf", "PDF AES-256")
        draft = dataclasses.replace(plain.draft(record), attachments=(attachment,))
        t5 = time.perf_counter()
        freeze(draft)
        t6 = time.perf_counter()
        for stage, cost in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t6 - t5), strict=True):
            spent[stage] += cost
    return {k: v / len(records) for k, v in spent.items()}


@dataclasses.dataclass
class Run:
    """One pipeline run: payslips made, wall seconds, bytes, peak memory, CPU used."""

    count: int
    seconds: float
    size: int
    peak: int
    ours: float
    others: float


def pipeline(merge: mailkit.Merge, workers: int) -> Run:
    """``merge.messages`` on ``workers`` processes, every message checked and counted."""
    count = size = 0
    with Monitor() as monitor:
        t0 = time.perf_counter()
        for built in merge.messages(workers=workers):
            if built.message is None:
                raise SystemExit(f"row {built.record.key} failed: {built.error}")
            count += 1
            size += len(built.message.data)
        seconds = time.perf_counter() - t0
    return Run(count, seconds, size, monitor.peak, monitor.ours, monitor.others)


def show(runs: dict[int, Run], per_row: float) -> dict[int, float]:
    """Print each run against the ceiling; payslips per second by number of workers."""
    mb = 1024 * 1024
    rate = {}
    for workers, run in runs.items():
        rate[workers] = run.count / run.seconds
        ceiling = min(workers, usable_cpus()) / per_row
        print(
            f"  {workers} worker(s): {run.count:,} payslips in {run.seconds:.1f} s = "
            f"{rate[workers]:.1f}/s ({rate[workers] / ceiling:.0%} of the ceiling "
            f"{ceiling:.1f}/s); avg {run.size // run.count:,} B; "
            f"peak memory {run.peak / mb:,.0f} MB"
        )
        print(
            f"      CPU: ours {run.ours:.0f} s ({run.ours / run.seconds:.2f} cores), other "
            f"processes {run.others:.0f} s ({run.others / run.seconds:.2f} cores)"
        )
    return rate


def derived(runs: dict[int, Run], per_row: float) -> None:
    """What each run would do with its cores to itself, from the CPU it spent per payslip: a
    shared machine lowers the measured rates, not the CPU a payslip costs."""
    workers = max(runs)
    cores = min(workers, usable_cpus())
    cpu = {w: run.ours / run.count for w, run in runs.items()}
    one, alone = 1 / cpu[1], cores / cpu[workers]
    print(
        f"CPU per payslip: {cpu[1] * 1000:.1f} ms in one process, {cpu[workers] * 1000:.1f} ms "
        f"on {workers} workers (overhead {cpu[workers] / cpu[1] - 1:+.1%}); with the cores to "
        f"themselves: {one:.1f}/s and {alone:.1f}/s = {alone / one:.2f}x, "
        f"{alone * per_row / cores:.0%} of the ceiling (derived from CPU time, not measured)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--payslips", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--one-worker", type=int, default=2_000, help="rows for the 1-worker run")
    ap.add_argument("--sample", type=int, default=200, help="rows for the stage costs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_employees(folder / "employees.csv", args.payslips)
        t0 = time.perf_counter()
        merge = mailkit.prepare(job_for(folder))
        print(f"prepare {args.payslips:,} employees: {time.perf_counter() - t0:.2f} s")
        print(f"CPUs usable: {usable_cpus()}, load before: {os.getloadavg()}")

        before = stage_costs(merge, args.sample)
        one = merge.subset(merge.keys()[: args.one_worker])
        runs = {1: pipeline(one, 1), args.workers: pipeline(merge, args.workers)}
        after = stage_costs(merge, args.sample)
        costs = {k: (before[k] + after[k]) / 2 for k in before}
        per_row = sum(costs.values())
        print(f"\nstage costs per payslip (mean of {args.sample} rows, before and after the runs):")
        for stage, cost in costs.items():
            print(
                f"  {stage:8} {cost * 1000:7.2f} ms   (before {before[stage] * 1000:.2f},"
                f" after {after[stage] * 1000:.2f})"
            )
        print(f"  {'total':8} {per_row * 1000:7.2f} ms  -> ceiling {1 / per_row:.1f}/s per core")

        print("\npipeline (generate, encrypt, verify, build), pool start-up included:")
        rate = show(runs, per_row)
        speedup = rate[args.workers] / rate[1]
        share = rate[args.workers] * per_row / min(args.workers, usable_cpus())
        print(
            f"\n{args.workers} workers vs 1: {speedup:.2f}x (target >= 1.8x); "
            f"{share:.0%} of the ceiling (target >= 85 %)"
        )
        derived(runs, per_row)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"this process alone peaked at {own:,.0f} MB; load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
