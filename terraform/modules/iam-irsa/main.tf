data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  issuer    = replace(var.oidc_issuer_url, "https://", "")

  # One role per service account; the trust policy admits exactly that service account.
  roles = {
    api                = { name = "platform-api", namespace = var.namespace, service_account = "platform-api" }
    consumer           = { name = "platform-consumer", namespace = var.namespace, service_account = "platform-consumer" }
    reports            = { name = "reports", namespace = var.namespace, service_account = "hyperscale-reports" }
    image_cleanup      = { name = "image-cleanup", namespace = var.namespace, service_account = "hyperscale-image-cleanup" }
    cluster_autoscaler = { name = "cluster-autoscaler", namespace = "kube-system", service_account = "cluster-autoscaler" }
    alb_controller     = { name = "aws-load-balancer-controller", namespace = "kube-system", service_account = "aws-load-balancer-controller" }
    secrets_operator   = { name = "external-secrets", namespace = "external-secrets", service_account = "external-secrets" }
  }

  policies = {
    api                = data.aws_iam_policy_document.api.json
    consumer           = data.aws_iam_policy_document.consumer.json
    reports            = data.aws_iam_policy_document.reports.json
    image_cleanup      = data.aws_iam_policy_document.image_cleanup.json
    cluster_autoscaler = data.aws_iam_policy_document.cluster_autoscaler.json
    alb_controller     = data.aws_iam_policy_document.alb_controller.json
    secrets_operator   = data.aws_iam_policy_document.secrets_operator.json
  }

  # MSK IAM resources: topic/ and group/ ARNs share the cluster's name and uuid.
  msk_cluster_path = replace(var.msk_cluster_arn, "/^.*:cluster//", "")
  msk_prefix       = "arn:${local.partition}:kafka:${local.region}:${local.account}"
  topic_arns       = [for topic in var.kafka_topics : "${local.msk_prefix}:topic/${local.msk_cluster_path}/${topic}"]
  dlq_arns         = [for topic in var.kafka_topics : "${local.msk_prefix}:topic/${local.msk_cluster_path}/${topic}${var.dead_letter_suffix}"]
  group_arn        = "${local.msk_prefix}:group/${local.msk_cluster_path}/${var.consumer_group}"
}

data "aws_iam_policy_document" "trust" {
  for_each = local.roles

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each             = local.roles
  name                 = "${var.name_prefix}-${each.value.name}"
  description          = "IRSA: ${each.value.namespace}/${each.value.service_account}"
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.roles
  name     = "least-privilege"
  role     = aws_iam_role.this[each.key].id
  policy   = local.policies[each.key]
}

# --- the platform ------------------------------------------------------------------------

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "ConnectToKafka"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
    resources = [var.msk_cluster_arn]
  }

  statement {
    sid       = "ProduceEvents"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
    resources = local.topic_arns
  }
}

data "aws_iam_policy_document" "consumer" {
  statement {
    sid       = "ConnectToKafka"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
    resources = [var.msk_cluster_arn]
  }

  statement {
    sid       = "ReadEvents"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
    resources = local.topic_arns
  }

  statement {
    sid       = "WriteDeadLetters"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
    resources = local.dlq_arns
  }

  statement {
    sid       = "CommitOffsets"
    actions   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
    resources = [local.group_arn]
  }
}

# `hyperscale report email`: every collector of the digest reads with this role.
data "aws_iam_policy_document" "reports" {
  #checkov:skip=CKV_AWS_356:Cost Explorer, the Describe calls and GetMetricData have no resource-level permissions; the actions are read-only
  statement {
    sid       = "ReadCosts"
    actions   = ["ce:GetCostAndUsage", "ce:GetCostForecast"]
    resources = ["*"]
  }

  statement {
    sid = "ReadFiguresAndSavingsInventory"
    actions = [
      "cloudwatch:GetMetricData",
      "ec2:DescribeAddresses",
      "ec2:DescribeInstances",
      "ec2:DescribeSnapshots",
      "ec2:DescribeVolumes",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTargetGroups",
      "rds:DescribeDBInstances",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "PlanImageCleanup"
    actions   = ["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:ListImages"]
    resources = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/${var.ecr_repository_prefix}*"]
  }

  statement {
    sid       = "ReadTheSmtpPassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:${local.region}:${local.account}:secret:${var.secrets_prefix}*"]
  }

  statement {
    sid       = "SendTheDigestThroughSes"
    actions   = ["ses:SendRawEmail"]
    resources = ["arn:${local.partition}:ses:${local.region}:${local.account}:identity/*"]
  }
}

data "aws_iam_policy_document" "image_cleanup" {
  statement {
    sid       = "PruneOwnRepositories"
    actions   = ["ecr:DescribeImages", "ecr:ListImages", "ecr:BatchDeleteImage"]
    resources = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/${var.ecr_repository_prefix}*"]
  }
}

# --- cluster add-ons ---------------------------------------------------------------------

data "aws_iam_policy_document" "secrets_operator" {
  statement {
    sid     = "ReadThisEnvironmentsSecrets"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"]
    resources = concat(
      ["arn:${local.partition}:secretsmanager:${local.region}:${local.account}:secret:${var.secrets_prefix}*"],
      var.msk_scram_secret_prefix == "" ? [] : ["arn:${local.partition}:secretsmanager:${local.region}:${local.account}:secret:${var.msk_scram_secret_prefix}*"],
    )
  }

  statement {
    sid       = "DecryptThroughSecretsManagerOnly"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "cluster_autoscaler" {
  #checkov:skip=CKV_AWS_356:Describe calls have no resource-level permissions; scaling actions are limited by the cluster tag condition
  #checkov:skip=CKV_AWS_111:scaling actions are limited to groups tagged for this cluster (condition); group ARNs are not known in advance
  statement {
    sid = "Discover"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
      "eks:DescribeNodegroup",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "ScaleOwnGroupsOnly"
    actions   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}"
      values   = ["owned"]
    }
  }
}
