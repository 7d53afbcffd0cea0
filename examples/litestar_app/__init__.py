"""litestar_app example: see README.md."""
