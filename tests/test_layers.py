"""The rooms' import contract names every module of supportdesk/, so a new module cannot slip
past it: a module in no layer would be free to import anything."""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
NOT_CODE = {"supportdesk.migrations", "supportdesk.settings"}


def test_every_supportdesk_module_is_in_a_layer_of_the_rooms_contract():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    rooms = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    named = {
        module.strip() for layer in rooms["layers"] for module in layer.replace("|", ":").split(":")
    }
    graph = grimp.build_graph("supportdesk")
    top_level = {".".join(m.split(".")[:2]) for m in graph.modules if "." in m}

    unlisted = sorted(top_level - named - NOT_CODE)

    assert unlisted == [], f"add these to a layer in pyproject.toml: {unlisted}"
