# Rendered from templates/terraform/components/msk.tf.j2 for staging; do not edit by hand.
variable "vpc_id" {
  description = "From vpc.vpc_id (passed by hyperscale infra)."
  type        = string
}

variable "private_subnet_ids" {
  description = "From vpc.private_subnet_ids (passed by hyperscale infra)."
  type        = list(string)
}

variable "node_security_group_id" {
  description = "From eks.node_security_group_id (passed by hyperscale infra)."
  type        = string
}

module "msk" {
  source = "../../../modules/msk"

  cluster_name               = "hyperscale-staging"
  vpc_id                     = var.vpc_id
  subnet_ids                 = var.private_subnet_ids
  allowed_security_group_ids = [var.node_security_group_id]
  kafka_version              = "3.9.x"
  broker_instance_type       = "kafka.m7g.large"
  broker_volume_gb           = 200
  scram_secret_names         = ["AmazonMSK_hyperscale-staging-ops", "AmazonMSK_hyperscale-staging-api", "AmazonMSK_hyperscale-staging-consumer"]
  # The services have their own users and ACLs (`hyperscale kafka acls apply`): a resource
  # without an ACL is nobody's. Apply the ACLs before this setting reaches the brokers.
  deny_without_acl = true
}

output "cluster_arn" {
  description = "The MSK cluster's ARN."
  value       = module.msk.cluster_arn
}

output "bootstrap_brokers_sasl_scram" {
  description = "Bootstrap brokers for SASL/SCRAM over TLS (port 9096)."
  value       = module.msk.bootstrap_brokers_sasl_scram
}
