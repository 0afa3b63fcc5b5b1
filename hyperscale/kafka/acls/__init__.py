"""`hyperscale kafka acls`: each service's Kafka identity granted what it uses, nothing more."""
