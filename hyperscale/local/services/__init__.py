"""The backing services `hyperscale local` manages, in start order (a service comes after
those it requires; `local down` stops them in the reverse order)."""

from __future__ import annotations

from hyperscale.local.services.base import BackingService, ProbeError
from hyperscale.local.services.kafka import KafkaNode2Service, KafkaNode3Service, KafkaService
from hyperscale.local.services.mariadb import MariaDBService
from hyperscale.local.services.mariadb_replica import MariaDBReplicaService
from hyperscale.local.services.moto import MotoService
from hyperscale.local.services.redis import RedisService
from hyperscale.local.services.registry import RegistryService
from hyperscale.local.services.smtp import SmtpSinkService

SERVICE_TYPES: dict[str, type[BackingService]] = {
    cls.name: cls
    for cls in (
        KafkaService,
        KafkaNode2Service,
        KafkaNode3Service,
        MariaDBService,
        MariaDBReplicaService,
        RedisService,
        MotoService,
        SmtpSinkService,
        RegistryService,
    )
}

__all__ = ["SERVICE_TYPES", "BackingService", "ProbeError"]
