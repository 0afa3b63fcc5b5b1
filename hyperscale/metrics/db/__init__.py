"""`hyperscale metrics db`: MySQL status sampled twice, and the RDS CloudWatch figures."""
