# The create body, in the Grid CLI's snake_case: gridops maps it to the wire ClusterSpec.
# Sensitive, because it holds the external id.

output "gridv1_cluster" {
  description = "The whole create request of the cluster ({name, spec}); read it with spec.selfManaged, never copy it into git."
  sensitive   = true
  value = {
    name = var.cluster_name
    spec = {
      cluster_type = "CLUSTER_TYPE_BYOC"
      driver = {
        kubernetes = {
          aws = {
            region             = var.region
            role_arn           = module.grid_byoc.role_arn
            external_id        = module.grid_byoc.external_id
            kubernetes_version = var.kubernetes_version
            instance_types     = var.instance_types
          }
        }
      }
    }
  }
}
