"""What a Terraform stack on the local AWS endpoint (moto) needs before its first init: the
state bucket, the lock table, the log bucket, and the Secrets Manager secrets the environment
references. A real account gets these once, outside the stack; moto starts empty every time.

Only ever called for an environment whose ``aws.endpoint_url`` is set (the local target).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from hyperscale.clients.aws import aws_client, aws_errors
from hyperscale.config.models import Aws


def ensure_bucket(aws: Aws, name: str) -> bool:
    """Create the S3 bucket unless it exists; True when it was created."""
    s3 = aws_client(aws, "s3")
    with aws_errors(aws, f"creating S3 bucket {name}"):
        if any(b["Name"] == name for b in s3.list_buckets().get("Buckets", [])):
            return False
        options: dict[str, Any] = {}
        if aws.region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
        s3.create_bucket(Bucket=name, **options)
    return True


def ensure_lock_table(aws: Aws, name: str) -> bool:
    """Create Terraform's DynamoDB lock table (hash key LockID) unless it exists."""
    dynamodb = aws_client(aws, "dynamodb")
    with aws_errors(aws, f"creating DynamoDB table {name}"):
        if name in dynamodb.list_tables().get("TableNames", []):
            return False
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return True


def ensure_generated_secret(aws: Aws, name: str, json_key: str | None) -> bool:
    """Create the secret with a random value (under ``json_key`` in a JSON object, when given)
    unless it exists. The value is made here and goes only to Secrets Manager."""
    client = aws_client(aws, "secretsmanager")
    with aws_errors(aws, f"creating secret {name}"):
        found = client.list_secrets(Filters=[{"Key": "name", "Values": [name]}])
        if any(s["Name"] == name for s in found.get("SecretList", [])):
            return False
        value = secrets.token_urlsafe(32)
        text = json.dumps({json_key: value}) if json_key else value
        client.create_secret(Name=name, SecretString=text)
    return True
