output "api_role_arn" {
  description = "Role of hyperscale/platform-api: produce to the platform's topics."
  value       = aws_iam_role.this["api"].arn
}

output "consumer_role_arn" {
  description = "Role of hyperscale/platform-consumer: read the topics, write dead letters, commit offsets."
  value       = aws_iam_role.this["consumer"].arn
}

output "reports_role_arn" {
  description = "Role of the report cronjob: read Cost Explorer."
  value       = aws_iam_role.this["reports"].arn
}

output "image_cleanup_role_arn" {
  description = "Role of the image-cleanup cronjob: prune the platform's ECR repositories."
  value       = aws_iam_role.this["image_cleanup"].arn
}

output "cluster_autoscaler_role_arn" {
  description = "Role of kube-system/cluster-autoscaler: scale node groups tagged for this cluster."
  value       = aws_iam_role.this["cluster_autoscaler"].arn
}

output "alb_controller_role_arn" {
  description = "Role of kube-system/aws-load-balancer-controller."
  value       = aws_iam_role.this["alb_controller"].arn
}

output "secrets_operator_role_arn" {
  description = "Role of external-secrets/external-secrets: read this environment's secrets."
  value       = aws_iam_role.this["secrets_operator"].arn
}
