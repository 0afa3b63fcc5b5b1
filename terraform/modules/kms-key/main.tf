# A customer-managed KMS key for one module's data: rotated yearly, administered by the
# account root (so IAM policies in the account decide who else may use it), and usable by the
# AWS services named in service_principals (CloudWatch Logs, to encrypt a log group).

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_kms_key" "this" {
  description         = var.description
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.this.json
  tags                = var.tags
}

data "aws_iam_policy_document" "this" {
  # In a key policy, resources = ["*"] means this key and nothing else.
  #checkov:skip=CKV_AWS_111:key policy; "*" is the key itself
  #checkov:skip=CKV_AWS_356:key policy; "*" is the key itself
  #checkov:skip=CKV_AWS_109:key policy; the account root administers its own key
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  # Only when a service needs the key: a key that no service uses has no such statement.
  dynamic "statement" {
    for_each = length(var.service_principals) > 0 ? [var.service_principals] : []
    content {
      sid       = "CloudWatchLogsEncrypt"
      actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = statement.value
      }
      dynamic "condition" {
        for_each = var.service_conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}
