"""Which notifier classes a plan may name in ``notify``: a list the deployment controls.

Nothing a plan names is imported unless it is on that list: the notifiers that installed providers
declare (``notifications`` in their provider info) and ``[backfill] allowed_notifiers``. Only then is
the class imported and checked to be an Airflow ``BaseNotifier``. The service checks at preview and
create; the controller's ``notify`` task checks again where the notifiers run.
"""

from __future__ import annotations

import importlib

from airflow_backfill_provider import settings


def allowed_notifiers() -> frozenset[str]:
    """Import paths of the notifier classes plans may use."""
    from airflow.providers_manager import ProvidersManager

    return frozenset(str(path) for path in ProvidersManager().notification) | settings.allowed_notifiers()


def notifier_class(path: str) -> type:
    """The notifier class at ``path``, which must be allowed; raises ValueError saying why not."""
    allowed = allowed_notifiers()
    if path not in allowed:
        raise ValueError(
            f"'{path}' is not an allowed notifier: use one that an installed provider declares "
            f"({', '.join(sorted(allowed)) or 'none is installed'}), or ask your Airflow administrator to "
            "add it to [backfill] allowed_notifiers"
        )
    from airflow.sdk import BaseNotifier

    module, _, name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"'{path}' cannot be imported here: {exc}") from None
    if not (isinstance(found, type) and issubclass(found, BaseNotifier)):
        raise ValueError(f"'{path}' is not a subclass of Airflow's BaseNotifier")
    return found
