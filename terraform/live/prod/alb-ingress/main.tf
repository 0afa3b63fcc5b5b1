# Rendered from templates/terraform/components/alb-ingress.tf.j2 for prod; do not edit by hand.
variable "vpc_id" {
  description = "From vpc.vpc_id (passed by hyperscale infra)."
  type        = string
}

variable "vpc_cidr" {
  description = "From vpc.vpc_cidr_block (passed by hyperscale infra)."
  type        = string
}

variable "cluster_name" {
  description = "From eks.cluster_name (passed by hyperscale infra)."
  type        = string
}

variable "cluster_endpoint" {
  description = "From eks.cluster_endpoint (passed by hyperscale infra)."
  type        = string
}

variable "cluster_certificate_authority_data" {
  description = "From eks.cluster_certificate_authority_data (passed by hyperscale infra)."
  type        = string
}

variable "controller_role_arn" {
  description = "From iam-irsa.alb_controller_role_arn (passed by hyperscale infra)."
  type        = string
}

module "alb_ingress" {
  source = "../../../modules/alb-ingress"

  cluster_name        = var.cluster_name
  vpc_id              = var.vpc_id
  vpc_cidr            = var.vpc_cidr
  region              = "eu-west-1"
  controller_role_arn = var.controller_role_arn
  # The platform Ingress names this group (alb.ingress.kubernetes.io/security-groups).
  frontend_security_group_name = "hyperscale-prod-alb-cloudfront"
}

output "ingress_class" {
  description = "The IngressClass the platform's Ingress names."
  value       = module.alb_ingress.ingress_class
}

output "frontend_security_group_id" {
  description = "The ALB's frontend security group: HTTPS from CloudFront only."
  value       = module.alb_ingress.frontend_security_group_id
}
