output "writer_endpoint" {
  description = "The primary's address, host:port."
  value       = aws_db_instance.primary.endpoint
}

output "reader_endpoints" {
  description = "The read replicas' addresses, host:port."
  value       = aws_db_instance.replica[*].endpoint
}

output "master_user_secret_arn" {
  description = "The Secrets Manager secret RDS manages (and rotates) for the master user."
  value       = aws_db_instance.primary.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "The database's security group."
  value       = aws_security_group.this.id
}

output "kms_key_arn" {
  description = "The key encrypting storage, backups, Performance Insights and the master secret."
  value       = module.key.arn
}
