"""`hyperscale kafka dlq replay`: dead letters back to their topics, exactly once."""
