"""``timetracer collect``: an OTLP/HTTP traces receiver that writes cassettes.

Modules: ``decode`` (body checks and parsing), ``responses`` (answer bodies), ``spans`` (a
received span as held), ``assembler`` (spans to local traces), ``writer`` (traces to cassette
files), ``http`` (the endpoint), ``stats`` (counters), ``service`` (all of it running).
"""

from timetracer.receiver.assembler import FinishedTrace, TraceAssembler
from timetracer.receiver.decode import RequestRejected
from timetracer.receiver.service import CollectReceiver, ReceiverError
from timetracer.receiver.stats import ReceiverStats
from timetracer.receiver.writer import CassetteWriter

__all__ = [
    "CassetteWriter",
    "CollectReceiver",
    "FinishedTrace",
    "ReceiverError",
    "ReceiverStats",
    "RequestRejected",
    "TraceAssembler",
]
