# Rendered from templates/terraform/components/rds.tf.j2 for staging; do not edit by hand.
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

module "rds" {
  source = "../../../modules/rds"

  identifier                 = "hyperscale-staging"
  vpc_id                     = var.vpc_id
  subnet_ids                 = var.private_subnet_ids
  allowed_security_group_ids = [var.node_security_group_id]
  instance_class             = "db.r6g.large"
  allocated_storage_gb       = 100
  read_replica_count         = 1
  backup_retention_days      = 14
  database_name              = "hyperscale"
  # On in every environment: deleting a database is a reviewed change that turns it off first.
  deletion_protection = true
}

output "writer_endpoint" {
  description = "The primary's address (host:port)."
  value       = module.rds.writer_endpoint
}

output "reader_endpoints" {
  description = "The read replicas' addresses (host:port)."
  value       = module.rds.reader_endpoints
}

output "master_user_secret_arn" {
  description = "The Secrets Manager secret RDS manages for the master user."
  value       = module.rds.master_user_secret_arn
}
