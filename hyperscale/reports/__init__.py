"""`hyperscale report`: the cost report, the e-mailed digest and its schedule."""
