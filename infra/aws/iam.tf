# Least privilege, one role per function. The permissions each function's code needs are checked against these
# documents by test/infra (every `new <Name>Command(` and Powertools provider in functions/aws and functions/common).

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssumesThisAccountOnly"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.functions

  name                 = "${var.name_prefix}-${each.key}"
  description          = "astro-identity-sync ${each.key} function"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "${var.name_prefix}-${each.key}"
  role   = aws_iam_role.function[each.key].id
  policy = local.function_policies[each.key]

  lifecycle {
    # The config decides whether the functions create providers, the variable whether their roles may: with the
    # config alone every create is denied at run time; with the variable alone the roles hold a permission nothing uses.
    precondition {
      condition     = local.config_creates_oidc_providers == var.create_oidc_providers
      error_message = "create_oidc_providers must equal aws.createOidcProviders in the config (set both to true to let the functions create missing IAM OIDC providers, or leave both false)."
    }
  }
}

locals {
  # The config is JSON or YAML (JSON is YAML); one that does not parse is the functions' to report at cold start.
  config_creates_oidc_providers = try(yamldecode(var.config).aws.createOidcProviders, false) == true

  function_policies = {
    webhook    = data.aws_iam_policy_document.webhook.json
    reconciler = data.aws_iam_policy_document.reconciler.json
    manual     = data.aws_iam_policy_document.manual.json
    scheduled  = data.aws_iam_policy_document.scheduled.json
  }
}

# Every function reads its config and secrets at cold start (functions/aws/secret-resolver.ts: Powertools
# SecretsProvider and SSMProvider with decryption).
data "aws_iam_policy_document" "read_config" {
  dynamic "statement" {
    for_each = length(local.readable_secret_arns) > 0 ? [1] : []
    content {
      sid       = "ReadOwnSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.readable_secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.readable_parameter_arns) > 0 ? [1] : []
    content {
      sid       = "ReadConfigParameters"
      actions   = ["ssm:GetParameter"]
      resources = local.readable_parameter_arns
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [1]
    content {
      sid       = "DecryptOwnSecretsOnly"
      actions   = ["kms:Decrypt"]
      resources = [var.kms_key_arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values = [
          "secretsmanager.${data.aws_region.current.region}.amazonaws.com",
          "ssm.${data.aws_region.current.region}.amazonaws.com",
        ]
      }
    }
  }
}

# The trust-policy writers (functions/aws/trust-policy-io.ts).
data "aws_iam_policy_document" "write_trust_policies" {
  statement {
    sid       = "ReadAndWriteAllowlistedTrustPolicies"
    actions   = ["iam:GetRole", "iam:UpdateAssumeRolePolicy"]
    resources = var.allowed_role_arns
  }

  # An account-level read (AssumeRolePolicySizeQuota); IAM offers no resource to scope it to.
  statement {
    sid       = "ReadTrustPolicyQuota"
    actions   = ["iam:GetAccountSummary"]
    resources = ["*"]
  }

  # Before a grant names a cluster's OIDC provider, the function checks that the account has it: IAM refuses a trust
  # policy naming a missing one, and a grant without it could never be used.
  statement {
    sid       = "ReadOidcProviders"
    actions   = ["iam:GetOpenIDConnectProvider"]
    resources = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/*"]
  }

  # Only with create_oidc_providers (and aws.createOidcProviders: true in the config): create a missing provider.
  dynamic "statement" {
    for_each = var.create_oidc_providers ? [1] : []
    content {
      sid       = "CreateOidcProviders"
      actions   = ["iam:CreateOpenIDConnectProvider"]
      resources = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/*"]
    }
  }
}

# Every writer takes the role's lease before it reads and writes a trust policy (functions/aws/dynamodb-lease.ts):
# conditional PutItem (take), UpdateItem (the fence before each write), DeleteItem (release); lease items only.
data "aws_iam_policy_document" "write_leases" {
  statement {
    sid       = "TakeRoleWriteLeases"
    actions   = ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.leases.arn]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["lease#*"]
    }
  }
}

data "aws_iam_policy_document" "webhook" {
  source_policy_documents = [data.aws_iam_policy_document.read_config.json]

  statement {
    sid       = "PublishToOwnBus"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.this.arn]
  }

  # The replay record (functions/aws/dynamodb-replay-record.ts): claim an id (PutItem), tell a handled one from one
  # in flight (GetItem), forget one whose publish failed (DeleteItem); webhook-id items only.
  statement {
    sid       = "RecordHandledWebhookIds"
    actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.leases.arn]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["webhook#*"]
    }
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function["webhook"].arn}:*"]
  }
}

data "aws_iam_policy_document" "reconciler" {
  source_policy_documents = [
    data.aws_iam_policy_document.read_config.json,
    data.aws_iam_policy_document.write_trust_policies.json,
    data.aws_iam_policy_document.write_leases.json,
  ]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function["reconciler"].arn}:*"]
  }

  # Not called by the code: the Lambda service polls the events queue for the event source mapping with this role.
  statement {
    sid       = "PollEventsQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.events.arn]
  }
}

data "aws_iam_policy_document" "manual" {
  source_policy_documents = [
    data.aws_iam_policy_document.read_config.json,
    data.aws_iam_policy_document.write_trust_policies.json,
    data.aws_iam_policy_document.write_leases.json,
  ]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function["manual"].arn}:*"]
  }
}

data "aws_iam_policy_document" "scheduled" {
  source_policy_documents = [
    data.aws_iam_policy_document.read_config.json,
    data.aws_iam_policy_document.write_trust_policies.json,
    data.aws_iam_policy_document.write_leases.json,
  ]

  # The sweep's stale marks (functions/aws/dynamodb-stale-marks.ts, config pruneGraceMinutes): read the run of
  # sightings so far (GetItem), record this one (PutItem); stale-mark items only.
  statement {
    sid       = "RememberStaleEntries"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.leases.arn]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["stale#*"]
    }
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function["scheduled"].arn}:*"]
  }

  statement {
    sid       = "SendFailedRunsToDeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }
}

# EventBridge delivers undeliverable events to the dead-letter queue with its service principal.
data "aws_iam_policy_document" "dead_letter_queue" {
  statement {
    sid       = "EventBridgeRuleDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.deployment_changed.arn]
    }
  }
}

# The rule delivers matching events to the events queue with the EventBridge service principal, and nothing else may.
data "aws_iam_policy_document" "events_queue" {
  statement {
    sid       = "EventBridgeRuleDelivers"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.deployment_changed.arn]
    }
  }
}

# EventBridge Scheduler invokes the scheduled function, and nothing else.
data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    sid     = "SchedulerAssumesThisAccountOnly"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name                 = "${var.name_prefix}-scheduler"
  description          = "EventBridge Scheduler invoking the astro-identity-sync scheduled function"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid     = "InvokeScheduledFunctionOnly"
    actions = ["lambda:InvokeFunction"]
    resources = [
      aws_lambda_function.this["scheduled"].arn,
      "${aws_lambda_function.this["scheduled"].arn}:*",
    ]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${var.name_prefix}-scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
