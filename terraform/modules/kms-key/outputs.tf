output "arn" {
  description = "The key's ARN (for kms_key_id, key_arn and similar arguments)."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "The key's id (for an aws_kms_alias target_key_id)."
  value       = aws_kms_key.this.key_id
}
