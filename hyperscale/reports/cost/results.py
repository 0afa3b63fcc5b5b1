"""Typed results of `hyperscale report cost`: the periods, the movers, the forecast and the
savings findings, as data, a table, and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal | None, unit: str = "USD") -> str:
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    symbol = "$" if unit == "USD" else f"{unit} "
    return f"{sign}{symbol}{abs(cents(amount)):,.2f}"


def pct(part: Decimal, whole: Decimal) -> float | None:
    return None if whole == 0 else float((part - whole) / whole * 100)


@dataclass(frozen=True)
class Period:
    """One window's total: [start, end)."""

    name: str
    start: dt.date
    end: dt.date
    amount: Decimal

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "amount": str(cents(self.amount)),
        }


@dataclass(frozen=True)
class Mover:
    """A group's month to date against the same days of last month."""

    group: str
    this_month: Decimal
    last_month: Decimal

    @property
    def change(self) -> Decimal:
        return self.this_month - self.last_month

    def to_data(self) -> dict[str, Any]:
        change = pct(self.this_month, self.last_month)
        return {
            "group": self.group,
            "month_to_date": str(cents(self.this_month)),
            "same_days_last_month": str(cents(self.last_month)),
            "change": str(cents(self.change)),
            "change_pct": None if change is None else round(change, 1),
        }


@dataclass(frozen=True)
class Forecast:
    #: The whole month: month to date plus the forecast of the rest.
    month_total: Decimal | None
    #: "cost-explorer", "linear" (month to date per day times the month's days) or "none".
    source: str
    note: str = ""

    def to_data(self) -> dict[str, Any]:
        total = None if self.month_total is None else str(cents(self.month_total))
        return {"month_total": total, "source": self.source, "note": self.note}


@dataclass(frozen=True)
class Finding:
    """A resource that costs money and likely should not."""

    kind: str
    resource: str
    detail: str
    monthly_saving: Decimal

    def to_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "resource": self.resource,
            "detail": self.detail,
            "monthly_saving": str(cents(self.monthly_saving)),
        }


@dataclass(frozen=True)
class CostReport:
    environment: str
    as_of: dt.date
    group_by: str
    unit: str
    credits_excluded: bool
    month_to_date: Period
    same_days_last_month: Period
    yesterday: Period
    last_7_days: Period
    movers: list[Mover]
    forecast: Forecast
    #: Total per day over the whole window read, oldest first (the digest's chart).
    daily: list[tuple[dt.date, Decimal]]
    #: When Cost Explorer answered (the cache's age is shown from it).
    fetched_at: float
    from_cache: bool
    findings: list[Finding] = field(default_factory=list)
    findings_error: str | None = None
    budget: Decimal | None = None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    @property
    def month_change_pct(self) -> float | None:
        return pct(self.month_to_date.amount, self.same_days_last_month.amount)

    @property
    def savings(self) -> Decimal:
        return sum((f.monthly_saving for f in self.findings), Decimal(0))

    def age_s(self, now: float) -> float:
        return max(0.0, now - self.fetched_at)

    def to_data(self) -> dict[str, Any]:
        change = self.month_change_pct
        return {
            "environment": self.environment,
            "as_of": self.as_of.isoformat(),
            "group_by": self.group_by,
            "unit": self.unit,
            "credits_excluded": self.credits_excluded,
            "fetched_at": dt.datetime.fromtimestamp(self.fetched_at, dt.UTC).isoformat(),
            "from_cache": self.from_cache,
            "periods": [
                p.to_data()
                for p in (
                    self.month_to_date,
                    self.same_days_last_month,
                    self.yesterday,
                    self.last_7_days,
                )
            ],
            "month_change_pct": None if change is None else round(change, 1),
            "movers": [m.to_data() for m in self.movers],
            "forecast": self.forecast.to_data(),
            "budget": None if self.budget is None else str(cents(self.budget)),
            "daily": [{"day": d.isoformat(), "amount": str(cents(a))} for d, a in self.daily],
            "findings": [f.to_data() for f in self.findings],
            "findings_error": self.findings_error,
            "monthly_savings": str(cents(self.savings)),
        }

    def render(self, console: Console) -> None:
        import time

        from rich.table import Table

        u = self.unit
        cached = "cached, " if self.from_cache else ""
        console.print(
            f"cost: {self.environment} as of {self.as_of} (by {self.group_by};"
            f" {cached}data {_age(self.age_s(time.time()))} old;"
            f" credits and refunds {'excluded' if self.credits_excluded else 'included'})"
        )
        periods = Table(title="periods", title_justify="left")
        for column in ("period", "from", "to", "cost"):
            periods.add_column(column, justify="right" if column == "cost" else "left")
        for p in (self.month_to_date, self.same_days_last_month, self.yesterday, self.last_7_days):
            last = p.end - dt.timedelta(days=1)
            periods.add_row(p.name, p.start.isoformat(), last.isoformat(), money(p.amount, u))
        console.print(periods)
        change = self.month_change_pct
        console.print(
            "month over month: " + ("-" if change is None else f"{change:+.1f}%"),
            f"| forecast for the month: {money(self.forecast.month_total, u)}"
            f" ({self.forecast.source}{'; ' + self.forecast.note if self.forecast.note else ''})",
            markup=False,
        )
        movers = Table(title="top movers (month to date vs same days last month)")
        for column in (self.group_by, "this month", "last month", "change"):
            movers.add_column(column, justify="left" if column == self.group_by else "right")
        for m in self.movers:
            movers.add_row(
                m.group, money(m.this_month, u), money(m.last_month, u), money(m.change, u)
            )
        console.print(movers)
        self._render_findings(console)

    def _render_findings(self, console: Console) -> None:
        from rich.table import Table

        if self.findings_error:
            console.print(f"savings findings: could not collect: {self.findings_error}")
            return
        table = Table(title="savings findings", title_justify="left")
        for column in ("kind", "resource", "detail", "saving/month"):
            table.add_column(column, justify="right" if column == "saving/month" else "left")
        for f in self.findings:
            table.add_row(f.kind, f.resource, f.detail, money(f.monthly_saving, self.unit))
        console.print(table)
        console.print(f"estimated savings: {money(self.savings, self.unit)} a month")

    def to_csv(self) -> str:
        """One row per figure: section,name,start,end,amount (a spreadsheet's input)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["section", "name", "start", "end", "amount", "unit"])
        for p in (self.month_to_date, self.same_days_last_month, self.yesterday, self.last_7_days):
            end = p.end.isoformat()
            writer.writerow(
                ["period", p.name, p.start.isoformat(), end, cents(p.amount), self.unit]
            )
        mtd = self.month_to_date
        start, end = mtd.start.isoformat(), mtd.end.isoformat()
        for m in self.movers:
            writer.writerow(["mover", m.group, start, end, cents(m.change), self.unit])
        if self.forecast.month_total is not None:
            total = cents(self.forecast.month_total)
            writer.writerow(["forecast", self.forecast.source, start, "", total, self.unit])
        for d, amount in self.daily:
            writer.writerow(["daily", "total", d.isoformat(), "", cents(amount), self.unit])
        for f in self.findings:
            saving = cents(f.monthly_saving)
            writer.writerow(["finding", f"{f.kind}:{f.resource}", "", "", saving, self.unit])
        return out.getvalue()


def _age(seconds: float) -> str:
    if seconds < 60:  # noqa: PLR2004 - a minute
        return f"{seconds:.0f}s"
    if seconds < 3600:  # noqa: PLR2004 - an hour
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
