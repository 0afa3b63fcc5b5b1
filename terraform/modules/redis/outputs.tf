output "primary_endpoint_address" {
  description = "The primary's host name (writes); TLS on port 6379."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "reader_endpoint_address" {
  description = "The replicas' host name (reads spread over them)."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "port" {
  description = "The port clients connect to."
  value       = aws_elasticache_replication_group.this.port
}

output "security_group_id" {
  description = "The cache's security group."
  value       = aws_security_group.this.id
}

output "auth_token_secret_name" {
  description = "The Secrets Manager secret holding the AUTH token (the name, never the value)."
  value       = var.auth_token_secret_name
}
