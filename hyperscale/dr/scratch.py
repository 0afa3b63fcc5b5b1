"""The scratch MariaDB a backup is restored into: the local MariaDB service's own set-up
(configuration, start-up, probes, the platform's account) on a port of its own, with its data
directory made from the backup instead of ``mariadb-install-db``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.local.services.mariadb import MariaDBService


class ScratchMariaDB(MariaDBService):
    name = "mysql-scratch"
    description = "MariaDB restored from a backup (hyperscale dr restore)"

    def __init__(
        self, env: Environment, app: AppContext, port: int, backup: Path | None = None
    ) -> None:
        super().__init__(env, app)
        self.port = port
        self.backup = backup

    @classmethod
    def current(cls, env: Environment, app: AppContext) -> tuple[ScratchMariaDB, str] | None:
        """The scratch server the last restore made, and the backup it holds; None if none."""
        probe = cls(env, app, 0)
        try:
            record = json.loads(probe.record_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return cls(env, app, int(record["port"])), str(record["backup"])

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(host="127.0.0.1", port=self.port)

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def record_path(self) -> Path:
        return self.home / "scratch.json"

    def prepare(self) -> None:
        from hyperscale.clients.mysql_backup import copy_back

        if self.backup is not None and not (self.data_dir / "mysql").is_dir():
            shutil.rmtree(self.data_dir, ignore_errors=True)
            copy_back(self.backup, self.data_dir)
        super().prepare()  # the configuration; no mariadb-install-db: the data is there

    def remember(self, backup_id: str) -> None:
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        self.record_path.write_text(json.dumps({"port": self.port, "backup": backup_id}))

    def remove(self) -> bool:
        """Stop it and delete its data; True if there was anything."""
        with self.process.lock():
            stopped = self.process.stop()
        existed = self.home.is_dir()
        shutil.rmtree(self.home, ignore_errors=True)
        return stopped or existed
