output "role_arn" {
  description = "ARN of the role Grid assumes: the roleArn of every cluster document for this account."
  value       = aws_iam_role.grid.arn
}

output "role_name" {
  description = "Name of the role Grid assumes."
  value       = aws_iam_role.grid.name
}

output "external_id" {
  description = "The external id Grid must send to assume the role: the cluster documents' externalId, read through a secret reference (fromTerraformOutput, fromSsm, fromSecretsManager), never written in git."
  value       = random_password.external_id.result
  sensitive   = true
}
