"""The provider's public classes are documented as Airflow's own providers' are: each class the
provider info lists has a docstring, every argument of its constructor a ``:param:`` line, and the
operator's templated fields are arguments (so their docs say what Jinja can reach)."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from airflow_backfill_provider.get_provider_info import get_provider_info

BASES = ("BaseOperator", "BaseSensorOperator", "BaseTrigger", "BaseHook", "BaseOperatorLink")


def public_classes() -> list[type]:
    """Every class defined in a module the provider info lists as hooks, operators, sensors or
    triggers, with the extra links; the controller DAG's internal trigger excepted."""
    info = get_provider_info()
    found: dict[str, type] = {}
    for key in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[key]:
            for name in entry["python-modules"]:
                module = importlib.import_module(name)
                for cls in vars(module).values():
                    if (
                        inspect.isclass(cls)
                        and cls.__module__ == module.__name__
                        and any(b.__name__ in BASES for b in cls.__mro__[1:])
                    ):
                        found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    for path in info["extra-links"]:
        module, _, name = path.rpartition(".")
        found[path] = getattr(importlib.import_module(module), name)
    return [
        cls for path, cls in sorted(found.items()) if not path.endswith("engine.trigger.PlanDriverTrigger")
    ]


def arguments(cls: type) -> list[str]:
    if "__init__" not in vars(cls):
        return []
    signature = inspect.signature(cls.__init__)
    return [
        name
        for name, p in signature.parameters.items()
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def test_the_public_classes_are_the_ones_users_import():
    names = {cls.__name__ for cls in public_classes()}
    assert {
        "BackfillHook",
        "BackfillPlanOperator",
        "BackfillPlanSensor",
        "BackfillPlanTrigger",
        "BackfillPlanLink",
    } <= names


@pytest.mark.parametrize("cls", public_classes(), ids=lambda c: c.__name__)
def test_every_public_class_documents_every_argument(cls: type):
    doc = inspect.getdoc(cls) or ""
    assert doc.strip(), f"{cls.__name__} has no docstring"
    documented = set(re.findall(r"^:param (\w+):", doc, re.MULTILINE))
    missing = [name for name in arguments(cls) if name not in documented]
    assert not missing, f"{cls.__name__}: no ':param name:' for {missing}"
    extra = documented - set(arguments(cls)) - set(getattr(cls, "template_fields", ()))
    assert not extra, f"{cls.__name__} documents arguments it does not take: {sorted(extra)}"


@pytest.mark.parametrize(
    "cls", [c for c in public_classes() if getattr(c, "template_fields", ())], ids=lambda c: c.__name__
)
def test_templated_fields_are_documented_arguments(cls: type):
    doc = inspect.getdoc(cls) or ""
    for field in cls.template_fields:
        assert f":param {field}:" in doc, f"{cls.__name__}.{field} is templated but not documented"
