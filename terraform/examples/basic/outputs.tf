# Re-exported so that `terraform output -json` in this folder writes both values that a
# cluster document needs, in the shape gridops' fromTerraformOutput reads.

output "role_arn" {
  description = "The roleArn of the cluster documents for this account."
  value       = module.grid_byoc.role_arn
}

output "external_id" {
  description = "The external id; read it with fromTerraformOutput, never copy it into git."
  value       = module.grid_byoc.external_id
  sensitive   = true
}
