"""Bad cassettes: every kind of damage gives one clear line naming the file and the cause, exit
status 2, and ``replay`` still runs the good cassettes beside the bad one."""

from __future__ import annotations

import gzip
import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.replay_support import (
    DB,
    PING,
    call_attributes,
    find_one_command,
    item_recording,
    write_recording,
)
from tests.unit.spans import START_NS, mongo_attributes
from timetracer import attributes as attr
from timetracer.attributes import FORMAT_VERSION
from timetracer.cassette.compression import compress
from timetracer.cassette.encoding import encode_cassette
from timetracer.cassette.reader import read_traces_data
from timetracer.cli.main import main
from timetracer_replay import session as session_module

SECOND = 1_000_000_000
Damage = Callable[[Path], bytes]
"""Bytes of a damaged file, made from a good cassette's path."""


def truncated_gzip(good: Path) -> bytes:
    raw = good.read_bytes()
    return raw[: len(raw) // 2]


def truncated_zstd(good: Path) -> bytes:
    raw = compress(gzip.decompress(good.read_bytes()), "zstd")
    return raw[: len(raw) - 7]


def wrong_magic(good: Path) -> bytes:
    # A zip file's magic, then noise: not gzip, not zstd, not protobuf.
    return b"PK\x03\x04" + random.Random(7).randbytes(300)


def random_bytes(good: Path) -> bytes:
    return random.Random(11).randbytes(2048)


def invalid_protobuf(good: Path) -> bytes:
    # Field 1, length-delimited, declaring far more bytes than follow.
    return gzip.compress(b"\x0a\xff\xff\x03" + b"\x00" * 16)


def version_99(good: Path) -> bytes:
    data = read_traces_data(good)
    for resource_spans in data.resource_spans:
        attributes = resource_spans.resource.attributes
        kept = [kv for kv in attributes if kv.key != FORMAT_VERSION]
        del attributes[:]
        attributes.extend(kept)
        attributes.append(KeyValue(key=FORMAT_VERSION, value=AnyValue(int_value=99)))
    return encode_cassette(data, "gzip")


DAMAGES: dict[str, tuple[Damage, str]] = {
    "truncated-gzip": (truncated_gzip, "corrupt or truncated gzip data"),
    "truncated-zstd": (truncated_zstd, "corrupt or truncated zstd data"),
    "wrong-magic": (wrong_magic, "not an OTLP TracesData message"),
    "random-bytes": (random_bytes, "not an OTLP TracesData message"),
    "invalid-protobuf": (invalid_protobuf, "not an OTLP TracesData message"),
    "version-99": (version_99, "cassette format version 99 is newer than this timetracer"),
}


@pytest.fixture(autouse=True)
def own_global_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets a fresh process-wide replay session, stopped afterwards."""
    monkeypatch.setattr(session_module, "_session", None)
    yield
    if session_module._session is not None:
        session_module._session.stop()


@pytest.fixture
def app_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``module:app`` of a fresh importable module holding the replay tests' shop app."""
    module = f"hardenedshop_{uuid.uuid4().hex}"
    code = tmp_path / "code"
    code.mkdir()
    (code / f"{module}.py").write_text(
        "from tests.unit.replay_support import shop_app\n\napp = shop_app()\n"
    )
    monkeypatch.syspath_prepend(str(code))
    return f"{module}:app"


@pytest.fixture
def good(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path) -> list[Path]:
    """Two cassettes of GET /items/a that replay cleanly against the shop app."""
    directory = tmp_path / "cassettes"
    return [
        write_recording(
            directory, tracer, memory, **item_recording("a", start_ns=START_NS + i * SECOND)
        )
        for i in (1, 3)
    ]


def damaged(good: list[Path], kind: str) -> Path:
    make, _ = DAMAGES[kind]
    bad = good[0].parent / f"20231114T221322000Z_GET_items-sku_{uuid.uuid4().hex}.cassette"
    bad.write_bytes(make(good[0]))
    return bad


def lines_naming(text: str, path: Path) -> list[str]:
    return [line for line in text.splitlines() if str(path) in line]


@pytest.mark.parametrize("kind", DAMAGES)
def test_list_reports_one_line_for_the_bad_file_lists_the_rest_and_exits_2(
    good: list[Path], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = damaged(good, kind)

    code = main(["list", str(bad.parent)])

    out, err = capsys.readouterr()
    assert code == 2
    (line,) = lines_naming(err, bad)
    assert line == f"timetracer: skipped {bad}: {line.split(': ', 2)[2]}"
    assert DAMAGES[kind][1] in line
    assert len(out.splitlines()) == len(good)
    assert "Traceback" not in err


@pytest.mark.parametrize("kind", DAMAGES)
def test_show_of_a_bad_file_prints_one_line_and_exits_2(
    good: list[Path], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = damaged(good, kind)

    code = main(["show", str(bad)])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.splitlines() == [f"timetracer: {bad}: {err.split(': ', 2)[2].rstrip()}"]
    assert DAMAGES[kind][1] in err


@pytest.mark.parametrize("kind", DAMAGES)
def test_replay_reports_the_bad_file_in_one_line_runs_the_rest_and_exits_2(
    good: list[Path], kind: str, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = damaged(good, kind)

    code = main(["replay", str(bad.parent), "--app", app_spec])

    out, err = capsys.readouterr()
    assert code == 2
    (line,) = lines_naming(out + err, bad)
    assert line.startswith(f"ERROR {bad}: ")
    assert DAMAGES[kind][1] in line
    assert [line for line in out.splitlines() if line.startswith("PASS ")] == [
        f"PASS GET /items/a  (200 -> 200)  {path}" for path in good
    ]
    assert out.splitlines()[-1] == "2 passed, 0 failed, 1 errors"


@pytest.fixture
def over_the_cap(good: list[Path], tracer: Tracer, memory: InMemorySpanExporter) -> Path:
    """A cassette whose find reply was over TIMETRACER_MAX_REPLY_BYTES: only its size kept."""
    recording = item_recording("a", start_ns=START_NS + 2 * SECOND)
    recording["calls"] = [
        call_attributes(PING),
        mongo_attributes(find_one_command("a"), reply_size=20_000_000, database=DB),
    ]
    return write_recording(good[0].parent, tracer, memory, **recording)


def test_a_cassette_whose_reply_was_over_the_cap_lists_and_shows_with_exit_0(
    over_the_cap: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The file is sound; only replaying it is impossible, so reading it is not an error.
    assert main(["list", str(over_the_cap.parent)]) == 0
    assert main(["show", str(over_the_cap), "--json"]) == 0
    assert '"reply_bytes": 20000000' in capsys.readouterr().out


def test_replay_of_a_cassette_whose_reply_was_over_the_cap_names_the_limit_in_one_line(
    good: list[Path], over_the_cap: Path, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["replay", str(over_the_cap.parent), "--app", app_spec])

    out, err = capsys.readouterr()
    assert code == 2
    (line,) = lines_naming(out + err, over_the_cap)
    assert line == (
        f"ERROR GET /items/a  {over_the_cap}: recorded call #2 find on {DB}.items: its reply "
        "was 20000000 bytes, over TIMETRACER_MAX_REPLY_BYTES when recorded, and was not "
        "stored; raise the cap and record again to replay this cassette"
    )
    assert len([row for row in out.splitlines() if row.startswith("PASS ")]) == len(good)
    assert out.splitlines()[-1] == "2 passed, 0 failed, 1 errors"


@pytest.fixture
def invalid_bson(good: list[Path], tracer: Tracer, memory: InMemorySpanExporter) -> Path:
    """A sound file whose recorded find command is not BSON (altered after recording)."""
    recording = item_recording("a", start_ns=START_NS + 2 * SECOND)
    damaged_call = call_attributes(find_one_command("a"))
    damaged_call[attr.MONGO_COMMAND] = b"\x10\x00\x00\x00\x99junk\x00\x00\x00\x00\x00\x00"
    recording["calls"] = [call_attributes(PING), damaged_call]
    return write_recording(good[0].parent, tracer, memory, **recording)


def test_show_and_replay_of_a_document_that_is_not_bson_name_the_file_in_one_line(
    good: list[Path], invalid_bson: Path, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(invalid_bson)]) == 2
    shown = capsys.readouterr()
    assert shown.err.startswith(f"timetracer: {invalid_bson}: holds a MongoDB document that")
    assert len(shown.err.splitlines()) == 1

    assert main(["replay", str(invalid_bson.parent), "--app", app_spec]) == 2
    out = capsys.readouterr().out
    (line,) = lines_naming(out, invalid_bson)
    assert line.startswith(f"ERROR {invalid_bson}: holds a MongoDB document that is not BSON")
    assert out.splitlines()[-1] == "2 passed, 0 failed, 1 errors"
