variable "identifier" {
  description = "The primary instance's identifier; replicas and supporting resources are named after it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,50}$", var.identifier))
    error_message = "identifier must start with a letter and hold lower-case letters, digits and dashes (at most 51)."
  }
}

variable "vpc_id" {
  description = "The VPC the database runs in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two zones (Multi-AZ needs two; three is the platform's layout)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two subnets in different zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups (the EKS nodes') allowed to connect on the MySQL port."
  type        = list(string)

  validation {
    condition     = length(var.allowed_security_group_ids) > 0
    error_message = "allowed_security_group_ids must name at least one security group; nothing else can reach the database."
  }
}

variable "engine_version" {
  description = "MySQL engine version (8.0 or 8.4; a minor version pins it, a major one follows AWS's default minor)."
  type        = string
  default     = "8.0"

  validation {
    condition     = can(regex("^8\\.(0|4)(\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be MySQL 8: 8.0, 8.4 or a minor such as 8.0.39."
  }
}

variable "instance_class" {
  description = "Instance class of the primary and the replicas."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like db.r6g.large."
  }
}

variable "allocated_storage_gb" {
  description = "Initial storage, GiB (gp3, encrypted); storage autoscaling may grow it up to 4x."
  type        = number

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 16384
    error_message = "allocated_storage_gb must be between 20 and 16384."
  }
}

variable "read_replica_count" {
  description = "Read replicas of the primary, spread over the zones."
  type        = number
  default     = 1

  validation {
    condition     = var.read_replica_count >= 0 && var.read_replica_count <= 5
    error_message = "read_replica_count must be between 0 and 5."
  }
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 7 and 35."
  }
}

variable "database_name" {
  description = "The schema created on the primary."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", var.database_name))
    error_message = "database_name must be a MySQL identifier (letters, digits, underscores)."
  }
}

variable "master_username" {
  description = "The administrative user; its password is generated and kept by RDS in Secrets Manager."
  type        = string
  default     = "hyperscale_admin"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,31}$", var.master_username))
    error_message = "master_username must be a MySQL user name of at most 32 characters."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the database (on for protected environments)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
