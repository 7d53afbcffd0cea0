"""pymongo_app example: see README.md."""
