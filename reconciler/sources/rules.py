"""Grid's own rules for names, regions and instance types (grid-api.md), as pure checks
shared by validation and the emulator. Each returns an error message or ``None``.
"""

from __future__ import annotations

import re

# Every pattern is used with fullmatch and ASCII classes only: `$` would accept a trailing
# newline, and `\d` or `\w` Arabic-Indic digits or other letters.

#: The Grid CLI's name rule: lower-case letters, digits and '-', 1-63, no leading/trailing '-'.
NAME_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
REGION_RE = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-[0-9]{1,2}")
ZONE_RE = re.compile(r"([a-z]{2}(-gov)?-[a-z]+-[0-9]{1,2})[a-z]")
#: IAM role ARNs in the partitions Grid can assume roles in.
ROLE_ARN_RE = re.compile(r"arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:role/"
                         r"[A-Za-z0-9+=,.@_/-]{1,512}")
INSTANCE_TYPE_RE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")
#: The partition a region belongs to, by its prefix (anything else: aws).
_REGION_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))
#: The name of Grid's shared GLOBAL cluster: never a document's.
GLOBAL_CLUSTER_NAME = "grid-cloud-prod"

#: Graviton (arm64) families. An instance family is arm64 when it is listed here or when its
#: name carries the 'g' processor letter after the generation digit (m6g, c7gn, r8gd, ...).
_ARM_FAMILIES = frozenset({"a1", "t4g", "m6g", "c6g", "g5g", "r6g", "x2gd", "im4gn", "is4gen",
                           "hpc7g", "i4g", "i8g"})
_ARM_PATTERN = re.compile(r"[a-z]+[0-9]+g[a-z]*")
#: Apple silicon Mac families (mac2, mac2-m2pro, mac-m4, ...); mac1 is Intel.
_APPLE_SILICON = re.compile(r"mac(2|-m[0-9])[a-z0-9-]*")


def check_name(name: str) -> str | None:
    if NAME_RE.fullmatch(name):
        return None
    if "_" in name:
        return f"cluster name {name!r} contains '_': use '-' instead"
    if name != name.lower():
        return f"cluster name {name!r} must be lower case"
    return (f"cluster name {name!r} is not valid: use 1-63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit")


def check_region(region: str) -> str | None:
    zone = ZONE_RE.fullmatch(region)
    if zone:
        return (f"{region!r} is an availability zone, not a region: "
                f"use {zone.group(1)!r} (clusters use zone a)")
    if not REGION_RE.fullmatch(region):
        return f"{region!r} is not an AWS region (for example 'us-east-1')"
    return None


def check_role_arn(arn: str) -> str | None:
    if ROLE_ARN_RE.fullmatch(arn):
        return None
    partition = arn.split(":")[1] if arn.count(":") >= 2 else ""
    if arn.startswith("arn:") and partition not in ("aws", "aws-cn", "aws-us-gov"):
        return (f"roleArn {arn!r} is in partition {partition!r}: use aws, aws-cn or "
                "aws-us-gov")
    return (f"roleArn {arn!r} is not an IAM role ARN "
            "(arn:aws:iam::123456789012:role/NAME, 12 digits, no spaces or newlines)")


def region_partition(region: str) -> str:
    return next((p for prefix, p in _REGION_PARTITIONS if region.startswith(prefix)), "aws")


def check_partition(region: str, arn: str) -> str | None:
    """A role in the partition of the cluster's region (arn:aws-cn:... for cn-north-1)."""
    wanted = region_partition(region)
    if ROLE_ARN_RE.fullmatch(arn) and arn.split(":")[1] != wanted:
        return f"roleArn {arn!r} is not in {wanted}, the partition of region {region!r}"
    return None


def instance_family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def is_arm64(instance_type: str) -> bool:
    """From AWS's naming: Graviton families (the 'g' processor letter after the generation,
    also before a '-flex'-like suffix) and Apple silicon Macs. Preflight's EC2 answer is the
    final word for what this cannot tell."""
    family = instance_family(instance_type)
    base = family.split("-", 1)[0]
    return (family in _ARM_FAMILIES or bool(_ARM_PATTERN.fullmatch(base))
            or bool(_APPLE_SILICON.fullmatch(family)))


def check_instance_type(instance_type: str) -> str | None:
    if not INSTANCE_TYPE_RE.fullmatch(instance_type):
        return f"{instance_type!r} is not an EC2 instance type (for example 'g4dn.xlarge')"
    if is_arm64(instance_type):
        kind = "Apple silicon" if instance_type.startswith("mac") else "Graviton"
        return (f"instance type {instance_type!r} is arm64 ({kind}); Grid supports only "
                "amd64 (x86_64) instance types")
    return None
