"""starlette_app example: see README.md."""
