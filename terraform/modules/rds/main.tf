data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  major_version = join(".", slice(split(".", var.engine_version), 0, 2))
  log_exports   = ["error", "slowquery", "audit"]
  instances     = concat([var.identifier], [for i in range(var.read_replica_count) : "${var.identifier}-replica-${i + 1}"])
  # RDS creates /aws/rds/instance/<id>/<log> on first export, unencrypted and kept forever;
  # creating them first sets the key and the retention.
  log_groups = { for pair in setproduct(local.instances, local.log_exports) : "${pair[0]}/${pair[1]}" => pair }
}

module "key" {
  source             = "../kms-key"
  description        = "${var.identifier} RDS storage, backups, Performance Insights and master secret"
  service_principals = ["logs.${data.aws_region.current.name}.amazonaws.com"]
  tags               = var.tags
}

# The key was a resource of this module before: this keeps it. Without it Terraform would
# destroy that key and replace what it encrypts.
moved {
  from = aws_kms_key.this
  to   = module.key.aws_kms_key.this
}

resource "aws_cloudwatch_log_group" "exports" {
  for_each          = local.log_groups
  name              = "/aws/rds/instance/${each.value[0]}/${each.value[1]}"
  retention_in_days = 365
  kms_key_id        = module.key.arn
  tags              = var.tags
}

# The audit log export needs the audit plugin: connections and DDL/DCL statements.
resource "aws_db_option_group" "this" {
  name_prefix              = "${var.identifier}-mysql${replace(local.major_version, ".", "")}-"
  option_group_description = "MySQL ${local.major_version} audit plugin for ${var.identifier}"
  engine_name              = "mysql"
  major_engine_version     = local.major_version
  tags                     = var.tags

  option {
    option_name = "MARIADB_AUDIT_PLUGIN"

    option_settings {
      name  = "SERVER_AUDIT_EVENTS"
      value = "CONNECT,QUERY_DDL,QUERY_DCL"
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_subnet_group" "this" {
  name       = var.identifier
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.identifier}-mysql"
  description = "MySQL ${var.identifier}: only from the allowed security groups"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.identifier}-mysql" })
}

resource "aws_vpc_security_group_ingress_rule" "mysql" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "MySQL from ${each.value}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.identifier}-mysql${replace(local.major_version, ".", "")}-"
  family      = "mysql${local.major_version}"
  description = "MySQL ${local.major_version} settings for ${var.identifier}"
  tags        = var.tags

  # TLS only: the platform connects with tls: true.
  parameter {
    name  = "require_secure_transport"
    value = "1"
  }

  # Row-based binlog: what replicas and change-data-capture need.
  parameter {
    name  = "binlog_format"
    value = "ROW"
  }

  parameter {
    name  = "character_set_server"
    value = "utf8mb4"
  }

  parameter {
    name  = "collation_server"
    value = "utf8mb4_0900_ai_ci"
  }

  parameter {
    name  = "slow_query_log"
    value = "1"
  }

  parameter {
    name  = "long_query_time"
    value = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.identifier}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "primary" {
  identifier     = var.identifier
  engine         = "mysql"
  engine_version = var.engine_version
  instance_class = var.instance_class
  db_name        = var.database_name
  username       = var.master_username
  # RDS generates the password, stores it in Secrets Manager (encrypted with our key) and
  # rotates it: no password in this code, in state or on a command line.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = module.key.arn

  multi_az               = true
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name
  option_group_name      = aws_db_option_group.this.name

  storage_type          = "gp3"
  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.allocated_storage_gb * 4
  storage_encrypted     = true
  kms_key_id            = module.key.arn

  backup_retention_period   = var.backup_retention_days
  backup_window             = "02:00-03:00"
  maintenance_window        = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.identifier}-final"

  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = local.log_exports
  monitoring_interval                 = 30
  monitoring_role_arn                 = aws_iam_role.monitoring.arn
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = module.key.arn

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.exports]
}

resource "aws_db_instance" "replica" {
  count               = var.read_replica_count
  identifier          = "${var.identifier}-replica-${count.index + 1}"
  replicate_source_db = aws_db_instance.primary.identifier
  instance_class      = var.instance_class
  # Replicas take the primary's engine, storage encryption and credentials.
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name
  option_group_name      = aws_db_option_group.this.name
  storage_encrypted      = true
  kms_key_id             = module.key.arn
  # A replica can be promoted; give it its own standby so it is production-grade then.
  multi_az = true

  backup_retention_period = 7
  copy_tags_to_snapshot   = true
  deletion_protection     = var.deletion_protection
  skip_final_snapshot     = true

  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = local.log_exports
  monitoring_interval                 = 30
  monitoring_role_arn                 = aws_iam_role.monitoring.arn
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = module.key.arn

  tags = var.tags
}
