"""`hyperscale health`: endpoint checks with thresholds, three states and exit codes."""
