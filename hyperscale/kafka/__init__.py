"""Kafka: consumer lag, dead-letter topics and topics as code. The broker is reached only
through hyperscale.clients.kafka."""
