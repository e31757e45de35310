# The IAM role the Grid control plane assumes to build and run BYOC clusters in this account,
# the external id that guards it, and the permissions it carries (see permissions.tf).

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  iam_arn    = "arn:${local.partition}:iam::${local.account_id}"

  # A literal list rather than keys(local.policy_documents): the guardrails document names
  # these policies, so deriving the names from the documents would be a cycle.
  policy_parts = ["compute", "iam", "storage", "guardrails"]
  policy_names = { for part in local.policy_parts : part => "${var.role_name}-${part}" }

  policy_documents = {
    compute    = data.aws_iam_policy_document.compute.json
    iam        = data.aws_iam_policy_document.iam.json
    storage    = data.aws_iam_policy_document.storage.json
    guardrails = data.aws_iam_policy_document.guardrails.json
  }
}

# The external id: a shared secret Grid sends with every AssumeRole call, so that no other Grid
# customer can point Grid at this role (the confused-deputy problem). Letters and digits only,
# so it survives YAML, shells and environment variables unquoted. It is kept in the Terraform
# state: protect the state as you would the secret.
resource "random_password" "external_id" {
  length  = 40
  special = false
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "GridControlPlaneWithExternalId"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${var.grid_account_id}:root"]
    }

    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [random_password.external_id.result]
    }
  }
}

resource "aws_iam_role" "grid" {
  name                 = var.role_name
  description          = "Assumed by the Grid control plane to create and manage BYOC clusters."
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_policy" "grid" {
  for_each = local.policy_documents

  name        = local.policy_names[each.key]
  description = "Grid BYOC permissions (${each.key}) for the role ${var.role_name}."
  policy      = each.value
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "grid" {
  for_each = aws_iam_policy.grid

  role       = aws_iam_role.grid.name
  policy_arn = each.value.arn
}
