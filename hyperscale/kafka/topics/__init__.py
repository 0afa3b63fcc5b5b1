"""`hyperscale kafka topics`: the template's topics against the cluster (apply, diff)."""
