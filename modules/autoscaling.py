"""Application Auto Scaling target tracking, as every scalable tier here uses it."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from constructs import Construct


def track(scope: Construct, id: str, name: str, target: AppautoscalingTarget, metric: str, target_value: float,
          scale_in_cooldown: int, scale_out_cooldown: int) -> AppautoscalingPolicy:
    """Keep a predefined metric (e.g. ECSServiceAverageCPUUtilization) near `target_value` on `target`."""
    return AppautoscalingPolicy(
        scope,
        id,
        name=name,
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
            target_value=target_value,
            predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                predefined_metric_type=metric
            ),
            scale_in_cooldown=scale_in_cooldown,
            scale_out_cooldown=scale_out_cooldown,
        ),
    )
