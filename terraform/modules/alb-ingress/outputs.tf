output "release_name" {
  description = "The Helm release's name."
  value       = helm_release.controller.name
}

output "chart_version" {
  description = "The chart version installed."
  value       = helm_release.controller.version
}

output "ingress_class" {
  description = "The IngressClass the platform's Ingress names."
  value       = var.ingress_class
}

output "frontend_security_group_id" {
  description = "The ALB's frontend security group: HTTPS from CloudFront's origin-facing addresses only."
  value       = aws_security_group.frontend.id
}
