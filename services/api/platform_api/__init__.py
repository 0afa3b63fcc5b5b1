"""hyperscale platform API: cache-aside catalogue reads, orders and marketing events to Kafka."""
