"""`hyperscale images` tests use the session fixtures `registry` and `built` of tests/conftest.py
(the real node's tests run the same images)."""
