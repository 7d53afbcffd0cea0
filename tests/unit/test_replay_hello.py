"""The hello reply: the recorded server's topology, served from the responder's address."""

from __future__ import annotations

import datetime as dt

from bson import ObjectId

from timetracer_replay.hello import hello_reply, topology_of

ADDRESS = ("127.0.0.1", 40123)
ME = "127.0.0.1:40123"
REPLICA_SET = {
    "isWritablePrimary": True, "setName": "rs0", "setVersion": 4,
    "hosts": ["mongo-1:27017", "mongo-2:27017"], "primary": "mongo-1:27017",
    "me": "mongo-2:27017", "secondary": False, "minWireVersion": 0, "maxWireVersion": 21,
}  # fmt: skip
MONGOS = {"isWritablePrimary": True, "msg": "isdbgrid", "minWireVersion": 0, "maxWireVersion": 25}


def test_without_a_recorded_server_the_reply_is_a_writable_standalone() -> None:
    reply = hello_reply(None, ADDRESS)

    assert reply["isWritablePrimary"] is True
    assert reply["helloOk"] is True
    assert reply["ok"] == 1.0
    assert isinstance(reply["localTime"], dt.datetime)
    assert reply["maxWireVersion"] >= 17  # new enough for pymongo 4.20 (MongoDB 6.0)
    assert not {"setName", "hosts", "primary", "me", "msg", "ismaster"} & set(reply)
    assert topology_of(None) == topology_of({}) == "standalone"


def test_a_replica_set_member_names_the_responder_as_every_host() -> None:
    reply = hello_reply(REPLICA_SET, ADDRESS)

    assert reply["setName"] == "rs0"
    assert reply["hosts"] == [ME]
    assert reply["primary"] == reply["me"] == ME
    assert reply["setVersion"] == 4
    assert isinstance(reply["electionId"], ObjectId)
    assert topology_of(REPLICA_SET) == "replicaset"


def test_a_summary_recorded_from_a_secondary_is_served_as_the_primary() -> None:
    secondary = {**REPLICA_SET, "isWritablePrimary": False, "secondary": True}

    reply = hello_reply(secondary, ADDRESS)

    assert reply["isWritablePrimary"] is True
    assert reply["secondary"] is False


def test_a_mongos_keeps_its_isdbgrid_message_and_names_no_hosts() -> None:
    reply = hello_reply(MONGOS, ADDRESS)

    assert reply["msg"] == "isdbgrid"
    assert "setName" not in reply and "hosts" not in reply
    assert topology_of(MONGOS) == "mongos"


def test_a_legacy_handshake_gets_ismaster_instead_of_is_writable_primary() -> None:
    reply = hello_reply(REPLICA_SET, ADDRESS, legacy=True)

    assert reply["ismaster"] is True
    assert "isWritablePrimary" not in reply
    assert reply["hosts"] == [ME]


def test_recorded_wire_versions_and_limits_are_kept() -> None:
    recorded = {"minWireVersion": 6, "maxWireVersion": 17, "maxBsonObjectSize": 1024}

    reply = hello_reply(recorded, ADDRESS)

    assert (reply["minWireVersion"], reply["maxWireVersion"]) == (6, 17)
    assert reply["maxBsonObjectSize"] == 1024


def test_each_reply_has_a_new_connection_id() -> None:
    assert hello_reply(None, ADDRESS)["connectionId"] != hello_reply(None, ADDRESS)["connectionId"]
