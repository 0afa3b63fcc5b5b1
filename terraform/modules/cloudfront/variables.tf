variable "name" {
  description = "Name prefix of the distribution's policies and web ACL."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,40}$", var.name))
    error_message = "name must start with a letter and hold letters, digits and dashes (at most 41)."
  }
}

variable "origin_domain_name" {
  description = "The origin's host name: the API's DNS name, which points at the ALB the controller made; reached over HTTPS only."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", var.origin_domain_name)) && !startswith(var.origin_domain_name, "http")
    error_message = "origin_domain_name must be a bare host name (no scheme, no path)."
  }
}

variable "aliases" {
  description = "Host names the distribution serves besides *.cloudfront.net (need acm_certificate_arn)."
  type        = list(string)
  default     = []
}

variable "acm_certificate_arn" {
  description = "ACM certificate in us-east-1 covering the aliases; null serves only the *.cloudfront.net name."
  type        = string
  default     = null

  validation {
    condition     = var.acm_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be an ACM certificate in us-east-1 (CloudFront requires that region)."
  }
}

variable "static_path_patterns" {
  description = "Paths served from the cache for a long time (fingerprinted static assets)."
  type        = list(string)
  default     = ["/static/*", "/assets/*", "*.js", "*.css", "*.woff2", "*.png", "*.svg", "*.ico"]

  validation {
    condition     = length(var.static_path_patterns) > 0 && length(var.static_path_patterns) <= 20
    error_message = "static_path_patterns must hold between 1 and 20 patterns."
  }
}

variable "static_max_ttl_seconds" {
  description = "Longest time a static asset stays cached (assets are fingerprinted, so a year is safe)."
  type        = number
  default     = 31536000

  validation {
    condition     = var.static_max_ttl_seconds >= 3600
    error_message = "static_max_ttl_seconds must be at least an hour."
  }
}

variable "price_class" {
  description = "CloudFront price class (which edge locations serve)."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "log_bucket" {
  description = "Existing S3 bucket (ACLs enabled) for the access logs."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.log_bucket))
    error_message = "log_bucket must be an S3 bucket name."
  }
}

variable "rate_limit_per_5_minutes" {
  description = "Requests one IP may make in five minutes before the web ACL blocks it."
  type        = number
  default     = 2000

  validation {
    condition     = var.rate_limit_per_5_minutes >= 100
    error_message = "rate_limit_per_5_minutes must be at least 100 (the WAF minimum)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
