"""Kafka: desired topics, and the adapter to the broker (confluent_kafka, loaded lazily)."""
