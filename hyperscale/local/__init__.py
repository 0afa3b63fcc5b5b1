"""`hyperscale local`: the platform's backing services as processes on this machine."""
