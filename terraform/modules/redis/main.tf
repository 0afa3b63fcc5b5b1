# The token is read from Secrets Manager at apply time: it is never in this code or on a
# command line. Terraform keeps it in the (encrypted, access-controlled) state, as it does
# any attribute of the replication group.
data "aws_region" "current" {}

data "aws_secretsmanager_secret_version" "auth" {
  secret_id = var.auth_token_secret_name
}

locals {
  auth_token = jsondecode(data.aws_secretsmanager_secret_version.auth.secret_string)[var.auth_token_secret_json_key]
}

module "key" {
  source      = "../kms-key"
  description = "${var.replication_group_id} ElastiCache at-rest encryption and slow log"
  # CloudWatch Logs must be allowed to use the key, or the encrypted slow-log group is refused.
  service_principals = ["logs.${data.aws_region.current.name}.amazonaws.com"]
  tags               = var.tags
}

# The key was a resource of this module before: this keeps it. Without it Terraform would
# destroy that key and replace what it encrypts.
moved {
  from = aws_kms_key.this
  to   = module.key.aws_kms_key.this
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.replication_group_id
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.replication_group_id}-redis"
  description = "Redis ${var.replication_group_id}: only from the allowed security groups"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.replication_group_id}-redis" })
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Redis from ${each.value}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.replication_group_id}-redis7"
  family      = "redis7"
  description = "Redis 7 settings for ${var.replication_group_id}"
  tags        = var.tags

  # A cache: evict the least recently used keys that have a TTL rather than refuse writes.
  parameter {
    name  = "maxmemory-policy"
    value = "volatile-lru"
  }
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/aws/elasticache/${var.replication_group_id}/slow-log"
  retention_in_days = 365
  kms_key_id        = module.key.arn
  tags              = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.replication_group_id
  description          = "hyperscale cache (${var.replication_group_id})"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = [aws_security_group.this.id]

  num_node_groups            = 1
  replicas_per_node_group    = var.replicas_per_node_group
  automatic_failover_enabled = true
  multi_az_enabled           = true

  at_rest_encryption_enabled = true
  kms_key_id                 = module.key.arn
  transit_encryption_enabled = true
  auth_token                 = local.auth_token
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = "03:00-04:00"
  maintenance_window         = "sun:04:30-sun:05:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = var.tags
}
