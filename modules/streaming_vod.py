"""VOD conversion: each closed live recording becomes HLS renditions with MediaConvert (R5.5).

EventBridge matches "Object Created" in the recordings bucket under the
channels' archive prefix (the bucket sends every event to EventBridge) and
invokes the VOD-submit function (functions/vod_submit), which submits a job
to this environment's MediaConvert queue with the job settings kept in the
repository. MediaConvert has no job-template resource in the provider, so
the settings live beside the function's code and are tested there.

Failures are kept, not lost: EventBridge retries delivery for a day and then
dead-letters the event; the function's own asynchronous retries end in the
same queue, which an alarm watches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.media_convert_queue import MediaConvertQueue
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from modules.context import StackContext
from modules.iam import policy_document, service_trust
from modules.lambda_package import lambda_package
from modules.log_group import log_group
from modules.secure_bucket import SecureBucket

FUNCTION_SOURCE = Path(__file__).resolve().parent.parent / "functions" / "vod_submit"
VOD_PREFIX = "vod/"
DAY = 86_400


@dataclass(frozen=True)
class VodConversionConfig:
    recordings: SecureBucket
    archive_prefix: str  # where MediaLive archives in the recordings bucket
    vod: SecureBucket  # renditions go under VOD_PREFIX
    reserved_concurrency: int


class VodConversion(Construct):
    """Exposes `queue_arn` (MediaConvert), `mediaconvert_role_arn`, `function_name`, `function_arn`,
    `rule_name`, `dead_letter_queue_name` and `dead_letter_queue_arn`."""

    def __init__(self, scope: Construct, id: str, config: VodConversionConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        names, keys = context.names, context.keys
        # Both buckets are encrypted with the content key; the dead-letter queue and the function's environment
        # with the messaging key.
        content_key, messaging_key = keys.content.arn, keys.messaging.arn
        queue = MediaConvertQueue(
            self,
            "queue",
            name=names("vod"),
            description="Live recordings to VOD renditions",
            pricing_plan="ON_DEMAND",
            status="ACTIVE",
        )
        self.queue_arn = queue.arn
        mediaconvert_role = IamRole(
            self,
            "mediaconvert_role",
            name=names("mediaconvert"),
            assume_role_policy=service_trust(
                "mediaconvert.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": context.account_id}}
            ),
        )
        IamRolePolicy(
            self,
            "mediaconvert_policy",
            role=mediaconvert_role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "ReadRecordings",
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": f"{config.recordings.arn}/{config.archive_prefix}*",
                    },
                    {
                        "Sid": "WriteVodRenditions",
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": f"{config.vod.arn}/{VOD_PREFIX}*",
                    },
                    {
                        "Sid": "UseContentKey",
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": content_key,
                    },
                ]
            ),
        )
        self.mediaconvert_role_arn = mediaconvert_role.arn

        dead_letters = SqsQueue(
            self,
            "dead_letters",
            name=names("vod-submit-dead-letters"),
            kms_master_key_id=messaging_key,
            message_retention_seconds=14 * DAY,  # the most SQS keeps: two weeks to replay a failed conversion
        )
        self.dead_letter_queue_name = dead_letters.name
        self.dead_letter_queue_arn = dead_letters.arn

        function_name = names("vod-submit")
        logs = log_group(self, "logs", f"/aws/lambda/{function_name}", keys.logs.arn)
        role = IamRole(self, "function_role", name=names("vod-submit"), assume_role_policy=service_trust("lambda.amazonaws.com"))
        IamRolePolicy(
            self,
            "function_policy",
            role=role.id,
            policy=policy_document(
                [
                    {"Sid": "SubmitJobs", "Effect": "Allow", "Action": "mediaconvert:CreateJob", "Resource": queue.arn},
                    {
                        "Sid": "PassRoleToMediaConvert",
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": mediaconvert_role.arn,
                        "Condition": {"StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}},
                    },
                    {"Sid": "DeadLetter", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dead_letters.arn},
                    {
                        "Sid": "MessagingKey",
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": messaging_key,
                    },
                    {
                        "Sid": "Logs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{logs.arn}:*",
                    },
                    {
                        # X-Ray accepts no resource-level permissions.
                        "Sid": "Tracing",
                        "Effect": "Allow",
                        "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                        "Resource": "*",
                    },
                ]
            ),
        )
        package = lambda_package(self, "code", FUNCTION_SOURCE)
        function = LambdaFunction(
            self,
            "function",
            function_name=function_name,
            description="Submits a MediaConvert VOD job when a live recording lands",
            role=role.arn,
            runtime="python3.13",
            architectures=["arm64"],
            handler="handler.handler",
            filename=package.filename,
            source_code_hash=package.source_code_hash,
            timeout=30,
            memory_size=256,
            reserved_concurrent_executions=config.reserved_concurrency,
            kms_key_arn=messaging_key,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=dead_letters.arn),
            environment=LambdaFunctionEnvironment(
                variables={
                    "QUEUE_ARN": queue.arn,
                    "ROLE_ARN": mediaconvert_role.arn,
                    "VOD_BUCKET": config.vod.name,
                    "ARCHIVE_PREFIX": config.archive_prefix,
                    "VOD_PREFIX": VOD_PREFIX,
                }
            ),
            # The log group exists (KMS, 30 days) before the first invocation could create it.
            depends_on=[logs],
        )
        self.function_name = function.function_name
        self.function_arn = function.arn

        rule = CloudwatchEventRule(
            self,
            "recording_created",
            name=names("recording-created"),
            description="A live recording was written to the recordings bucket",
            event_pattern=json.dumps(
                {
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {
                        "bucket": {"name": [config.recordings.name]},
                        "object": {"key": [{"prefix": config.archive_prefix}]},
                    },
                },
                sort_keys=True,
            ),
        )
        self.rule_name = rule.name
        CloudwatchEventTarget(
            self,
            "submit_target",
            rule=rule.name,
            arn=function.arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(maximum_event_age_in_seconds=DAY, maximum_retry_attempts=185),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=dead_letters.arn),
        )
        LambdaPermission(
            self,
            "invoke_from_rule",
            statement_id="RecordingCreated",
            action="lambda:InvokeFunction",
            function_name=function.function_name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
        )
        SqsQueuePolicy(
            self,
            "dead_letters_policy",
            queue_url=dead_letters.url,
            policy=policy_document(
                [
                    {
                        "Sid": "EventBridgeDeadLetters",
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": dead_letters.arn,
                        "Condition": {"ArnEquals": {"aws:SourceArn": rule.arn}},
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sqs:*",
                        "Resource": dead_letters.arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ]
            ),
        )
