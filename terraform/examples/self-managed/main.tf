# The wiring of a self-managed BYOC cluster: the account side (the role Grid assumes and its
# external id, from the module in this repository) and one output, gridv1_cluster, holding
# the whole create request as `grid clusters aws --edit-before-creation` takes it. Grid's full
# module (terraform-aws-grid-byoc-full, with the VPC and EKS) prints the same output; a
# cluster document reads it with spec.selfManaged, so no value is pasted by hand.

terraform {
  # CI reads the outputs from this state with fromTerraformState (cluster-ci.yaml). Partial
  # configuration: `terraform init -backend-config=backend.hcl` (see backend.hcl.example).
  backend "s3" {}
}

provider "aws" {
  region = var.region
}

module "grid_byoc" {
  source = "../.."

  grid_account_id = var.grid_account_id
  role_name       = var.role_name
  allowed_regions = [var.region]

  tags = {
    "managed-by" = "terraform"
    "purpose"    = "grid-byoc-self-managed"
  }
}
