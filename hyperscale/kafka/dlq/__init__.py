"""`hyperscale kafka dlq`: read dead-letter topics (inspect) and send them back (replay)."""
