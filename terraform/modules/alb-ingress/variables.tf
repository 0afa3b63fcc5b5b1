variable "cluster_name" {
  description = "The EKS cluster the controller manages load balancers for."
  type        = string
}

variable "vpc_id" {
  description = "The cluster's VPC (given explicitly so the controller needs no instance metadata)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "region" {
  description = "The cluster's AWS region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region such as eu-west-1."
  }
}

variable "controller_role_arn" {
  description = "IRSA role of the controller's service account (iam-irsa output alb_controller_role_arn); it holds the controller's IAM policy."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.controller_role_arn))
    error_message = "controller_role_arn must be an IAM role ARN."
  }
}

variable "service_account_name" {
  description = "The controller's service account; the IRSA role trusts exactly kube-system/<this>."
  type        = string
  default     = "aws-load-balancer-controller"
}

variable "chart_version" {
  description = "Version of the eks/aws-load-balancer-controller Helm chart (pinned: upgrades are reviewed)."
  type        = string
  default     = "1.13.4"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.chart_version))
    error_message = "chart_version must be an exact version such as 1.13.4."
  }
}

variable "replicas" {
  description = "Controller replicas (two: one can be disrupted while the other serves webhooks)."
  type        = number
  default     = 2

  validation {
    condition     = var.replicas >= 2
    error_message = "replicas must be at least 2: the controller's webhooks gate every Service and Ingress."
  }
}

variable "ingress_class" {
  description = "The IngressClass the chart creates; the platform's Ingress names it."
  type        = string
  default     = "alb"
}

variable "vpc_cidr" {
  description = "The VPC's range: the frontend security group lets the ALB reach pods in it."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a CIDR block such as 10.40.0.0/16."
  }
}

variable "frontend_security_group_name" {
  description = "Name of the ALB's frontend security group (HTTPS from CloudFront's origin-facing addresses only); the platform Ingress refers to it by this name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,255}$", var.frontend_security_group_name))
    error_message = "frontend_security_group_name: letters, digits and dashes."
  }
}
