"""moto in server mode: the AWS endpoint of the local environment."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from hyperscale.clients.aws import LOCAL_AWS_CREDENTIALS
from hyperscale.config.models import Endpoint
from hyperscale.errors import ExternalSystemError
from hyperscale.local.services.base import BackingService, ProbeError

__all__ = ["LOCAL_AWS_CREDENTIALS", "MotoService"]


class MotoService(BackingService):
    name = "aws"
    description = "AWS endpoint (moto server)"
    startup_timeout = 30.0

    @property
    def endpoint(self) -> Endpoint:
        url = urlsplit(str(self.env.aws.endpoint_url))
        return Endpoint(host=url.hostname or "127.0.0.1", port=url.port or 80)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "moto.server",
            "-H",
            self.endpoint.host,
            "-p",
            str(self.endpoint.port),
        ]

    def process_env(self) -> dict[str, str]:
        return {
            **LOCAL_AWS_CREDENTIALS,
            "MOTO_ACCOUNT_ID": self.env.aws.account_id,
            # AWS's managed policies (AmazonEKSWorkerNodePolicy...): the Terraform modules
            # attach them, and moto knows them only when asked to load them.
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        }

    def probe(self) -> str:
        from hyperscale.clients.aws import caller_account

        try:
            account = caller_account(self.env.aws, LOCAL_AWS_CREDENTIALS)
        except ExternalSystemError as exc:
            raise ProbeError(exc.message) from None
        return f"moto, account {account}"
