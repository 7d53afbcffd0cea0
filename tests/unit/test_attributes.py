"""``timetracer.attributes``: every span attribute timetracer adds lives under one prefix."""

from __future__ import annotations

from timetracer import attributes as attr


def test_every_payload_key_is_under_the_prefix_so_a_collector_can_drop_them_all() -> None:
    keys = [
        value
        for name, value in vars(attr).items()
        if name.isupper() and name not in ("PREFIX", "FORMAT_VERSION")
    ]

    assert len(keys) > 10  # the filter above found the constants
    assert all(key.startswith(attr.PREFIX) for key in keys)
    assert len(set(keys)) == len(keys)
