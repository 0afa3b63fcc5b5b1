"""MariaDB (Debian mariadb-server): own datadir, socket and port; a database for the platform."""

from __future__ import annotations

import getpass
import socket
from typing import Any

from hyperscale.config.models import Endpoint
from hyperscale.config.secrets import ensure_generated_secret, resolve_secret
from hyperscale.errors import ExternalSystemError
from hyperscale.local.services.base import BackingService, ProbeError, require_program
from hyperscale.runner import run
from hyperscale.templating import render_to_file


class MariaDBService(BackingService):
    name = "mysql"
    description = "MariaDB (MySQL writer and reader)"
    startup_timeout = 60.0

    @property
    def endpoint(self) -> Endpoint:
        return self.env.mysql.writer

    @property
    def socket_path(self) -> str:
        return str(self.home / "mysqld.sock")

    @property
    def defaults_file(self) -> str:
        return str(self.home / "my.cnf")

    def install(self) -> None:
        require_program("mariadbd", "mariadb-server", "/usr/sbin/mariadbd")
        require_program("mariadb-install-db", "mariadb-server")

    def prepare(self) -> None:
        data_dir = self.home / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        render_to_file(
            self.app,
            "local/mariadb/my.cnf.j2",
            self.home / "my.cnf",
            host=self.endpoint.host,
            port=self.endpoint.port,
            data_dir=data_dir,
            socket=self.socket_path,
            pid_file=self.home / "mysqld.pid",
            os_user=getpass.getuser(),
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
                what="mariadb-install-db",
            )
        if self.env.mysql.password.generated:
            ensure_generated_secret(self.app, self.env.mysql.password.generated)
        resolve_secret(self.app, self.env.mysql.password)  # a missing secret fails before start

    def command(self) -> list[str]:
        mariadbd = require_program("mariadbd", "mariadb-server", "/usr/sbin/mariadbd")
        return [mariadbd, f"--defaults-file={self.defaults_file}"]

    def _admin(self) -> Any:
        """The OS user's socket-authenticated root connection, used only to set up the platform."""
        import pymysql

        return pymysql.connect(
            unix_socket=self.socket_path, user=getpass.getuser(), connect_timeout=2
        )

    def ready_probe(self) -> str:
        import pymysql

        # PyMySQL leaks its socket when a unix-socket connect fails (it is not yet stored on the
        # connection when the error is handled), so first see the server accept on our own.
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(1)
                probe.connect(self.socket_path)
        except OSError as exc:
            raise ProbeError(f"not accepting on {self.socket_path} yet: {exc}") from None
        try:
            with self._admin() as conn, conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                return f"mariadb {_first(cur.fetchone())}"
        except pymysql.MySQLError as exc:
            raise ProbeError(str(exc)) from None

    def after_ready(self) -> None:
        cfg = self.env.mysql
        import pymysql

        password = resolve_secret(self.app, cfg.password, self.env.aws)
        try:
            self._create_platform_user(password)
        except pymysql.MySQLError as exc:
            raise ExternalSystemError(f"mysql: cannot create the platform user: {exc}") from None

    def _create_platform_user(self, password: str) -> None:
        cfg = self.env.mysql
        with self._admin() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{cfg.database}` CHARACTER SET utf8mb4")
            for host in ("127.0.0.1", "localhost", "::1"):
                cur.execute(
                    f"CREATE USER IF NOT EXISTS '{cfg.user}'@'{host}' IDENTIFIED BY %s", (password,)
                )
                cur.execute(f"ALTER USER '{cfg.user}'@'{host}' IDENTIFIED BY %s", (password,))
                cur.execute(f"GRANT ALL PRIVILEGES ON `{cfg.database}`.* TO '{cfg.user}'@'{host}'")
            conn.commit()

    def probe(self) -> str:
        import pymysql

        cfg = self.env.mysql
        try:
            password = resolve_secret(self.app, cfg.password, self.env.aws)
            with (
                pymysql.connect(
                    host=self.endpoint.host,
                    port=self.endpoint.port,
                    user=cfg.user,
                    password=password,
                    database=cfg.database,
                    connect_timeout=2,
                    read_timeout=5,
                ) as conn,
                conn.cursor() as cur,
            ):
                cur.execute("SELECT VERSION()")
                return f"mariadb {_first(cur.fetchone())}"
        except pymysql.MySQLError as exc:
            raise ProbeError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a missing secret means the platform cannot log in
            raise ProbeError(str(exc)) from None

    def data_paths(self) -> dict[str, str]:
        return {**super().data_paths(), "socket": self.socket_path}


def _first(row: tuple[Any, ...] | None) -> str:
    return str(row[0]) if row else "unknown"
