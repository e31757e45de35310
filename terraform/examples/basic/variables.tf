variable "grid_account_id" {
  description = "The Grid control plane's AWS account id, as Grid gives it to you (12 digits)."
  type        = string
}

variable "region" {
  description = "The region the AWS provider talks to, and the only region the role may act in."
  type        = string
  default     = "us-east-1"
}

variable "role_name" {
  description = "Name of the IAM role Grid assumes; the cluster documents' roleArn ends with it."
  type        = string
  default     = "gridops-byoc"
}
