"""Make mailkit's synthetic sample tables (no real people): ``python data/make_samples.py [DIR]``.

Employees (UTF-8 with BOM, ';' as Polish Excel writes), customers (cp1250, ';'), and invoices
(UTF-8 CSV and XLSX). The random seed is fixed, so the files are the same on every run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook

FIRST_F = [
    "Zofia",
    "Łucja",
    "Małgorzata",
    "Agnieszka",
    "Katarzyna",
    "Żaneta",
    "Joanna",
    "Bożena",
    "Urszula",
    "Jadwiga",
    "Iwona",
    "Grażyna",
    "Ewa",
    "Aleksandra",
    "Anna",
]
FIRST_M = [
    "Jan",
    "Paweł",
    "Łukasz",
    "Michał",
    "Stanisław",
    "Jędrzej",
    "Grzegorz",
    "Zbigniew",
    "Mikołaj",
    "Bartłomiej",
    "Wojciech",
    "Krzysztof",
    "Tomasz",
    "Ryszard",
    "Adam",
]
SURNAMES = [
    ("Kowalski", "Kowalska"),
    ("Wiśniewski", "Wiśniewska"),
    ("Wójcik", "Wójcik"),
    ("Kamiński", "Kamińska"),
    ("Lewandowski", "Lewandowska"),
    ("Zieliński", "Zielińska"),
    ("Szymański", "Szymańska"),
    ("Woźniak", "Woźniak"),
    ("Dąbrowski", "Dąbrowska"),
    ("Kozłowski", "Kozłowska"),
    ("Jankowski", "Jankowska"),
    ("Mazur", "Mazur"),
    ("Krawczyk", "Krawczyk"),
    ("Piotrowski", "Piotrowska"),
    ("Grabowski", "Grabowska"),
    ("Nowakowski", "Nowakowska"),
    ("Pawłowski", "Pawłowska"),
    ("Michalski", "Michalska"),
    ("Król", "Król"),
    ("Wieczorek", "Wieczorek"),
    ("Jabłoński", "Jabłońska"),
    ("Wróbel", "Wróbel"),
    ("Nowicki", "Nowicka"),
    ("Żak", "Żak"),
    ("Ślusarczyk", "Ślusarczyk"),
    ("Gołębiowski", "Gołębiowska"),
    ("Łuczak", "Łuczak"),
]
DEPARTMENTS = [
    "Księgowość",
    "Sprzedaż",
    "Magazyn",
    "Logistyka",
    "Kadry i płace",
    "IT",
    "Obsługa klienta",
    "Zarząd",
]
POSITIONS = {
    "Księgowość": "Specjalista ds. księgowości",
    "Sprzedaż": "Przedstawiciel handlowy",
    "Magazyn": "Magazynier",
    "Logistyka": "Koordynator logistyki",
    "Kadry i płace": "Specjalista ds. płac",
    "IT": "Administrator systemów",
    "Obsługa klienta": "Konsultant",
    "Zarząd": "Dyrektor",
}
TRADES = [
    "Piekarnia",
    "Zakład Stolarski",
    "Apteka",
    "Sklep Spożywczy",
    "Warsztat Samochodowy",
    "Kwiaciarnia",
    "Biuro Rachunkowe",
    "Drukarnia",
    "Hotel",
    "Restauracja",
    "Hurtownia",
    "Pracownia Krawiecka",
    "Przychodnia",
    "Księgarnia",
    "Cukiernia",
]
BRANDS = [
    "Złoty Kłos",
    "Pod Różą",
    "Źródełko",
    "Łąkowa",
    "Żurawie",
    "Śnieżka",
    "Gęsia Łąka",
    "Mazowsze",
    "Bursztyn",
    "Pod Dębem",
    "Wrzos",
    "Jaśmin",
    "Sosnowa",
    "Kasztelan",
    "Zielony Młyn",
    "Świętokrzyska",
    "Nad Wisłą",
    "Słoneczna",
]
FORMS = ["Sp. z o.o.", "s.c.", "S.A.", "Sp. j.", ""]
CITIES = [
    "Warszawa",
    "Kraków",
    "Łódź",
    "Wrocław",
    "Poznań",
    "Gdańsk",
    "Szczecin",
    "Bydgoszcz",
    "Lublin",
    "Białystok",
    "Katowice",
    "Gdynia",
    "Częstochowa",
    "Radom",
    "Toruń",
    "Kielce",
]
DOMAINS = ["example.com", "example.org", "example.net"]
AS_OF = dt.date(2026, 11, 22)


def ascii_slug(text: str, sep: str = ".") -> str:
    """'Łucja Wójcik' -> 'lucja.wojcik' for addresses."""
    text = text.replace("ł", "l").replace("Ł", "L")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return sep.join("".join(c for c in part if c.isalnum()) for part in plain.split())


def pesel(rng: random.Random, born: dt.date, female: bool) -> str:
    """A PESEL with a valid check digit; months +20 for people born 2000-2099."""
    month = born.month + (20 if born.year >= 2000 else 0)
    serial = rng.randrange(0, 1000)
    sex = rng.choice([0, 2, 4, 6, 8]) if female else rng.choice([1, 3, 5, 7, 9])
    digits = f"{born.year % 100:02d}{month:02d}{born.day:02d}{serial:03d}{sex}"
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10) % 10
    return digits + str(check)


def nip(rng: random.Random) -> str:
    """A NIP with a valid check digit (sums giving 10 are not issued)."""
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(8))
        check = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        if check < 10:
            return digits + str(check)


def money(value: Decimal) -> str:
    """Polish spreadsheet style: '4806,00'."""
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP)}".replace(".", ",")


def round2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def payslip(rng: random.Random) -> dict[str, Decimal]:
    """Gross components, employee contributions, health insurance, PIT advance and net pay."""
    base = Decimal(rng.randrange(4806, 15001))
    bonus = Decimal(rng.choice([0, 0, 250, 500, 800, 1200]))
    seniority = round2(base * Decimal(rng.choice([0, 0.05, 0.1, 0.15])))
    overtime = Decimal(rng.choice([0, 0, 0, 180, 360, 540]))
    gross = base + bonus + seniority + overtime
    zus = (
        round2(gross * Decimal("0.0976"))
        + round2(gross * Decimal("0.015"))
        + round2(gross * Decimal("0.0245"))
    )
    health = round2((gross - zus) * Decimal("0.09"))
    taxable = (gross - zus - Decimal(250)).quantize(Decimal(1), ROUND_HALF_UP)
    pit = max(Decimal(0), (taxable * Decimal("0.12") - Decimal(300)).quantize(Decimal(1)))
    return {
        "base": base,
        "bonus": bonus,
        "seniority": seniority,
        "overtime": overtime,
        "gross": gross,
        "zus": zus,
        "health": health,
        "pit": pit,
        "net": gross - zus - health - pit,
    }


def employees(rng: random.Random) -> list[dict[str, str]]:
    rows = []
    used: set[str] = set()
    for i in range(1, 61):
        female = i % 2 == 0
        first = rng.choice(FIRST_F if female else FIRST_M)
        last = rng.choice(SURNAMES)[1 if female else 0]
        # About one in six was born in 2000 or later: their PESEL starts with 0.
        year = rng.randrange(2000, 2006) if i % 6 == 0 else rng.randrange(1962, 1999)
        born = dt.date(year, rng.randrange(1, 13), rng.randrange(1, 29))
        login = ascii_slug(f"{first} {last}")
        while login in used:
            login += str(rng.randrange(10))
        used.add(login)
        dept = rng.choice(DEPARTMENTS)
        pay = payslip(rng)
        rows.append(
            {
                "Nr ewidencyjny": f"P{i:04d}",
                "Imię": first,
                "Nazwisko": last,
                "PESEL": pesel(rng, born, female),
                "E-mail pracownika": f"{login}@{rng.choice(DOMAINS)}",
                "Dział": dept,
                "Stanowisko": POSITIONS[dept],
                "Okres": "10/2026",
                "Wynagrodzenie zasadnicze": money(pay["base"]),
                "Premia": money(pay["bonus"]),
                "Dodatek stażowy": money(pay["seniority"]),
                "Nadgodziny": money(pay["overtime"]),
                "Brutto": money(pay["gross"]),
                "Składki ZUS": money(pay["zus"]),
                "Składka zdrowotna": money(pay["health"]),
                "Zaliczka PIT": money(pay["pit"]),
                "Do wypłaty": money(pay["net"]),
            }
        )
    return rows


def customers(rng: random.Random) -> list[dict[str, str]]:
    rows = []
    names: set[str] = set()
    while len(rows) < 45:
        name = f"{rng.choice(TRADES)} {rng.choice(BRANDS)}"
        if name in names:
            continue
        names.add(name)
        form = rng.choice(FORMS)
        slug = ascii_slug(name.split(" ", 1)[1], "-")
        rows.append(
            {
                "NIP": nip(rng),
                "Nazwa": f"{name} {form}".strip(),
                "E-mail": f"{rng.choice(['biuro', 'ksiegowosc', 'faktury'])}@{slug}."
                f"{rng.choice(DOMAINS)}",
                "Miasto": rng.choice(CITIES),
            }
        )
    return rows


def invoices(rng: random.Random, buyers: list[dict[str, str]]) -> list[dict[str, str]]:
    rows = []
    per_month: dict[int, int] = {}
    for index, buyer in enumerate(buyers):
        # Every fifth customer always pays on time; the rest have a mix.
        punctual = index % 5 == 0
        for _ in range(rng.randrange(2, 8)):
            issued = dt.date(2026, 5, 1) + dt.timedelta(days=rng.randrange(0, 200))
            due = issued + dt.timedelta(days=rng.choice([7, 14, 14, 30]))
            gross = Decimal(rng.randrange(12000, 4800000)) / 100
            roll = rng.random()
            if punctual or due >= AS_OF or roll < 0.45:
                paid = gross
            elif roll < 0.65:
                paid = round2(gross * Decimal(rng.choice(["0.3", "0.5", "0.75"])))
            else:
                paid = Decimal(0)
            rows.append(
                {
                    "Numer faktury": "",
                    "NIP nabywcy": buyer["NIP"],
                    "Data wystawienia": issued.isoformat(),
                    "Termin płatności": due.isoformat(),
                    "Kwota brutto": f"{gross:.2f}",
                    "Zapłacono": f"{paid:.2f}",
                }
            )
    rows.sort(key=lambda r: (r["Data wystawienia"], r["NIP nabywcy"]))
    for row in rows:  # numbered in issue order within each month, as an ERP does
        month = int(row["Data wystawienia"][5:7])
        per_month[month] = per_month.get(month, 0) + 1
        row["Numer faktury"] = f"FV/2026/{month:02d}/{per_month[month]:04d}"
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str, delimiter: str) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Faktury"
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(
            [
                row["Numer faktury"],
                row["NIP nabywcy"],
                dt.date.fromisoformat(row["Data wystawienia"]),
                dt.date.fromisoformat(row["Termin płatności"]),
                float(row["Kwota brutto"]),
                float(row["Zapłacono"]),
            ]
        )
    book.properties.created = book.properties.modified = dt.datetime(2026, 11, 22)
    book.save(path)


def main(folder: Path) -> None:
    rng = random.Random(20261122)
    folder.mkdir(parents=True, exist_ok=True)
    staff = employees(rng)
    buyers = customers(rng)
    sales = invoices(rng, buyers)
    write_csv(folder / "employees.csv", staff, "utf-8-sig", ";")
    write_csv(folder / "customers.csv", buyers, "cp1250", ";")
    write_csv(folder / "invoices.csv", sales, "utf-8", ",")
    write_xlsx(folder / "invoices.xlsx", sales)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
