"""A second MariaDB that replicates from the first: the environment's mysql.reader endpoint.

What is set, and why (see also templates/local/mariadb/*.cnf.j2):

- server ids 1 (primary) and 2 (replica): replication refuses two servers with one id;
- the primary writes a row-based binary log (``log_bin``, ``binlog_format = ROW``), kept three
  days; the replica writes none, so nothing it does can be replicated anywhere;
- GTID positions (``MASTER_USE_GTID = slave_pos``) rather than file and offset: the replica
  keeps the last applied GTID transactionally and resumes from it after a restart of either
  server, and a snapshot's position is one string;
- only the platform's database is replicated (``replicate_wild_do_table``): each server keeps
  its own accounts, made by `local up`; the replica is ``read_only`` for the platform's user;
- it starts from a consistent snapshot of the primary (mariadb-dump ``--single-transaction``
  with its GTID position), so data written before the replica existed is there too. A replica
  whose primary lost the binary log it needs is seeded again the same way.
"""

from __future__ import annotations

import getpass

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Endpoint, Environment
from hyperscale.config.secrets import ensure_generated_secret
from hyperscale.errors import ExternalSystemError
from hyperscale.local.services.base import BackingService, ProbeError, require_program
from hyperscale.local.services.mariadb import MariaDBService
from hyperscale.runner import run
from hyperscale.templating import render_to_file

#: The generated secret of the replication account (state directory, mode 0600).
REPLICATION_SECRET = "mysql-replication-password"  # noqa: S105 - its name, not its value


class MariaDBReplicaService(BackingService):
    name = "mysql-replica"
    description = "MariaDB read replica (mysql.reader)"
    startup_timeout = 60.0
    requires = ("mysql",)

    @classmethod
    def applies_to(cls, env: Environment) -> bool:
        return env.mysql.reader != env.mysql.writer

    @classmethod
    def absent_reason(cls, env: Environment) -> str:
        return (
            f"environment {env.name} has no replica: its mysql.reader is its mysql.writer"
            " (give mysql.reader a port of its own to have one)"
        )

    @property
    def endpoint(self) -> Endpoint:
        return self.env.mysql.reader

    @property
    def socket_path(self) -> str:
        return str(self.home / "mysqld.sock")

    @property
    def defaults_file(self) -> str:
        return str(self.home / "my.cnf")

    def install(self) -> None:
        require_program("mariadbd", "mariadb-server", "/usr/sbin/mariadbd")
        require_program("mariadb-install-db", "mariadb-server")
        require_program("mariadb-dump", "mariadb-client")
        require_program("mariadb", "mariadb-client")

    def prepare(self) -> None:
        data_dir = self.home / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        render_to_file(
            self.app,
            "local/mariadb/replica.cnf.j2",
            self.home / "my.cnf",
            host=self.endpoint.host,
            port=self.endpoint.port,
            data_dir=data_dir,
            socket=self.socket_path,
            pid_file=self.home / "mysqld.pid",
            os_user=getpass.getuser(),
            database=self.env.mysql.database,
        )
        if not (data_dir / "mysql").is_dir():
            run(
                [
                    require_program("mariadb-install-db", "mariadb-server"),
                    f"--defaults-file={self.defaults_file}",
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                ],
                timeout=120,
                what="mariadb-install-db (replica)",
            )
        ensure_generated_secret(self.app, REPLICATION_SECRET)

    def command(self) -> list[str]:
        mariadbd = require_program("mariadbd", "mariadb-server", "/usr/sbin/mariadbd")
        return [mariadbd, f"--defaults-file={self.defaults_file}"]

    def ready_probe(self) -> str:
        from hyperscale.clients.mysql import socket_server_version

        try:
            return f"mariadb {socket_server_version(self.socket_path, getpass.getuser())}"
        except ExternalSystemError as exc:
            raise ProbeError(exc.message) from None

    def after_ready(self) -> None:
        """Follow the primary (seeding the replica when it follows nothing), then give the
        platform's user its account here: the API reads through it."""
        from hyperscale.clients.mysql import ensure_platform_user
        from hyperscale.clients.mysql_replica import ReplicaSetup, ensure_replicating

        cfg = self.env.mysql
        os_user = getpass.getuser()
        setup = ReplicaSetup(
            primary_socket=MariaDBService(self.env, self.app).socket_path,
            replica_socket=self.socket_path,
            os_user=os_user,
            primary=cfg.writer,
            database=cfg.database,
            replication_password=ensure_generated_secret(self.app, REPLICATION_SECRET),
        )
        ensure_replicating(setup)
        password = resolve_secret(self.app, cfg.password, self.env.aws)
        ensure_platform_user(self.socket_path, os_user, cfg.database, cfg.user, password)

    def probe(self) -> str:
        """Log in as the platform's user (what the API does) and say how replication goes."""
        from hyperscale.clients.mysql_replica import replica_status

        version = MariaDBService.probe_endpoint(self.env, self.app, self.endpoint)
        try:
            status = replica_status(self.socket_path, getpass.getuser())
        except ExternalSystemError as exc:
            return f"{version}; replication unreadable: {exc.message}"
        if status is None:
            return f"{version}; not replicating"
        behind = "?" if status.seconds_behind is None else f"{status.seconds_behind}s"
        return (
            f"{version}; from {status.source}: I/O {status.io_running},"
            f" SQL {status.sql_running}, {behind} behind"
        )

    def data_paths(self) -> dict[str, str]:
        return {**super().data_paths(), "socket": self.socket_path}
