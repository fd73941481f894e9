"""A DAG bundle that keeps versions, for the ``dag_version`` tests: one directory per version.

``<root>/versions/<v>/`` holds version ``v`` of the bundle's files and ``<root>/CURRENT`` names the
latest. The DAG processor parses the latest; a worker given a bundle version reads that directory,
as GitDagBundle checks out a commit. Airflow's own versioned bundle needs git and a repository;
this one needs a folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from airflow.dag_processing.bundles.base import BaseDagBundle

try:
    from airflow.dag_processing.bundles.base import BundleVersion
except ImportError:  # Airflow 3.2: a bundle's version is its string

    def BundleVersion(version: str) -> str:  # type: ignore[no-redef]
        return version


CHECKOUT = "checkout"


class DirVersionBundle(BaseDagBundle):
    supports_versioning = True

    def __init__(self, *, root: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.root = Path(root)

    @property
    def path(self) -> Path:
        """A given version's directory (a worker's); else ``checkout``, which ``refresh`` points at
        the latest: one path whatever the version, as GitDagBundle's checkout (a path per version let
        files queued before a switch be parsed as v1 and recorded as v2)."""
        if self.version:
            return self.root / "versions" / self.version
        if not (self.root / CHECKOUT).exists():
            self.refresh()
        return self.root / CHECKOUT

    def get_current_version(self) -> BundleVersion:
        if self.version:
            return BundleVersion(version=self.version)
        if not (self.root / CHECKOUT).exists():
            self.refresh()
        return BundleVersion(version=os.readlink(self.root / CHECKOUT).rsplit("/", 1)[-1])

    def refresh(self) -> None:
        """Point ``checkout`` at the version ``CURRENT`` names (atomically: a new link renamed over)."""
        latest = (self.root / "CURRENT").read_text().strip()
        link = self.root / CHECKOUT
        if link.is_symlink() and os.readlink(link) == f"versions/{latest}":
            return
        new = self.root / f".{CHECKOUT}-{os.getpid()}"
        new.unlink(missing_ok=True)
        new.symlink_to(f"versions/{latest}")
        os.replace(new, link)
