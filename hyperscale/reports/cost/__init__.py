"""`hyperscale report cost`: Cost Explorer figures and savings findings."""
