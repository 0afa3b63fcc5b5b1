# Rendered from templates/terraform/components/eks.tf.j2 for staging; do not edit by hand.
variable "vpc_id" {
  description = "From vpc.vpc_id (passed by hyperscale infra)."
  type        = string
}

variable "private_subnet_ids" {
  description = "From vpc.private_subnet_ids (passed by hyperscale infra)."
  type        = list(string)
}

module "eks" {
  source = "../../../modules/eks"

  cluster_name        = "hyperscale-staging"
  kubernetes_version  = "1.34"
  vpc_id              = var.vpc_id
  subnet_ids          = var.private_subnet_ids
  node_instance_types = ["m6i.large"]
  node_min_size       = 3
  node_desired_size   = 3
  node_max_size       = 6
  node_disk_size_gb   = 50
}

output "cluster_name" {
  description = "The EKS cluster's name."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "The Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "The cluster CA, base64-encoded PEM."
  value       = module.eks.cluster_certificate_authority_data
}

output "oidc_provider_arn" {
  description = "The IAM OIDC provider that IRSA roles trust."
  value       = module.eks.oidc_provider_arn
}

output "oidc_issuer_url" {
  description = "The cluster's OIDC issuer URL."
  value       = module.eks.oidc_issuer_url
}

output "node_security_group_id" {
  description = "The nodes' security group: the data stores admit it."
  value       = module.eks.node_security_group_id
}
