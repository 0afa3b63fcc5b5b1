# Rendered from templates/terraform/components/redis.tf.j2 for staging; do not edit by hand.
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

module "redis" {
  source = "../../../modules/redis"

  replication_group_id       = "hyperscale-staging"
  vpc_id                     = var.vpc_id
  subnet_ids                 = var.private_subnet_ids
  allowed_security_group_ids = [var.node_security_group_id]
  node_type                  = "cache.r6g.large"
  replicas_per_node_group    = 1
  auth_token_secret_name     = "hyperscale/staging/redis"
  auth_token_secret_json_key = "auth_token"
}

output "primary_endpoint_address" {
  description = "The primary's host name."
  value       = module.redis.primary_endpoint_address
}

output "reader_endpoint_address" {
  description = "The replicas' host name."
  value       = module.redis.reader_endpoint_address
}
