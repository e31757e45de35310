# What the role may do, after the Grid BYOC guide: Grid builds each cluster's VPC, EKS control
# plane, node groups and load balancers, the IAM roles, policies and instance profiles they run
# under, and the S3 buckets that hold datastores and artifacts; it reads quotas and DNS.
#
# The guide attaches AWS's *FullAccess managed policies (including IAMFullAccess). This module
# narrows that: services whose resources can belong to other accounts or hold data (IAM, S3,
# SQS, SNS, ECR, CloudWatch Logs) are limited to this account, and IAM and S3 to names starting
# with var.name_prefix. No statement allows every action on every resource.

data "aws_iam_policy_document" "compute" {
  # checkov:skip=CKV_AWS_111:EC2, Auto Scaling, ELB, EKS, GuardDuty and Route 53 Resolver resources get ids Grid picks at run time, so no ARN can be written beforehand; writes are limited to this account by the role itself and to allowed_regions by the guardrails (terraform/README.md).
  # checkov:skip=CKV_AWS_356:The same: the VPCs, instances, groups and clusters a cluster creates have no ARN before Grid makes them; resource-restricted services (events, sqs, sns, ecr) are limited to this account below.
  # checkov:skip=CKV_AWS_109:ec2:* holds the snapshot and AMI attribute calls, ecr:* the repository policy calls, and sqs/sns the permission calls that can share a resource; ECR, SQS and SNS are limited to this account's resources, and EC2 is as the Grid guide's AmazonEC2FullAccess (terraform/README.md).
  # checkov:skip=CKV_AWS_107:ecr:GetAuthorizationToken gives a registry login for this account's ECR only (Grid's image builds push there); ec2:GetPasswordData is part of ec2:* and only answers for Windows instances, which Grid does not run.
  statement {
    sid       = "Ec2NetworkingAndInstances"
    effect    = "Allow"
    actions   = ["ec2:*"]
    resources = ["*"]
  }

  statement {
    sid       = "AutoScaling"
    effect    = "Allow"
    actions   = ["autoscaling:*"]
    resources = ["*"]
  }

  statement {
    sid       = "LoadBalancing"
    effect    = "Allow"
    actions   = ["elasticloadbalancing:*"]
    resources = ["*"]
  }

  statement {
    sid       = "Kubernetes"
    effect    = "Allow"
    actions   = ["eks:*"]
    resources = ["*"]
  }

  # guarddutyIntegration and enableDnsFirewall in a cluster's aws fields.
  statement {
    sid       = "ThreatDetectionAndDnsFirewall"
    effect    = "Allow"
    actions   = ["guardduty:*", "route53resolver:*"]
    resources = ["*"]
  }

  statement {
    sid    = "MetricsAndAlarms"
    effect = "Allow"
    actions = [
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:GetMetricData",
      "cloudwatch:GetMetricStatistics",
      "cloudwatch:ListMetrics",
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:PutMetricData",
    ]
    resources = ["*"]
  }

  # Spot interruption and rebalance notices: EventBridge rules feeding SQS queues and SNS topics.
  statement {
    sid     = "EventsQueuesTopicsInThisAccount"
    effect  = "Allow"
    actions = ["events:*", "sqs:*", "sns:*"]
    resources = [
      "arn:${local.partition}:events:*:${local.account_id}:*",
      "arn:${local.partition}:sqs:*:${local.account_id}:*",
      "arn:${local.partition}:sns:*:${local.account_id}:*",
    ]
  }

  statement {
    sid       = "ImageRepositoriesInThisAccount"
    effect    = "Allow"
    actions   = ["ecr:*"]
    resources = ["arn:${local.partition}:ecr:*:${local.account_id}:repository/*"]
  }

  # Calls that take no resource ARN at all.
  statement {
    sid    = "Listings"
    effect = "Allow"
    actions = [
      "ecr:GetAuthorizationToken",
      "events:ListRules",
      "sns:ListTopics",
      "sqs:ListQueues",
    ]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "iam" {
  statement {
    sid    = "ManageGridRoles"
    effect = "Allow"
    actions = [
      "iam:AttachRolePolicy",
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:GetRolePolicy",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRoleTags",
      "iam:PassRole",
      "iam:PutRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = ["${local.iam_arn}:role/${var.name_prefix}*"]
  }

  statement {
    sid    = "ManageGridPolicies"
    effect = "Allow"
    actions = [
      "iam:CreatePolicy",
      "iam:CreatePolicyVersion",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:ListEntitiesForPolicy",
      "iam:ListPolicyTags",
      "iam:ListPolicyVersions",
      "iam:SetDefaultPolicyVersion",
      "iam:TagPolicy",
      "iam:UntagPolicy",
    ]
    resources = ["${local.iam_arn}:policy/${var.name_prefix}*"]
  }

  statement {
    sid    = "ManageGridInstanceProfiles"
    effect = "Allow"
    actions = [
      "iam:AddRoleToInstanceProfile",
      "iam:CreateInstanceProfile",
      "iam:DeleteInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
      "iam:TagInstanceProfile",
      "iam:UntagInstanceProfile",
    ]
    resources = ["${local.iam_arn}:instance-profile/${var.name_prefix}*"]
  }

  # The OIDC providers behind EKS service-account roles; their names are the issuer's URL.
  statement {
    sid    = "ManageEksOidcProviders"
    effect = "Allow"
    actions = [
      "iam:AddClientIDToOpenIDConnectProvider",
      "iam:CreateOpenIDConnectProvider",
      "iam:DeleteOpenIDConnectProvider",
      "iam:GetOpenIDConnectProvider",
      "iam:TagOpenIDConnectProvider",
      "iam:UntagOpenIDConnectProvider",
      "iam:UpdateOpenIDConnectProviderThumbprint",
    ]
    resources = ["${local.iam_arn}:oidc-provider/oidc.eks.*.amazonaws.com/id/*"]
  }

  # Service-linked roles (EKS, Auto Scaling, ELB, Spot, GuardDuty) can only be assumed by the
  # AWS service they belong to, so creating them grants nothing to the caller.
  statement {
    sid       = "CreateServiceLinkedRoles"
    effect    = "Allow"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["${local.iam_arn}:role/aws-service-role/*"]
  }

  # Read-only, on this account's IAM and AWS's managed policies (which Grid attaches).
  statement {
    sid    = "ReadIam"
    effect = "Allow"
    actions = [
      "iam:GetInstanceProfile",
      "iam:GetPolicy",
      "iam:GetPolicyVersion",
      "iam:GetRole",
      "iam:ListAttachedRolePolicies",
      "iam:ListRolePolicies",
    ]
    resources = [
      "${local.iam_arn}:*",
      "arn:${local.partition}:iam::aws:policy/*",
    ]
  }

  # Calls that take no resource ARN. GetAccountSummary answers the "15 roles, 15 policies"
  # headroom question.
  statement {
    sid    = "ListIam"
    effect = "Allow"
    actions = [
      "iam:GetAccountSummary",
      "iam:ListInstanceProfiles",
      "iam:ListOpenIDConnectProviders",
      "iam:ListPolicies",
      "iam:ListRoles",
    ]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "storage" {
  statement {
    sid     = "ManageGridBuckets"
    effect  = "Allow"
    actions = ["s3:*"]
    resources = [
      "arn:${local.partition}:s3:::${var.name_prefix}*",
      "arn:${local.partition}:s3:::${var.name_prefix}*/*",
    ]
  }

  statement {
    sid       = "ListBuckets"
    effect    = "Allow"
    actions   = ["s3:ListAllMyBuckets"]
    resources = ["*"]
  }

  # EKS control-plane logs and the clusters' own log groups.
  statement {
    sid    = "LogGroupsInThisAccount"
    effect = "Allow"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DeleteLogGroup",
      "logs:DeleteRetentionPolicy",
      "logs:DescribeLogStreams",
      "logs:FilterLogEvents",
      "logs:GetLogEvents",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "logs:PutLogEvents",
      "logs:PutRetentionPolicy",
      "logs:TagLogGroup",
      "logs:TagResource",
      "logs:UntagLogGroup",
      "logs:UntagResource",
    ]
    resources = ["arn:${local.partition}:logs:*:${local.account_id}:log-group:*"]
  }

  statement {
    sid    = "ReadDnsAndQuotas"
    effect = "Allow"
    actions = [
      "route53:GetChange",
      "route53:GetHostedZone",
      "route53:ListResourceRecordSets",
      "servicequotas:GetServiceQuota",
    ]
    resources = [
      "arn:${local.partition}:route53:::change/*",
      "arn:${local.partition}:route53:::hostedzone/*",
      "arn:${local.partition}:servicequotas:*:${local.account_id}:*",
    ]
  }

  # Calls that take no resource ARN.
  statement {
    sid    = "ListDnsQuotasAndLogGroups"
    effect = "Allow"
    actions = [
      "logs:DescribeLogGroups",
      "route53:ListHostedZones",
      "route53:ListHostedZonesByName",
      "servicequotas:GetAWSDefaultServiceQuota",
      "servicequotas:ListAWSDefaultServiceQuotas",
      "servicequotas:ListServiceQuotas",
    ]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "guardrails" {
  # The role must not rewrite itself: name_prefix may well match role_name (grid-byoc and
  # grid-), and without this Grid could attach anything to its own role or edit its policies.
  statement {
    sid    = "ProtectThisRoleAndItsPolicies"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy",
      "iam:CreatePolicyVersion",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:DeleteRole",
      "iam:DeleteRolePermissionsBoundary",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PassRole",
      "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
      "iam:SetDefaultPolicyVersion",
      "iam:TagPolicy",
      "iam:TagRole",
      "iam:UntagPolicy",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = concat(
      ["${local.iam_arn}:role/${var.role_name}"],
      [for name in values(local.policy_names) : "${local.iam_arn}:policy/${name}"],
    )
  }

  dynamic "statement" {
    for_each = length(var.allowed_regions) > 0 ? [var.allowed_regions] : []

    content {
      sid    = "DenyOutsideAllowedRegions"
      effect = "Deny"
      # Global services answer from one region whatever the cluster's region is.
      not_actions = [
        "iam:*",
        "route53:*",
        "s3:GetBucketLocation",
        "s3:ListAllMyBuckets",
        "sts:*",
      ]
      resources = ["*"]

      condition {
        test     = "StringNotEquals"
        variable = "aws:RequestedRegion"
        values   = statement.value
      }
    }
  }
}
