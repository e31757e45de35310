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
    "purpose"    = "grid-byoc"
  }
}
