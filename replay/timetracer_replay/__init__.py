"""Replay of recorded cassettes (MongoDB wire responder, request replayer)."""
