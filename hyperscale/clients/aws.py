"""The adapter to AWS (boto3): one factory for every service client, honouring the
environment's endpoint (moto on the local target), so CloudWatch, Cost Explorer, ECR, SES and
Secrets Manager calls all reach the same place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperscale.config.models import Aws
from hyperscale.errors import ExternalSystemError


def aws_client(
    aws: Aws,
    service: str,
    *,
    credentials: Mapping[str, str] | None = None,
    timeout: float | None = None,
    attempts: int | None = None,
) -> Any:
    """A boto3 client for ``service`` in the environment's region and endpoint.

    ``credentials`` (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) are for the local
    endpoint only; otherwise boto3's own chain (IRSA, profiles, instance roles) applies.
    ``timeout`` bounds connect and read; ``attempts`` caps retries (a probe wants one).
    """
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {}
    if timeout is not None:
        options.update(connect_timeout=timeout, read_timeout=timeout)
    if attempts is not None:
        options["retries"] = {"max_attempts": attempts}
    session = boto3.session.Session(
        region_name=aws.region,
        aws_access_key_id=credentials.get("AWS_ACCESS_KEY_ID") if credentials else None,
        aws_secret_access_key=credentials.get("AWS_SECRET_ACCESS_KEY") if credentials else None,
    )
    make: Any = session.client  # typed per literal service name; ours is a parameter
    return make(
        service,
        endpoint_url=str(aws.endpoint_url) if aws.endpoint_url else None,
        config=Config(**options) if options else None,
    )


def caller_account(aws: Aws, credentials: Mapping[str, str] | None = None) -> str:
    """The account the credentials act as (STS GetCallerIdentity): one quick request."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = aws_client(aws, "sts", credentials=credentials, timeout=3, attempts=1)
    try:
        return str(client.get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise ExternalSystemError(str(exc)) from None


def secret_string(aws: Aws, secret_id: str) -> str:
    """A Secrets Manager secret's string value."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = aws_client(aws, "secretsmanager")
    try:
        return str(client.get_secret_value(SecretId=secret_id)["SecretString"])
    except (BotoCoreError, ClientError) as exc:
        raise ExternalSystemError(f"cannot read AWS secret {secret_id}: {exc}") from None
