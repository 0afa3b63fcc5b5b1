"""`hyperscale kafka`: registers the lag command and the dlq and topics groups, nothing else."""

from __future__ import annotations

from hyperscale.kafka.dlq.cli import app as dlq_app
from hyperscale.kafka.health.cli import health
from hyperscale.kafka.lag.cli import lag
from hyperscale.kafka.topics.cli import app as topics_app
from hyperscale.options import command_group

app = command_group(
    "Kafka operations: consumer lag, cluster health, dead-letter topics, topic configuration."
)
app.command()(lag)
app.command()(health)
app.add_typer(dlq_app, name="dlq")
app.add_typer(topics_app, name="topics")
