"""Environments: typed models of environments/<name>.yaml and the loader that reports errors."""
