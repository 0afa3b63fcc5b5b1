variable "cluster_name" {
  description = "The MSK cluster's name."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,63}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and hold letters, digits and dashes (at most 64)."
  }
}

variable "vpc_id" {
  description = "The VPC the brokers run in."
  type        = string
}

variable "subnet_ids" {
  description = "Exactly three private subnets in three zones: one broker in each."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) == 3
    error_message = "subnet_ids must name three subnets, one per zone (three brokers)."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups (the EKS nodes') allowed to reach the brokers' SASL/SCRAM TLS port."
  type        = list(string)

  validation {
    condition     = length(var.allowed_security_group_ids) > 0
    error_message = "allowed_security_group_ids must name at least one security group."
  }
}

variable "kafka_version" {
  description = "Apache Kafka version MSK runs, for example 3.9.x."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.([0-9]+|x)(\\.kraft)?$", var.kafka_version))
    error_message = "kafka_version must look like 3.9.x or 3.6.0."
  }
}

variable "broker_instance_type" {
  description = "Broker instance type."
  type        = string

  validation {
    condition     = can(regex("^kafka\\.[a-z0-9]+\\.[a-z0-9]+$", var.broker_instance_type))
    error_message = "broker_instance_type must look like kafka.m7g.large."
  }
}

variable "broker_volume_gb" {
  description = "EBS storage per broker, GiB (encrypted with the module's key)."
  type        = number

  validation {
    condition     = var.broker_volume_gb >= 1 && var.broker_volume_gb <= 16384
    error_message = "broker_volume_gb must be between 1 and 16384."
  }
}

variable "scram_secret_names" {
  description = "Secrets Manager secrets (names starting AmazonMSK_, encrypted with a customer key) holding SASL/SCRAM users."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.scram_secret_names : startswith(name, "AmazonMSK_")])
    error_message = "MSK only accepts SCRAM secrets whose names start with AmazonMSK_."
  }
}

variable "deny_without_acl" {
  description = "Refuse every client a resource that has no ACL (allow.everyone.if.no.acl.found=false); set once the clients' ACLs exist."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "How long broker logs are kept in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 365
    error_message = "log_retention_days must be at least 365."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
