"""Replay of recorded cassettes: MongoDB answered at the wire protocol, requests re-sent."""

from timetracer.errors import ReplayMissError
from timetracer_replay.runner import CassetteResult, replay_cassettes
from timetracer_replay.scope import ReplayScope
from timetracer_replay.session import ReplaySession, global_session, replay_cassette

__all__ = [
    "CassetteResult",
    "ReplayMissError",
    "ReplayScope",
    "ReplaySession",
    "global_session",
    "replay_cassette",
    "replay_cassettes",
]
