"""`hyperscale deploy`: put the platform on its target (local processes or Kubernetes)."""
