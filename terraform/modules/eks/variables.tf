variable "cluster_name" {
  description = "The EKS cluster's name."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and hold letters, digits and dashes (at most 100)."
  }
}

variable "kubernetes_version" {
  description = "The control plane's Kubernetes minor version, for example 1.34."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.34."
  }
}

variable "vpc_id" {
  description = "The VPC the cluster runs in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets, one per availability zone (at least three): control plane ENIs and nodes."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 3
    error_message = "subnet_ids must name at least three subnets (one per zone)."
  }
}

variable "public_access_cidrs" {
  description = "Networks allowed to reach the API endpoint from the internet; empty keeps the endpoint private."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.public_access_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "public_access_cidrs must be CIDR ranges, and not 0.0.0.0/0."
  }
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group (several give Spot/On-Demand capacity more pools)."
  type        = list(string)

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for t in var.node_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])
    error_message = "node_instance_types must be instance types such as m6i.large."
  }
}

variable "node_min_size" {
  description = "Fewest nodes; at least one per zone keeps every zone schedulable."
  type        = number

  validation {
    condition     = var.node_min_size >= 3
    error_message = "node_min_size must be at least 3 (one node per zone)."
  }
}

variable "node_desired_size" {
  description = "Nodes at creation; cluster-autoscaler changes it afterwards (ignored by later plans)."
  type        = number
}

variable "node_max_size" {
  description = "Most nodes cluster-autoscaler may scale to."
  type        = number

  validation {
    condition     = var.node_max_size >= 3 && var.node_max_size <= 450
    error_message = "node_max_size must be between 3 and 450."
  }
}

variable "node_disk_size_gb" {
  description = "Root volume size of each node, GiB (encrypted)."
  type        = number
  default     = 50

  validation {
    condition     = var.node_disk_size_gb >= 20
    error_message = "node_disk_size_gb must be at least 20."
  }
}

variable "log_retention_days" {
  description = "How long the control plane's logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 365
    error_message = "log_retention_days must be at least 365 (audit logs)."
  }
}

variable "admin_role_arns" {
  description = "IAM roles given cluster-admin through EKS access entries (the operators' SSO role, break-glass)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "admin_role_arns must be IAM role ARNs."
  }
}

variable "node_extra_egress_tcp_ports" {
  description = "TCP ports nodes may reach outside the VPC besides 443 (587: SES SMTP for the report cronjob)."
  type        = list(number)
  default     = [587]

  validation {
    condition     = alltrue([for port in var.node_extra_egress_tcp_ports : port > 0 && port < 65536 && port != 22 && port != 3389])
    error_message = "node_extra_egress_tcp_ports must be TCP ports, and not 22 or 3389."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
