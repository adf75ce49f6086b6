"""The types of event a station raises: one catalogue (station/wire/events.py),
raised exactly by the code and documented in docs/mqtt.md."""

from __future__ import annotations

import ast
import re

from station import errors
from station.appliance import storage
from station.appliance.stats import RESETTABLE
from station.capture import notices
from station.common import supervisor
from station.uplink import telemetry
from station.wire.events import EVENT_TYPES
from tests.helpers.cli import ROOT


def _subclasses(cls: type[errors.StationError]) -> list[type[errors.StationError]]:
    found: list[type[errors.StationError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def raised_types() -> set[str]:
    """Every type the code can pass to the event log."""
    types = {
        sub.event_type for sub in _subclasses(errors.StationError) if sub.event_type is not None
    }
    types |= {notices.REJECTED, notices.DUPLICATE, supervisor.EVENT, storage.EVENT}
    types |= set(telemetry._CLEARED)
    types |= {f"counter.reset.{name}" for name in RESETTABLE}
    # the literal types passed straight to the event log, and the telemetry's conditions
    for path in (ROOT / "station").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) == "Condition"
                and isinstance(node.args[0], ast.Constant)
            ):
                types.add(str(node.args[0].value))
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and ast.unparse(node.func.value).endswith("events")
                and isinstance(node.args[0], ast.Constant)
            ):
                types.add(str(node.args[0].value))
    return types


def test_the_station_raises_exactly_the_types_of_the_catalogue() -> None:
    assert raised_types() == set(EVENT_TYPES)


def test_every_event_log_call_names_a_type_the_catalogue_knows_of() -> None:
    """A type built at run time comes from one of the sources raised_types reads."""
    for path in (ROOT / "station").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and ast.unparse(node.func.value).endswith("events")
            ):
                first = ast.unparse(node.args[0])
                assert re.fullmatch(
                    r"'[a-z._]+'|EVENT|kind|error\.event_type|notice\.type|f'counter\.reset\.\{name\}'",
                    first,
                ), f"{path.relative_to(ROOT)}:{node.lineno}: {first}"


def test_docs_list_every_type() -> None:
    text = (ROOT / "docs" / "mqtt.md").read_text(encoding="utf-8")
    table = text.split("## `event`", 1)[1].split("\n## ", 1)[0]
    assert [t for t in EVENT_TYPES if f"`{t}`" not in table] == []
