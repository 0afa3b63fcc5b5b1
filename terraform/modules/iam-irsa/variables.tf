variable "name_prefix" {
  description = "Prefix of every role name (roles are <prefix>-platform-api, <prefix>-cluster-autoscaler...)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,30}$", var.name_prefix))
    error_message = "name_prefix must start with a letter and hold letters, digits and dashes (at most 31)."
  }
}

variable "cluster_name" {
  description = "The EKS cluster: cluster-autoscaler and the ALB controller may only touch resources tagged for it."
  type        = string
}

variable "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider (eks module output)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "oidc_issuer_url" {
  description = "The cluster's OIDC issuer URL (https://oidc.eks...)."
  type        = string

  validation {
    condition     = startswith(var.oidc_issuer_url, "https://")
    error_message = "oidc_issuer_url must start with https://."
  }
}

variable "namespace" {
  description = "The platform's namespace (the API's, the consumer's and the cronjobs' service accounts)."
  type        = string
  default     = "hyperscale"
}

variable "msk_cluster_arn" {
  description = "The MSK cluster the API produces to and the consumer reads from (IAM authentication)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kafka:[a-z0-9-]+:[0-9]{12}:cluster/", var.msk_cluster_arn))
    error_message = "msk_cluster_arn must be an MSK cluster ARN."
  }
}

variable "kafka_topics" {
  description = "Topics the API writes and the consumer reads; each one's dead-letter topic is <topic><dead_letter_suffix>."
  type        = list(string)

  validation {
    condition     = length(var.kafka_topics) > 0
    error_message = "kafka_topics must name at least one topic."
  }
}

variable "dead_letter_suffix" {
  description = "Suffix of the dead-letter topics the consumer writes."
  type        = string
  default     = ".dlq"
}

variable "consumer_group" {
  description = "The consumer's group id."
  type        = string
}

variable "secrets_prefix" {
  description = "Secrets Manager name prefix the secrets operator may read (for example hyperscale/prod/)."
  type        = string

  validation {
    condition     = endswith(var.secrets_prefix, "/") && length(var.secrets_prefix) > 1
    error_message = "secrets_prefix must end with / so it cannot match other environments' secrets."
  }
}

variable "msk_scram_secret_prefix" {
  description = "Name prefix of the MSK SCRAM secrets the operator may also read (they must start with AmazonMSK_)."
  type        = string
  default     = ""
}

variable "ecr_repository_prefix" {
  description = "ECR repositories the image-cleanup job may prune (name prefix)."
  type        = string
  default     = "hyperscale/"
}

variable "tags" {
  description = "Tags added to every role."
  type        = map(string)
  default     = {}
}
