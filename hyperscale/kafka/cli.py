"""`hyperscale kafka`: registers the lag and health commands and the dlq, topics and acls
groups, nothing else."""

from __future__ import annotations

from hyperscale.kafka.acls.cli import app as acls_app
from hyperscale.kafka.dlq.cli import app as dlq_app
from hyperscale.kafka.health.cli import health
from hyperscale.kafka.lag.cli import lag
from hyperscale.kafka.topics.cli import app as topics_app
from hyperscale.options import command_group

app = command_group(
    "Kafka operations: consumer lag, cluster health, dead-letter topics, topic configuration, ACLs."
)
app.command()(lag)
app.command()(health)
app.add_typer(dlq_app, name="dlq")
app.add_typer(topics_app, name="topics")
app.add_typer(acls_app, name="acls")
