"""moto in server mode: the AWS endpoint of the local environment."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from hyperscale.config.models import Endpoint
from hyperscale.local.services.base import BackingService, ProbeError

#: moto accepts any credentials; these keep boto3 from looking for real ones.
LOCAL_AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


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
        return {**LOCAL_AWS_CREDENTIALS, "MOTO_ACCOUNT_ID": self.env.aws.account_id}

    def probe(self) -> str:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client(
            "sts",
            region_name=self.env.aws.region,
            endpoint_url=str(self.env.aws.endpoint_url),
            aws_access_key_id=LOCAL_AWS_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_AWS_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1}),
        )
        try:
            account = client.get_caller_identity()["Account"]
        except (BotoCoreError, ClientError) as exc:
            raise ProbeError(str(exc)) from None
        return f"moto, account {account}"
