variable "grid_account_id" {
  description = "The Grid control plane's AWS account id, as Grid gives it to you (12 digits)."
  type        = string
}

variable "cluster_name" {
  description = "The Grid cluster name: the cluster document's metadata.name must equal it."
  type        = string
  default     = "foo-01"
}

variable "region" {
  description = "The region of the cluster, the AWS provider and the role."
  type        = string
  default     = "us-east-1"
}

variable "role_name" {
  description = "Name of the IAM role Grid assumes."
  type        = string
  default     = "gridops-byoc-foo-01"
}

variable "kubernetes_version" {
  description = "The EKS Kubernetes version of the cluster."
  type        = string
  default     = "1.29"
}

variable "instance_types" {
  description = "The amd64 EC2 instance types the cluster may use, with the count kept warm."
  type = list(object({
    name                           = string
    overprovisioned_ondemand_count = number
  }))
  default = [
    { name = "t3.large", overprovisioned_ondemand_count = 0 },
    { name = "g4dn.xlarge", overprovisioned_ondemand_count = 1 },
  ]
}
