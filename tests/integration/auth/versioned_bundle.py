"""A DAG bundle that keeps versions, for the ``dag_version`` tests: one directory per version.

``<root>/versions/<v>/`` holds version ``v`` of the bundle's files and ``<root>/CURRENT`` names the
latest. The DAG processor parses the latest; a worker given a bundle version reads that directory,
as GitDagBundle checks out a commit. Airflow's own versioned bundle needs git and a repository;
this one needs a folder.
"""

from __future__ import annotations

from pathlib import Path

from airflow.dag_processing.bundles.base import BaseDagBundle, BundleVersion


class DirVersionBundle(BaseDagBundle):
    supports_versioning = True

    def __init__(self, *, root: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.root = Path(root)

    def _current(self) -> str:
        return (self.root / "CURRENT").read_text().strip()

    @property
    def path(self) -> Path:
        return self.root / "versions" / (self.version or self._current())

    def get_current_version(self) -> BundleVersion:
        return BundleVersion(version=self.version or self._current())

    def refresh(self) -> None:
        """Nothing to fetch: ``CURRENT`` is read each time."""
