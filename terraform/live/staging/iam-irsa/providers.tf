# Rendered from templates/terraform/providers.tf.j2 for staging; do not edit by hand.
terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.95"
    }
  }
}

provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = ["345678901234"]

  default_tags {
    tags = {
      project     = "hyperscale"
      environment = "staging"
      component   = "iam-irsa"
      managed-by  = "terraform"
    }
  }
}
