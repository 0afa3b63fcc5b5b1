"""MariaDB (Debian mariadb-server): own datadir, socket and port; a database for the platform."""

from __future__ import annotations

import getpass
from typing import ClassVar

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Endpoint, Environment
from hyperscale.config.secrets import ensure_generated_secret
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.local.services.base import BackingService, ProbeError, require_program
from hyperscale.runner import run
from hyperscale.sockets import socket_path
from hyperscale.templating import render_to_file


class MariaDBService(BackingService):
    name = "mysql"
    description = "MariaDB (MySQL writer; the reader too without a replica)"
    startup_timeout = 60.0
    config_template: ClassVar[str] = "local/mariadb/my.cnf.j2"

    @property
    def endpoint(self) -> Endpoint:
        return self.env.mysql.writer

    @property
    def socket_path(self) -> str:
        return str(socket_path(self.home / "mysqld.sock"))

    @property
    def defaults_file(self) -> str:
        return str(self.home / "my.cnf")

    def install(self) -> None:
        require_program("mariadbd", "mariadb-server", "/usr/sbin/mariadbd")
        require_program("mariadb-install-db", "mariadb-server")

    def prepare(self) -> None:
        self.prepare_server()
        if self.env.mysql.password.generated:
            ensure_generated_secret(self.app, self.env.mysql.password.generated)
        resolve_secret(self.app, self.env.mysql.password)  # a missing secret fails before start

    def prepare_server(self, **settings: object) -> None:
        """The server's own configuration (``config_template`` with ``settings``) and, the first
        time, its system tables."""
        data_dir = self.home / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        render_to_file(
            self.app,
            self.config_template,
            self.home / "my.cnf",
            host=self.endpoint.host,
            port=self.endpoint.port,
            data_dir=data_dir,
            socket=self.socket_path,
            pid_file=self.home / "mysqld.pid",
            os_user=getpass.getuser(),
            **settings,
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
                what=f"mariadb-install-db ({self.name})",
            )

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
        from hyperscale.clients.mysql import ensure_platform_user

        cfg = self.env.mysql
        password = resolve_secret(self.app, cfg.password, self.env.aws)
        ensure_platform_user(self.socket_path, getpass.getuser(), cfg.database, cfg.user, password)

    def probe(self) -> str:
        return self.probe_endpoint(self.env, self.app, self.endpoint)

    @staticmethod
    def probe_endpoint(env: Environment, app: AppContext, endpoint: Endpoint) -> str:
        """Log in over TCP as the platform's user, as the services do; the server's version."""
        from hyperscale.clients.mysql import server_version

        cfg = env.mysql
        try:
            password = resolve_secret(app, cfg.password, env.aws)
            version = server_version(endpoint, cfg.user, password, cfg.database)
        except ExternalSystemError as exc:
            raise ProbeError(exc.message) from None
        except Exception as exc:  # noqa: BLE001 - a missing secret means the platform cannot log in
            raise ProbeError(str(exc)) from None
        return f"mariadb {version}"

    def data_paths(self) -> dict[str, str]:
        return {**super().data_paths(), "socket": self.socket_path}
