"""The adapter to Kafka (confluent_kafka): configuration, admin, readers, producers, errors."""
