"""Instrumentors timetracer ships where contrib has none."""
