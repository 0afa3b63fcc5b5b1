"""Adapters to every outside system: the only package that imports an SDK. No domain logic."""
