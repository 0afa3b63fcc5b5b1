"""`hyperscale metrics`: registers the alb and db commands, nothing else."""

from __future__ import annotations

from hyperscale.metrics.alb.cli import alb
from hyperscale.metrics.db.cli import db
from hyperscale.options import command_group

app = command_group(
    "The platform's figures with thresholds: the load balancer (CloudWatch) and MySQL/RDS."
    " Exit codes: 0 within every threshold, 1 one breached, 2 bad input, 3 an outside"
    " system failed."
)
app.command()(alb)
app.command()(db)
