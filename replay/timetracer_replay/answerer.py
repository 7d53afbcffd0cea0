"""Decides the reply to every command the responder receives."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from timetracer.cassette.views import relaxed_ejson
from timetracer.errors import ReplayMissError, TruncatedPayloadError
from timetracer_replay.generic import generic_reply
from timetracer_replay.hello import hello_reply
from timetracer_replay.normalize import normalized
from timetracer_replay.scope import ClientOrigin, ReplayScope, ScopeRouter

logger = logging.getLogger(__name__)

MISS_CODE = 99999
"""Error code of the reply sent for a miss; pymongo raises ``OperationFailure`` with the
diagnosis as its message. Not a code MongoDB uses, and not one pymongo retries."""
_HELLO_NAMES = frozenset({"hello", "isMaster", "ismaster"})
_SHOWN_CHARS = 600


def _render(document: Mapping[str, Any]) -> str:
    text = json.dumps(relaxed_ejson(dict(document)), default=str)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def miss_diagnosis(scope: ReplayScope | None, command: Mapping[str, Any]) -> str:
    """The message of a :class:`ReplayMissError`: what was asked, and what was recorded."""
    name = next(iter(command), "?")
    target = f"{command.get('$db', '?')}.{command.get(name, '')}"
    lines = [f"no recorded MongoDB call answers {name} on {target}"]
    if scope is None:
        lines.append("  the command ran outside any replayed request or replay block")
    else:
        lines.append(f"  cassette: {scope.name}")
    lines.append(f"  live command: {_render(normalized(command))}")
    if scope is not None:
        candidates = scope.index.candidates(command)
        if candidates:
            lines.append("  closest recorded calls:")
            for entry, diffs in candidates:
                state = "already used" if entry.used else "unused"
                call = entry.call
                lines.append(
                    f"    #{entry.position + 1} {call.command_name} ({state}), differs at:"
                )
                lines.extend(
                    f"      - {d}" for d in diffs[:6] or ["(nothing: recorded once, asked again)"]
                )
        elif not scope.index.too_large:
            lines.append("  the cassette recorded no MongoDB calls")
        for entry in scope.index.too_large:
            call = entry.call
            lines.append(
                f"  recorded call #{entry.position + 1} {call.command_name} was "
                f"{call.command_size} bytes, over TIMETRACER_MAX_REPLY_BYTES, and was not "
                "stored: raise the cap and record again to replay it"
            )
    return "\n".join(lines)


class Answerer:
    """The responder's handler: hello, recorded replies, administrative answers, misses."""

    def __init__(
        self,
        router: ScopeRouter,
        default: ReplayScope | None = None,
        passthrough: Callable[[ClientOrigin, dict[str, Any]], Any] | None = None,
    ) -> None:
        self.router = router
        self.default = default
        """Answers commands no scope claimed (a pinned cassette), if set."""
        self.passthrough = passthrough
        """Hybrid replay: runs a missed command on the real database, if set."""
        self.server: dict[str, Any] | None = default.server if default else None
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self.orphan_misses: list[ReplayMissError] = []

    def __call__(self, command: dict[str, Any], raw: bytes, message: Any) -> Any:
        """Reply to one command (raw BSON bytes or a mapping)."""
        name = next(iter(command), "")
        routing = self.router.take(message.header.request_id)
        scope = routing.scope if routing is not None and routing.scope else self.default
        if name in _HELLO_NAMES:
            server = scope.server if scope is not None and scope.server else self.server
            return hello_reply(server, self.address, legacy=name != "hello")
        if scope is not None:
            with scope.lock:
                match = scope.index.take(command)
            if match is not None:
                scope.answered += 1
                if match.noise:
                    scope.noise.extend(f"{name}: {d}" for d in match.noise)
                return self._recorded_reply(match.entry.call, scope)
        if self.passthrough is not None and routing is not None and routing.origin is not None:
            if scope is not None:
                scope.noise.append(f"{name}: not recorded, answered by the real database")
            return self.passthrough(routing.origin, command)
        generic = generic_reply(command)
        if generic is not None:
            return generic
        return self._miss(scope, command)

    def _recorded_reply(self, call: Any, scope: ReplayScope) -> bytes | dict[str, Any]:
        if call.failure_bson is not None:
            return call.failure_bson
        if call.reply_bson is not None:
            return call.reply_bson
        error = TruncatedPayloadError(
            f"{scope.name}: the reply of {call.command_name} was {call.reply_size} bytes when "
            "recorded, over TIMETRACER_MAX_REPLY_BYTES, and was not stored; raise the cap and "
            "record again to replay it"
        )
        scope.misses.append(ReplayMissError(str(error), cassette=scope.name))
        return {"ok": 0.0, "errmsg": str(error), "code": MISS_CODE, "codeName": "TimetracerReplay"}

    def _miss(self, scope: ReplayScope | None, command: Mapping[str, Any]) -> dict[str, Any]:
        diagnosis = miss_diagnosis(scope, command)
        error = ReplayMissError(diagnosis, cassette=scope.name if scope else None)
        if scope is not None:
            scope.misses.append(error)
        else:
            self.orphan_misses.append(error)
        logger.warning("timetracer replay miss: %s", diagnosis)
        return {
            "ok": 0.0,
            "errmsg": f"timetracer replay miss: {diagnosis}",
            "code": MISS_CODE,
            "codeName": "TimetracerReplayMiss",
        }
