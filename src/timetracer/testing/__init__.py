"""What the pytest plugin (``timetracer.pytest_plugin``) runs: record modes, the per-test
cassette, recording PyMongo in-process, and one test per recorded request.

The plugin imports these lazily, inside hooks and fixtures, so a pytest run that does not use
timetracer pays nothing for it.
"""
