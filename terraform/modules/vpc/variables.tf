variable "name" {
  description = "Name prefix of every resource (for example hyperscale-prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be lower-case letters, digits and dashes, 2-41 characters."
  }
}

variable "cidr_block" {
  description = "The VPC's IPv4 range; /16 to /20, split into one public and one private subnet per zone."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 20
    error_message = "cidr_block must be an IPv4 network between /16 and /20, for example 10.0.0.0/16."
  }
}

variable "availability_zones" {
  description = "Exactly three availability zones of the region: one public and one private subnet, and one NAT gateway, in each."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 3 && length(distinct(var.availability_zones)) == 3
    error_message = "availability_zones must be three different zones."
  }
}

variable "cluster_name" {
  description = "The EKS cluster that uses the subnets: tagged so the load balancer controller finds them."
  type        = string
}

variable "flow_log_retention_days" {
  description = "How long VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch retention of at least one year (365, 400, 545, 731...)."
  }
}

variable "tags" {
  description = "Tags added to every resource (the provider's default_tags come on top)."
  type        = map(string)
  default     = {}
}
