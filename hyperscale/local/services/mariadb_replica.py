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
from hyperscale.local.services.base import require_program
from hyperscale.local.services.mariadb import MariaDBService

#: The generated secret of the replication account (state directory, mode 0600).
REPLICATION_SECRET = "mysql-replication-password"  # noqa: S105 - its name, not its value


class MariaDBReplicaService(MariaDBService):
    name = "mysql-replica"
    description = "MariaDB read replica (mysql.reader)"
    requires = ("mysql",)
    config_template = "local/mariadb/replica.cnf.j2"

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

    def install(self) -> None:
        super().install()
        require_program("mariadb-dump", "mariadb-client")
        require_program("mariadb", "mariadb-client")

    def prepare(self) -> None:
        self.prepare_server(database=self.env.mysql.database)
        ensure_generated_secret(self.app, REPLICATION_SECRET)

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
