"""`hyperscale migrate`: other version-control systems to Git, verified."""
