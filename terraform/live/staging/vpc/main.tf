# Rendered from templates/terraform/components/vpc.tf.j2 for staging; do not edit by hand.
module "vpc" {
  source = "../../../modules/vpc"

  name               = "hyperscale-staging"
  cidr_block         = "10.0.0.0/16"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  cluster_name       = "hyperscale-staging"
}

output "vpc_id" {
  description = "The VPC's id."
  value       = module.vpc.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets, one per zone: nodes, databases, caches and brokers."
  value       = module.vpc.private_subnet_ids
}

output "public_subnet_ids" {
  description = "Public subnets, one per zone: internet-facing load balancers and NAT."
  value       = module.vpc.public_subnet_ids
}

output "vpc_cidr_block" {
  description = "The VPC's address range: the ALB's security group admits health checks from it."
  value       = module.vpc.vpc_cidr_block
}
