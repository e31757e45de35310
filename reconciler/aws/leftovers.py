"""What a Grid cluster leaves in an AWS account, and how gridops recognises it.

A resource belongs to cluster NAME when one of its tags says so exactly:

- ``grid.ai/cluster-name = NAME`` or ``grid.ai/cluster = NAME`` (Grid's own tags);
- ``kubernetes.io/cluster/NAME = owned`` (Kubernetes and EKS mark what a cluster owns;
  ``shared`` resources, such as subnets of a shared VPC, are never selected);
- ``eks:cluster-name = NAME`` or ``aws:eks:cluster-name = NAME`` (EKS managed nodes).

Without such a tag, only a resource named exactly ``grid-NAME`` (or one of the names the caller
knows, such as the cluster's ``bucketName``) is selected, and never one whose tags name another
cluster. Prefix matching is deliberately avoided: ``grid-prod-2-nodes`` could belong to
cluster ``prod-2`` as well as to ``prod``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Tags whose value is the cluster's name.
CLUSTER_NAME_TAGS = ("grid.ai/cluster-name", "grid.ai/cluster", "eks:cluster-name",
                     "aws:eks:cluster-name")
KUBERNETES_TAG_PREFIX = "kubernetes.io/cluster/"
OWNED = "owned"

#: Resource kinds, in the order they are deleted: what uses a resource goes before it
#: (groups before their instances' volumes and templates, instances before volumes,
#: roles before the policies attached to them).
DELETE_ORDER = ("autoscaling-group", "ec2-instance", "load-balancer", "eks-cluster",
                "launch-template", "ebs-volume", "s3-bucket", "iam-role", "iam-policy")


@dataclass(frozen=True)
class Leftover:
    """One AWS resource a cluster left behind.

    ``kind`` is one of ``DELETE_ORDER``; ``id`` is what the delete call takes (instance id,
    volume id, group name, template id, load balancer ARN, EKS name, bucket name, role name,
    policy ARN); ``arn`` is the ARN (what the inventory records); ``region`` is where it was
    found (IAM roles and policies are global: their region is the one swept).
    """

    kind: str
    id: str
    name: str
    region: str
    arn: str = ""

    @property
    def ref(self) -> str:
        """A stable reference for the inventory: the ARN, else kind/id."""
        return self.arn or f"{self.kind}/{self.id}"


@dataclass(frozen=True)
class SweepResult:
    """The outcome of deleting one leftover: ``deleted``, ``gone`` (already deleted) or
    ``failed`` (``error`` says why)."""

    leftover: Leftover
    outcome: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in ("deleted", "gone")


def owner_tags(cluster: str) -> list[tuple[str, str]]:
    """Each (key, value) tag that alone marks a resource as the cluster's."""
    return [(key, cluster) for key in CLUSTER_NAME_TAGS] + \
        [(KUBERNETES_TAG_PREFIX + cluster, OWNED)]


def cluster_resource_names(cluster: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The exact names that mark an untagged resource as the cluster's."""
    return frozenset({f"grid-{cluster}", *extra})


def belongs_to(cluster: str, name: str, tags: Mapping[str, str],
               extra_names: Iterable[str] = ()) -> bool:
    """Whether a resource with this name and these tags is the cluster's."""
    if any(tags.get(key) == value for key, value in owner_tags(cluster)):
        return True
    if claims_other_cluster(cluster, tags):
        return False
    return name in cluster_resource_names(cluster, extra_names)


def claims_other_cluster(cluster: str, tags: Mapping[str, str]) -> bool:
    """Whether the tags name a cluster other than ``cluster``."""
    for key, value in tags.items():
        if key in CLUSTER_NAME_TAGS and value != cluster:
            return True
        if key.startswith(KUBERNETES_TAG_PREFIX) and key != KUBERNETES_TAG_PREFIX + cluster:
            return True
    return False


def tag_dict(tags: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """AWS's ``[{"Key": k, "Value": v}]`` as a dict."""
    return {str(t.get("Key", "")): str(t.get("Value", "")) for t in tags or ()}


def in_delete_order(leftovers: Iterable[Leftover]) -> list[Leftover]:
    rank = {kind: i for i, kind in enumerate(DELETE_ORDER)}
    return sorted(leftovers, key=lambda x: (rank.get(x.kind, len(rank)), x.name, x.id))


def without_grid_role(leftovers: Iterable[Leftover], role_arn: str) -> list[Leftover]:
    """Leave out the role Grid assumes (``roleArn``): it belongs to the account set-up, not to
    one cluster, even when its name or tags look like the cluster's."""
    role_name = role_arn.rsplit("/", 1)[-1] if ":role/" in role_arn else ""
    return [x for x in leftovers
            if not (x.kind == "iam-role" and role_name and x.id == role_name)]
