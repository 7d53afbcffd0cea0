"""The ``timetracer`` command line."""
