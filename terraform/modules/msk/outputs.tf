output "cluster_arn" {
  description = "The MSK cluster's ARN (IAM policies name topics and groups under it)."
  value       = aws_msk_cluster.this.arn
}

output "bootstrap_brokers_sasl_scram" {
  description = "Bootstrap brokers for SASL/SCRAM over TLS, port 9096."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_scram
}

output "bootstrap_brokers_sasl_iam" {
  description = "Bootstrap brokers for IAM authentication over TLS, port 9098 (IRSA roles)."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_iam
}

output "security_group_id" {
  description = "The brokers' security group."
  value       = aws_security_group.this.id
}
