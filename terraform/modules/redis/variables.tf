variable "replication_group_id" {
  description = "The replication group's id (also the name of its supporting resources)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.replication_group_id))
    error_message = "replication_group_id must start with a letter and hold lower-case letters, digits and dashes (at most 40)."
  }
}

variable "vpc_id" {
  description = "The VPC the cache runs in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two zones, for Multi-AZ placement."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two subnets in different zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups (the EKS nodes') allowed to connect on the Redis port."
  type        = list(string)

  validation {
    condition     = length(var.allowed_security_group_ids) > 0
    error_message = "allowed_security_group_ids must name at least one security group."
  }
}

variable "node_type" {
  description = "Cache node type of every node."
  type        = string

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must look like cache.r6g.large."
  }
}

variable "engine_version" {
  description = "Redis OSS engine version."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^7\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be Redis 7 (7.0, 7.1): AUTH with TLS and ACLs need it."
  }
}

variable "replicas_per_node_group" {
  description = "Replicas besides the primary; at least one, in another zone, for automatic failover."
  type        = number

  validation {
    condition     = var.replicas_per_node_group >= 1 && var.replicas_per_node_group <= 5
    error_message = "replicas_per_node_group must be between 1 and 5 (Multi-AZ failover needs a replica)."
  }
}

variable "auth_token_secret_name" {
  description = "Name of the Secrets Manager secret holding the AUTH token (a JSON object), created outside Terraform."
  type        = string

  validation {
    condition     = length(var.auth_token_secret_name) > 0
    error_message = "auth_token_secret_name must name a Secrets Manager secret."
  }
}

variable "auth_token_secret_json_key" {
  description = "The key of the token inside the secret's JSON."
  type        = string
  default     = "auth_token"
}

variable "snapshot_retention_days" {
  description = "Days of automatic snapshots."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be between 1 and 35."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
