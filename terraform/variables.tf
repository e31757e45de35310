variable "grid_account_id" {
  description = <<-EOT
    The AWS account id of the Grid control plane: the only principal allowed to assume the role.
    Grid gives you this id with your BYOC onboarding. There is deliberately no default: check the
    id against Grid's own BYOC guide or support before applying (Grid's published module,
    gridai/terraform-aws-gridbyoc, uses 302180240179).
  EOT
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.grid_account_id))
    error_message = "grid_account_id must be a 12-digit AWS account id."
  }
}

variable "role_name" {
  description = "Name of the IAM role Grid assumes. Its managed policies are named after it (ROLE_NAME-compute, -iam, -storage, -guardrails). Becomes roleArn in the cluster documents."
  type        = string
  default     = "gridops-byoc"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 letters, digits or +=,.@_- (IAM's rule for role names)."
  }
}

variable "name_prefix" {
  description = <<-EOT
    Prefix of the IAM roles, IAM policies, instance profiles and S3 buckets that Grid creates for
    its clusters. The role may create and change only resources whose names start with it, so it
    must match how Grid names them (and any bucketName set in a cluster document).
  EOT
  type        = string
  default     = "grid-"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{0,31}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 lower-case letters, digits, '.' or '-' (it scopes S3 bucket names too), and must not be empty: an empty prefix would hand over every role and bucket in the account."
  }
}

variable "max_session_duration" {
  description = "Longest session, in seconds, that Grid may request when it assumes the role (3600 to 43200). Cluster creation runs for up to an hour, hence the 12 hour default, as in Grid's own module."
  type        = number
  default     = 43200

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "allowed_regions" {
  description = "Regions the role may act in (for example [\"us-east-1\"]). Requests to any other region are denied, except for the global services IAM, STS and Route 53. Empty means every region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.allowed_regions : can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", r))])
    error_message = "allowed_regions holds region names such as us-east-1, never availability zones such as us-east-1a."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a permissions boundary policy to set on the role, or null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to the role and its policies."
  type        = map(string)
  default     = {}
}
