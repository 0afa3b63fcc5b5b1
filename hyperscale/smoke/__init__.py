"""`hyperscale smoke`: real traffic through the API, checked all the way into MySQL."""
