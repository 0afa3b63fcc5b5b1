"""Where the platform runs: one Target protocol, one implementation per kind."""
