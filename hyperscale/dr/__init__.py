"""`hyperscale dr`: verified backups and restores, and recovery drills."""
