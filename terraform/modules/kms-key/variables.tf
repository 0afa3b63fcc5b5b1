variable "description" {
  description = "The key's description: what it encrypts (for example \"hyperscale-prod RDS storage, backups and logs\")."
  type        = string

  validation {
    condition     = length(trimspace(var.description)) > 0 && length(var.description) <= 8192
    error_message = "description must not be empty (and at most 8192 characters, the KMS limit)."
  }
}

variable "service_principals" {
  description = "AWS service principals that may encrypt and decrypt with the key, today CloudWatch Logs for an encrypted log group (logs.<region>.amazonaws.com). Empty: only the account's IAM principals may use it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.service_principals : can(regex("^[a-z0-9][a-z0-9.-]*\\.amazonaws\\.com(\\.cn)?$", p))])
    error_message = "service_principals must be service principal names such as logs.eu-west-1.amazonaws.com."
  }
}

variable "service_conditions" {
  description = "Conditions on the service principals' statement, for example ArnLike on kms:EncryptionContext:aws:logs:arn to let CloudWatch Logs use the key for one log group only."
  type = list(object({
    test     = string
    variable = string
    values   = list(string)
  }))
  default = []

  validation {
    condition     = alltrue([for c in var.service_conditions : length(c.values) > 0])
    error_message = "every entry of service_conditions needs at least one value."
  }

  validation {
    condition     = length(var.service_conditions) == 0 || length(var.service_principals) > 0
    error_message = "service_conditions apply to the service principals' statement: give service_principals too."
  }
}

variable "tags" {
  description = "Tags of the key."
  type        = map(string)
  default     = {}
}
