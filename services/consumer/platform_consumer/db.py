"""The MySQL connection: connect, classify errors, reconnect after a loss."""

from __future__ import annotations

import contextlib
import logging
import ssl
from typing import TYPE_CHECKING

from platform_consumer.settings import ConsumerSettings

if TYPE_CHECKING:
    from pymysql.connections import Connection
    from pymysql.cursors import Cursor

log = logging.getLogger(__name__)

# Errors a retry can outlive: the server went away or is failing over, or the transaction lost
# a lock race. Everything in here rolls the transaction back, so the batch is applied again.
CONNECTION_LOST = frozenset(
    {
        1040,  # too many connections
        1053,  # server shutdown in progress
        1927,  # connection was killed
        2002,  # can't connect through socket
        2003,  # can't connect to server
        2005,  # unknown host (DNS during a failover)
        2006,  # server has gone away
        2013,  # lost connection during query
        2014,  # commands out of sync (a half-read result after an interrupted call)
        2055,  # lost connection at a system error
        4031,  # disconnected by the server (idle timeout)
    }
)
LOCK_CONFLICT = frozenset({1205, 1213})  # lock wait timeout, deadlock
READ_ONLY = frozenset({1290, 1836})  # a replica promoted during a failover is still read-only

# Errors one record's data causes; the batch is split to find and dead-letter that record.
RECORD_ERROR_CODES = frozenset(
    {
        1062,  # duplicate key (an order id already taken by another event)
        1264,  # out of range
        1265,  # data truncated
        1292,  # incorrect value
        1366,  # incorrect string value
        1406,  # data too long
        1452,  # foreign key
        4025,  # check constraint
    }
)


def error_code(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_record_error(exc: BaseException) -> bool:
    """A permanent failure of this record's data, not of the database.

    Besides the database's refusals, any error that is not the database's or the network's: the
    code that applies a record raised it for that record's values (an arithmetic or conversion
    error), and a retry would raise it again. Classified so, the record is dead-lettered instead
    of the consumer exiting before its commit and crashing on the same record after a restart.
    """
    import pymysql

    if not isinstance(exc, pymysql.err.MySQLError | OSError | TimeoutError):
        return True
    if isinstance(exc, pymysql.err.IntegrityError | pymysql.err.DataError):
        return True
    return isinstance(exc, pymysql.err.MySQLError) and error_code(exc) in RECORD_ERROR_CODES


def is_retryable(exc: BaseException) -> bool:
    """Any database failure that is not the record's fault: wait, reconnect, try again.

    Besides lost connections this covers errors an operator fixes (access denied, a missing
    table): the consumer waits and logs instead of dead-lettering every record it reads.
    """
    import pymysql

    if is_record_error(exc):
        return False
    return isinstance(exc, pymysql.err.MySQLError | OSError | TimeoutError)


def is_connection_loss(exc: BaseException) -> bool:
    import pymysql

    code = error_code(exc)
    return (
        isinstance(exc, pymysql.err.InterfaceError | OSError)
        or code in CONNECTION_LOST
        or code in READ_ONLY
    )


class Database:
    """One writer connection, opened on first use and replaced after any failure."""

    def __init__(self, settings: ConsumerSettings) -> None:
        self._settings = settings
        self._connection: Connection[Cursor] | None = None

    def connection(self) -> Connection[Cursor]:
        if self._connection is None or not self._connection.open:
            self._connection = self._connect()
        return self._connection

    def _connect(self) -> Connection[Cursor]:
        import pymysql

        s = self._settings
        # TLS is verified (chain and host name) against the system trust store: the image adds
        # the RDS CA bundle there. PyMySQL given only ``ssl=True``-like dicts would not verify.
        tls = ssl.create_default_context() if s.mysql_tls else None
        connection = pymysql.connect(
            host=s.mysql_endpoint.host,
            port=s.mysql_endpoint.port,
            user=s.mysql_user,
            password=s.mysql_password().get_secret_value(),
            database=s.mysql_database,
            charset="utf8mb4",
            autocommit=False,
            connect_timeout=5,
            read_timeout=30,
            write_timeout=30,
            ssl=tls,
        )
        with connection.cursor() as cursor:
            # UTC for the server-side defaults (applied_at, processed_at); row locks only, no
            # gap locks, so concurrent consumers do not deadlock on the counters; a lock wait
            # shorter than read_timeout so it surfaces as a retryable error, not a lost socket.
            cursor.execute("SET time_zone = '+00:00'")
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cursor.execute("SET SESSION innodb_lock_wait_timeout = 15")
        connection.commit()
        log.info("connected to MySQL", extra={"mysql": s.mysql_writer, "tls": s.mysql_tls})
        return connection

    def rollback_quietly(self) -> None:
        """After a failure: roll back what is left, or drop a connection that is gone."""
        if self._connection is None:
            return
        import pymysql

        try:
            self._connection.rollback()
        except (pymysql.err.MySQLError, OSError):
            self.discard()

    def discard(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def close(self) -> None:
        self.discard()
