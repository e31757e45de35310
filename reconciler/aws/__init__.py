"""The AWS account side of gridops: preflight checks, secret providers, leftover sweeps.

Modules: ``session`` (clients with retries and timeouts), ``preflight`` (is an account ready
for a cluster), ``secrets`` (fromSsm, fromSecretsManager, fromTerraformOutput), ``sweep`` and
``cleanup`` (what a deleted cluster left behind), ``report`` (their text tables). The S3 state
backend is ``reconciler.state.s3``.
"""
