# Rendered from templates/terraform/components/iam-irsa.tf.j2 for prod; do not edit by hand.
variable "cluster_name" {
  description = "From eks.cluster_name (passed by hyperscale infra)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "From eks.oidc_provider_arn (passed by hyperscale infra)."
  type        = string
}

variable "oidc_issuer_url" {
  description = "From eks.oidc_issuer_url (passed by hyperscale infra)."
  type        = string
}

variable "msk_cluster_arn" {
  description = "From msk.cluster_arn (passed by hyperscale infra)."
  type        = string
}

module "iam_irsa" {
  source = "../../../modules/iam-irsa"

  name_prefix       = "hyperscale-prod"
  cluster_name      = var.cluster_name
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer_url   = var.oidc_issuer_url
  namespace         = "hyperscale"
  msk_cluster_arn   = var.msk_cluster_arn
  kafka_topics      = ["orders", "marketing-events"]
  consumer_group    = "platform-consumer"
  secrets_prefix    = "hyperscale/prod/"
  # The MSK SCRAM users' secrets (AmazonMSK_...), which the operator copies for the tools.
  msk_scram_secret_prefix = "AmazonMSK_hyperscale-prod-"
}

output "api_role_arn" {
  description = "IRSA role of the API's service account."
  value       = module.iam_irsa.api_role_arn
}

output "consumer_role_arn" {
  description = "IRSA role of the consumer's service account."
  value       = module.iam_irsa.consumer_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of cluster-autoscaler."
  value       = module.iam_irsa.cluster_autoscaler_role_arn
}

output "alb_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller."
  value       = module.iam_irsa.alb_controller_role_arn
}

output "secrets_operator_role_arn" {
  description = "IRSA role of the External Secrets operator."
  value       = module.iam_irsa.secrets_operator_role_arn
}
