"""timetracer's benchmarks: ``python benchmarks/run.py [--quick] [--only NAME ...]``.

They are measurements, not tests: nothing here asserts a timing. Every figure is reported as a
ratio against a baseline measured in the same run, in interleaved rounds, as medians.
"""
