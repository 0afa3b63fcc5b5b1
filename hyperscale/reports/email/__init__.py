"""`hyperscale report email`: the digest of every collector, as one e-mail."""
