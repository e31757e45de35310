"""Grid's own rules for names, regions and instance types (grid-api.md), as pure checks
shared by validation and the emulator. Each returns an error message or ``None``.
"""

from __future__ import annotations

import re

#: The Grid CLI's name rule: lower-case letters, digits and '-', 1-63, no leading/trailing '-'.
NAME_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
ZONE_RE = re.compile(r"^([a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d)[a-z]$")
ROLE_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")

#: Graviton (arm64) families. An instance family is arm64 when it is listed here or when its
#: name carries the 'g' processor letter after the generation digit (m6g, c7gn, r8gd, ...).
_ARM_FAMILIES = frozenset({"a1", "t4g", "m6g", "c6g", "g5g", "r6g", "x2gd", "im4gn", "is4gen",
                           "hpc7g", "i4g", "i8g"})
_ARM_PATTERN = re.compile(r"^[a-z]+\d+g[a-z]*$")


def check_name(name: str) -> str | None:
    if NAME_RE.match(name):
        return None
    if "_" in name:
        return f"cluster name {name!r} contains '_': use '-' instead"
    if name != name.lower():
        return f"cluster name {name!r} must be lower case"
    return (f"cluster name {name!r} is not valid: use 1-63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit")


def check_region(region: str) -> str | None:
    zone = ZONE_RE.match(region)
    if zone:
        return (f"{region!r} is an availability zone, not a region: "
                f"use {zone.group(1)!r} (clusters use zone a)")
    if not REGION_RE.match(region):
        return f"{region!r} is not an AWS region (for example 'us-east-1')"
    return None


def check_role_arn(arn: str) -> str | None:
    if ROLE_ARN_RE.match(arn):
        return None
    return (f"roleArn {arn!r} is not an IAM role ARN "
            "(arn:aws:iam::123456789012:role/NAME)")


def instance_family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def is_arm64(instance_type: str) -> bool:
    family = instance_family(instance_type)
    return family in _ARM_FAMILIES or bool(_ARM_PATTERN.match(family))


def check_instance_type(instance_type: str) -> str | None:
    if not INSTANCE_TYPE_RE.match(instance_type):
        return f"{instance_type!r} is not an EC2 instance type (for example 'g4dn.xlarge')"
    if is_arm64(instance_type):
        return (f"instance type {instance_type!r} is arm64 (Graviton); Grid supports only "
                "amd64 (x86_64) instance types")
    return None
