"""Cassettes: OTLP ``TracesData`` files holding one request and everything it called."""

from timetracer.cassette.model import Cassette, HttpExchange, MongoCall
from timetracer.cassette.reader import iter_cassette_paths, load_cassette, read_traces_data

__all__ = [
    "Cassette",
    "HttpExchange",
    "MongoCall",
    "iter_cassette_paths",
    "load_cassette",
    "read_traces_data",
]
