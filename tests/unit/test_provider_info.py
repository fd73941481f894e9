"""get_provider_info lists everything the package ships, in the shape Airflow's schema requires."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import airflow
import jsonschema

from airflow_backfill_provider.get_provider_info import get_provider_info
from airflow_backfill_provider.settings import OPTIONS


def test_provider_info_fits_airflows_schema():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_every_listed_module_and_class_imports():
    info = get_provider_info()
    modules = [
        m
        for key in ("hooks", "operators", "sensors", "triggers")
        for entry in info[key]
        for m in entry["python-modules"]
    ]
    classes = [
        *(c["hook-class-name"] for c in info["connection-types"]),
        *(p["plugin-class"] for p in info["plugins"]),
        *info["db-managers"],
        *info["cli"],
    ]
    for module in modules:
        importlib.import_module(module)
    for path in classes:
        module, _, name = path.rpartition(".")
        assert getattr(importlib.import_module(module), name)


def test_the_backfill_connection_type_and_config_section_are_declared():
    info = get_provider_info()
    assert [c["connection-type"] for c in info["connection-types"]] == ["backfill"]
    assert set(info["config"]["backfill"]["options"]) == set(OPTIONS)
    assert {"engine.trigger", "triggers.backfill"} <= {
        m.split("airflow_backfill_provider.")[1] for e in info["triggers"] for m in e["python-modules"]
    }
