data "aws_region" "current" {}

data "aws_secretsmanager_secret" "scram" {
  for_each = toset(var.scram_secret_names)
  name     = each.value
}

module "key" {
  source             = "../kms-key"
  description        = "${var.cluster_name} MSK storage and logs"
  service_principals = ["logs.${data.aws_region.current.name}.amazonaws.com"]
  tags               = var.tags
}

# The key was a resource of this module before: this keeps it. Without it Terraform would
# destroy that key and replace what it encrypts.
moved {
  from = aws_kms_key.this
  to   = module.key.aws_kms_key.this
}

resource "aws_cloudwatch_log_group" "brokers" {
  name              = "/aws/msk/${var.cluster_name}/brokers"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.key.arn
  tags              = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.cluster_name}-msk"
  description = "MSK ${var.cluster_name}: TLS clients (SCRAM, IAM) from the allowed security groups"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.cluster_name}-msk" })
}

locals {
  # 9096: SASL/SCRAM over TLS (operators, hyperscale); 9098: IAM over TLS (IRSA workloads).
  client_ports = { scram = 9096, iam = 9098 }
  client_rules = {
    for pair in setproduct(var.allowed_security_group_ids, keys(local.client_ports)) :
    "${pair[0]}-${pair[1]}" => { group = pair[0], port = local.client_ports[pair[1]], kind = pair[1] }
  }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each                     = local.client_rules
  security_group_id            = aws_security_group.this.id
  description                  = "Kafka ${each.value.kind} over TLS from ${each.value.group}"
  referenced_security_group_id = each.value.group
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_msk_configuration" "this" {
  name           = "${var.cluster_name}-config"
  kafka_versions = [var.kafka_version]
  description    = "Broker settings for ${var.cluster_name}: three replicas, two in sync"
  # Topics are created by hyperscale (templates/kafka), never by a client by accident.
  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=3
    min.insync.replicas=2
    num.partitions=6
    unclean.leader.election.enable=false
    log.retention.hours=168
    allow.everyone.if.no.acl.found=${!var.deny_without_acl}
  PROPERTIES
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.cluster_name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = 3
  enhanced_monitoring    = "PER_TOPIC_PER_PARTITION"

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.this.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.broker_volume_gb
      }
    }

    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  client_authentication {
    unauthenticated = false
    sasl {
      scram = true
      iam   = true
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = module.key.arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  # Prometheus exporters on the brokers: the platform's lag and broker dashboards scrape them.
  open_monitoring {
    prometheus {
      jmx_exporter {
        enabled_in_broker = true
      }
      node_exporter {
        enabled_in_broker = true
      }
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.brokers.name
      }
    }
  }

  tags = var.tags
}

resource "aws_msk_scram_secret_association" "this" {
  count           = length(var.scram_secret_names) > 0 ? 1 : 0
  cluster_arn     = aws_msk_cluster.this.arn
  secret_arn_list = [for secret in data.aws_secretsmanager_secret.scram : secret.arn]
}
