"""Train a zstd dictionary for cassettes from recorded cassettes.

A cassette is compressed alone, so every file pays again for what all cassettes share: the
resource and scopes, the attribute keys, the span structure, the server's hello summary, the
common HTTP headers and BSON field names. A zstd dictionary holds that once, in the package.

Dictionary 1 was trained on the recordings that the record integration test makes (a shop app
under Starlette, FastAPI and Litestar with PyMongo, AsyncMongoClient and Motor, recorded by the
distro under ``opentelemetry-instrument``) and the example apps' committed cassettes, never on
the app that the benchmarks measure::

    .venv/bin/pytest tests/integration/test_record_launcher.py --basetemp=/tmp/corpus --no-cov
    .venv/bin/python scripts/build_zstd_dictionary.py /tmp/corpus examples \\
        --id 1 --output src/timetracer/cassette/dictionaries/cassettes-1.zdict

A shipped dictionary never changes: a cassette names its dictionary by id in its zstd frame.
To ship a better one, train it under the next id, add it to ``timetracer.cassette.dictionary``
and keep every earlier one.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from timetracer.cassette.compression import decompress  # noqa: E402
from timetracer.cassette.dictionary import ZSTD_LEVEL, frame_dictionary_id  # noqa: E402

DICTIONARY_BYTES = 16 * 1024


def samples(roots: list[Path]) -> list[bytes]:
    """Every cassette under ``roots``, uncompressed, in path order (training is deterministic
    for the same samples in the same order)."""
    found = sorted(path for root in roots for path in root.rglob("*.cassette") if path.is_file())
    return [decompress(path.read_bytes(), source=path) for path in found]


def main(argv: list[str] | None = None) -> int:
    import zstandard

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", type=Path, nargs="+", help="directories holding cassettes")
    parser.add_argument("--id", type=int, required=True, help="the dictionary's number")
    parser.add_argument("--output", type=Path, required=True, help="where to write it")
    parser.add_argument("--size", type=int, default=DICTIONARY_BYTES)
    args = parser.parse_args(argv)

    corpus = samples(args.roots)
    if len(corpus) < 100:
        print(f"found {len(corpus)} cassettes; training needs at least 100", file=sys.stderr)
        return 2
    trained = zstandard.train_dictionary(
        args.size, corpus, dict_id=frame_dictionary_id(args.id), level=ZSTD_LEVEL
    )
    content = trained.as_bytes()
    args.output.write_bytes(content)
    print(f"{args.output}: {len(content)} bytes, trained on {len(corpus)} cassettes")
    print(f"sha256 {hashlib.sha256(content).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
