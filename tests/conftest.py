"""Fixtures for every test suite."""

# pytester runs pytest inside pytest for the plugin tests; pytest only accepts pytest_plugins
# in the top-level conftest.
pytest_plugins = ["pytester"]
