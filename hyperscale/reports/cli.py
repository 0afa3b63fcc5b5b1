"""`hyperscale report`: registers cost, email and schedule, nothing else."""

from __future__ import annotations

from hyperscale.options import command_group
from hyperscale.reports.cost.cli import cost
from hyperscale.reports.email.cli import email
from hyperscale.reports.schedule.cli import schedule

app = command_group("Reports: Cost Explorer figures, the e-mailed digest, and its schedule.")
app.command()(cost)
app.command()(email)
app.command()(schedule)
