"""moto's server (`python -m moto.server`), corrected where moto is wrong about AWS.

    python -m tools.moto_server -H 127.0.0.1 -p PORT

Each correction below makes moto accept what AWS accepts, never the reverse, and
names the moto version it was written against; tests/test_terraform_apply.py
checks that each one still finds what it corrects.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import Enum
from types import SimpleNamespace
from typing import Any

import botocore.session
import moto.applicationautoscaling.models
import moto.applicationautoscaling.responses
import moto.codebuild.responses
import moto.server
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.cloudfront.models import DistributionConfig
from moto.rds.models import DBInstance
from moto.route53.models import QueryLoggingConfig, Route53Backend
from moto.s3.models import FakeBucket


def _without_statements(policy: bytes, leave_out: Callable[[dict[str, Any]], bool]) -> bytes:
    document = json.loads(policy.decode())
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    document["Statement"] = [statement for statement in statements if not leave_out(statement)]
    return json.dumps(document).encode()


def _logging_policy_check_takes_any_principal() -> None:
    """moto 5.2.5: PutBucketLogging reads the target bucket's policy to see that it grants
    logging.s3.amazonaws.com, and fails with HTTP 500 on any statement whose Principal is the
    string "*" (valid IAM: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html),
    such as every bucket's deny-insecure-transport statement. The check sees only the statements
    with a Principal object; those are the only ones that can grant the logging service.
    """
    check = FakeBucket._log_permissions_enabled_policy

    def tolerant(target_bucket: Any, target_prefix: str | None) -> bool:
        if not target_bucket.policy:
            return bool(check(target_bucket, target_prefix))
        policy = _without_statements(target_bucket.policy,
                                     lambda statement: not isinstance(statement.get("Principal"), dict))
        return bool(check(SimpleNamespace(policy=policy, partition=target_bucket.partition, name=target_bucket.name),
                          target_prefix))

    FakeBucket._log_permissions_enabled_policy = staticmethod(tolerant)


def _object_requests_skip_conditional_statements() -> None:
    """moto 5.2.5 judges object requests against the bucket policy and takes any statement whose
    Condition does not hold for the request as a denial, whatever its Effect; it has no request
    context (aws:SecureTransport, aws:SourceAccount, ...), so no Condition ever holds, and the usual
    deny-insecure-transport statement refuses every object request (HeadObject: 403). AWS applies a
    statement only when its condition holds
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html), and is
    called over HTTPS. Statements with a Condition are left out of the judgment.
    """
    get_permission = FakeBucket.get_permission

    def unconditional(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return get_permission(self, action, resource)
        policy = _without_statements(self.policy, lambda statement: "Condition" in statement)
        return get_permission(SimpleNamespace(policy=policy), action, resource)

    FakeBucket.get_permission = unconditional


def _distribution_may_default_to_an_origin_group() -> None:
    """moto 5.2.5: CreateDistribution fails with NoSuchOrigin when the default cache behavior targets
    an origin group, since it looks for the target among the origins only. AWS routes a cache
    behavior to an origin or an origin group (TargetOriginId:
    https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DefaultCacheBehavior.html).
    """
    initialize = DistributionConfig.__init__

    def accepting_groups(self: DistributionConfig, config: dict[str, Any]) -> None:
        behavior = config.get("DefaultCacheBehavior", {})
        target = behavior.get("TargetOriginId")
        groups = [group["Id"] for group in (config.get("OriginGroups") or {}).get("Items") or []]
        if target not in groups:
            initialize(self, config)
            return
        behavior["TargetOriginId"] = config["Origins"]["Items"][0]["Id"]
        initialize(self, config)
        self.DefaultCacheBehavior.target_origin_id = target

    DistributionConfig.__init__ = accepting_groups


def _query_logging_takes_the_log_group_arn() -> None:
    """moto 5.2.5: CreateQueryLoggingConfig finds the log group only when its ARN is given with the
    `:*` suffix that DescribeLogGroups shows; AWS takes the log group's ARN (Terraform's
    aws_cloudwatch_log_group.arn, without the suffix), as in
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateQueryLoggingConfig.html.
    The configuration keeps the ARN as given.
    """
    create = Route53Backend.create_query_logging_config

    def taking_either(self: Route53Backend, hosted_zone_id: str, log_group_arn: str) -> QueryLoggingConfig:
        if log_group_arn.endswith(":*"):
            return create(self, hosted_zone_id, log_group_arn)
        config = create(self, hosted_zone_id, log_group_arn + ":*")
        config.cloud_watch_logs_log_group_arn = log_group_arn
        return config

    Route53Backend.create_query_logging_config = taking_either


def _scalable_targets_keep_tags() -> None:
    """moto 5.2.5 has no ListTagsForResource, TagResource or UntagResource in Application Auto
    Scaling and drops the Tags of RegisterScalableTarget; AWS tags scalable targets
    (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ListTagsForResource.html)
    and hashicorp/aws reads the tags back after registering one. Tags are kept per ARN.
    """
    if hasattr(ApplicationAutoScalingResponse, "list_tags_for_resource"):
        raise RuntimeError("moto now tags scalable targets: remove _scalable_targets_keep_tags (tools/moto_server.py)")
    register = ApplicationAutoScalingResponse.register_scalable_target

    def tags(response: ApplicationAutoScalingResponse) -> dict[str, dict[str, str]]:
        backend = response.applicationautoscaling_backend
        if not hasattr(backend, "tags_by_arn"):
            backend.tags_by_arn = {}
        return backend.tags_by_arn

    def register_keeping_tags(self: ApplicationAutoScalingResponse) -> str:
        body = register(self)
        tags(self).setdefault(json.loads(body)["ScalableTargetARN"], {}).update(self._get_param("Tags") or {})
        return body

    def list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
        return json.dumps({"Tags": tags(self).get(self._get_param("ResourceARN"), {})})

    def tag_resource(self: ApplicationAutoScalingResponse) -> str:
        tags(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self: ApplicationAutoScalingResponse) -> str:
        kept = tags(self).get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            kept.pop(key, None)
        return "{}"

    ApplicationAutoScalingResponse.register_scalable_target = register_keeping_tags
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource


def _auto_scaling_knows_every_dimension() -> None:
    """moto 5.2.5 checks Application Auto Scaling namespaces and scalable dimensions against lists of
    its own that lack ElastiCache (`elasticache:replication-group:NodeGroups`, ...), Neptune and others,
    which AWS's API model (shipped with botocore) declares:
    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html.
    Both lists are extended with the model's values.
    """
    model = botocore.session.get_session().get_service_model("application-autoscaling")
    for name, shape in (("ServiceNamespaceValueSet", "ServiceNamespace"), ("ScalableDimensionValueSet", "ScalableDimension")):
        members = {member.name: member.value for member in getattr(moto.applicationautoscaling.models, name)}
        members.update({value.upper().replace(":", "_").replace("-", "_"): value
                        for value in model.shape_for(shape).enum if value not in members.values()})
        extended = Enum(name, members)  # type: ignore[misc]
        for module in (moto.applicationautoscaling.models, moto.applicationautoscaling.responses):
            setattr(module, name, extended)


def _new_db_instances_get_the_default_ca() -> None:
    """moto 5.2.5 gives a new DB instance the CA `rds-ca-default`, which AWS does not have; AWS gives it
    the Region's default CA, rds-ca-rsa2048-g1 in the commercial Regions
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html). A stack that names
    that CA would otherwise be modified and rebooted after creation, which AWS does not do (and which
    costs the rehearsal two of the provider's 30-second waits).
    """
    initialize = DBInstance.__init__

    def with_default_ca(self: DBInstance, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("ca_certificate_identifier") is None:
            kwargs["ca_certificate_identifier"] = "rds-ca-rsa2048-g1"
        initialize(self, *args, **kwargs)

    DBInstance.__init__ = with_default_ca


def _codepipeline_projects_take_no_location() -> None:
    """moto 5.2.5: CreateProject requires a source and artifacts location whatever their type; for
    type CODEPIPELINE, AWS says not to give one (the pipeline's actions supply them):
    https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectSource.html and
    https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectArtifacts.html (location).
    """
    for name in ("_validate_required_params_source", "_validate_required_params_artifacts"):
        validate = getattr(moto.codebuild.responses, name)

        def lenient(params: dict[str, Any], validate: Any = validate) -> None:
            if params.get("type") != "CODEPIPELINE":
                validate(params)

        setattr(moto.codebuild.responses, name, lenient)


CORRECTIONS = (
    _logging_policy_check_takes_any_principal,
    _object_requests_skip_conditional_statements,
    _distribution_may_default_to_an_origin_group,
    _query_logging_takes_the_log_group_arn,
    _scalable_targets_keep_tags,
    _auto_scaling_knows_every_dimension,
    _codepipeline_projects_take_no_location,
    _new_db_instances_get_the_default_ca,
)


def main(argv: list[str]) -> None:
    for correct in CORRECTIONS:
        correct()
    moto.server.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
