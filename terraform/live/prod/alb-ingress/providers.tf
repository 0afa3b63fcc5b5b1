# Rendered from templates/terraform/providers.tf.j2 for prod; do not edit by hand.
terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.95"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
  }
}

provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = ["210987654321"]

  default_tags {
    tags = {
      project     = "hyperscale"
      environment = "prod"
      component   = "alb-ingress"
      managed-by  = "terraform"
    }
  }
}

# The cluster's credentials come from `aws eks get-token` at run time: no token in state.
provider "helm" {
  kubernetes {
    host                   = var.cluster_endpoint
    cluster_ca_certificate = base64decode(var.cluster_certificate_authority_data)

    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", var.cluster_name, "--region", "eu-west-1"]
    }
  }
}
