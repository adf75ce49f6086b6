"""The docs stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from station import errors
from station.cli import build_parser
from station.config import markdown_reference

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_config_reference_is_generated_from_the_model() -> None:
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    assert markdown_reference() in text, "run: python -m station.config and update docs/config.md"


def test_cli_doc_lists_every_command() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = set(sub.choices)  # type: ignore[arg-type]
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)", text, flags=re.M))
    assert commands <= documented


def test_cli_doc_lists_every_exit_code() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    documented = {int(c) for c in re.findall(r"^\|\s*(\d+) \|", text, flags=re.M)}
    codes = {
        cls.exit_code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.StationError)
    }
    assert codes <= documented


def test_mqtt_doc_has_one_heading_per_topic() -> None:
    """docs/mqtt.md lists every topic the code uses, one heading each."""

    from station.wire import topics

    text = (DOCS / "mqtt.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## `([^`]+)`$", text, flags=re.MULTILINE)
    assert sorted(headings) == sorted(topics.DOCUMENTED)
    # and the templates match what the functions build
    files = topics.FileTopics("st-a")
    built = {
        topics.state("st-a"),
        topics.health("st-a"),
        topics.event("st-a"),
        files.init("F"),
        files.segment("F", 0, "S"),
        files.fin("F", 1, "S"),
        files.abort("F"),
        files.response,
        topics.doc("st-a", "D"),
        topics.receipt("st-a", "D"),
        topics.cmd("st-a", "N"),
        topics.cmd_resp("st-a", "N"),
    }
    root = topics.root("st-a") + "/"
    templates = {
        t.replace("{file_id}", "F")
        .replace("{offset}", "0")
        .replace("{sha256}", "S")
        .replace("{size}", "1")
        .replace("{doc_id}", "D")
        .replace("{name}", "N")
        for t in topics.DOCUMENTED
        if not t.startswith("$")
    }
    assert {b.removeprefix(root) for b in built} == templates
    emqx = topics.FileTopics("st-a", "emqx")
    assert emqx.init("F") == "$file-async/F/init" and emqx.response == "$file-response/st-a"


def test_mqtt_doc_states_every_payload_schema() -> None:
    """docs/mqtt.md names every model, every field of every model, and every
    reason a message is dropped for."""
    from station.wire import payloads

    text = (DOCS / "mqtt.md").read_text(encoding="utf-8")
    for model in payloads.MODELS.values():
        assert f"`{model.__name__}`" in text
    models = list(payloads.Wire.__subclasses__())
    assert len(models) > len(payloads.MODELS)
    for model in models:
        for field in model.model_fields:
            assert f'"{field}"' in text or f"`{field}`" in text, f"{model.__name__}.{field}"
    documented = re.findall(r"^\| `(\w+)` \|", text, flags=re.MULTILINE)
    assert set(payloads.REASONS) <= set(documented)


def test_fleet_doc_lists_every_metric() -> None:
    from station.ui.fleet.metrics import exposition

    text = (DOCS / "fleet.md").read_text(encoding="utf-8")
    families = re.findall(r"^# TYPE (\w+)", exposition([], {}), flags=re.MULTILINE)
    assert "scanstation_fleet_payloads_rejected_total" in families
    for family in families:
        assert f"`{family}" in text, family
