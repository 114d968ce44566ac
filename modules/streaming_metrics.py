"""Viewer analytics and channel health for live streaming (R5.7).

- A dashboard: per channel active outputs, input loss and dropped frames
  (AWS/MediaLive), requests and bytes out of the streaming distribution
  (AWS/CloudFront, reported in us-east-1), viewer joins and leaves, and the
  VOD conversions waiting in the dead-letter queue.
- Viewer joins and leaves come from the WebSocket service's structured logs
  (`{"event": "viewer_join" | "viewer_leave", ...}`, docs/streaming.md)
  through metric filters.
- Alarms for every channel (input lost, outputs down, frames dropped) and for
  failed VOD submissions, to the alerts topic. Idle channels publish no
  data points: missing data is "not breaching", so only a running channel alarms.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from modules.context import StackContext

VIEWER_NAMESPACE = "DirectFanz/Streaming"
VIEWER_EVENTS = {"ViewerJoins": "viewer_join", "ViewerLeaves": "viewer_leave"}
PIPELINE = "0"  # single-pipeline channels report on pipeline 0 only
CLOUDFRONT_REGION = "us-east-1"


@dataclass(frozen=True)
class ChannelAlarm:
    id: str
    metric: str
    statistic: str
    comparison: str
    threshold: float
    description: str
    by_output_group: bool = False


CHANNEL_ALARMS = (
    ChannelAlarm("input_loss", "InputLossSeconds", "Sum", "GreaterThanThreshold", 10,
                 "the creator's stream has been missing for more than 10 s a minute"),
    ChannelAlarm("outputs_down", "ActiveOutputs", "Minimum", "LessThanThreshold", 1,
                 "the HLS output is not publishing to the origin", by_output_group=True),
    ChannelAlarm("dropped_frames", "DroppedFrames", "Sum", "GreaterThanThreshold", 30,
                 "the encoder is dropping frames (viewers see stutter)"),
)


@dataclass(frozen=True)
class StreamingMetricsConfig:
    channel_ids: Sequence[str]
    channel_names: Sequence[str]
    hls_output_group: str
    distribution_id: str
    vod_dead_letter_queue_name: str
    # Where the app logs viewer joins and leaves (the WebSocket service's log group).
    viewer_log_group_name: str


class StreamingMetrics(Construct):
    """Exposes `dashboard_name` and `alarm_names`."""

    def __init__(self, scope: Construct, id: str, config: StreamingMetricsConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        self._context = context = StackContext.of(self)
        names = context.names
        self._count_viewers(config.viewer_log_group_name)

        self.alarm_names: list[str] = []
        for index, (channel_id, channel_name) in enumerate(zip(config.channel_ids, config.channel_names, strict=True), start=1):
            for alarm in CHANNEL_ALARMS:
                dimensions = {"ChannelId": channel_id, "Pipeline": PIPELINE}
                if alarm.by_output_group:
                    dimensions["OutputGroupName"] = config.hls_output_group
                self._alarm(
                    f"channel_{index:02d}_{alarm.id}",
                    names("live", f"{index:02d}", alarm.id.replace("_", "-")),
                    f"{channel_name}: {alarm.description}",
                    namespace="AWS/MediaLive", metric=alarm.metric, statistic=alarm.statistic,
                    comparison=alarm.comparison, threshold=alarm.threshold, dimensions=dimensions,
                )
        self._alarm(
            "vod_dead_letters",
            names("vod-submit-failed"),
            "a recording could not be submitted for VOD conversion: replay it from the dead-letter queue",
            namespace="AWS/SQS", metric="ApproximateNumberOfMessagesVisible", statistic="Maximum",
            comparison="GreaterThanThreshold", threshold=0,
            dimensions={"QueueName": config.vod_dead_letter_queue_name},
        )
        dashboard = CloudwatchDashboard(
            self, "dashboard", dashboard_name=names("streaming"), dashboard_body=self._dashboard_body()
        )
        self.dashboard_name = dashboard.dashboard_name

    def _count_viewers(self, log_group_name: str) -> None:
        for metric, event in VIEWER_EVENTS.items():
            CloudwatchLogMetricFilter(
                self,
                f"{event}s",
                name=self._context.names(event.replace("_", "-") + "s"),
                log_group_name=log_group_name,
                pattern=f'{{ $.event = "{event}" }}',
                metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                    name=metric, namespace=VIEWER_NAMESPACE, value="1", default_value="0", unit="Count"
                ),
            )

    def _alarm(self, id: str, name: str, description: str, *, namespace: str, metric: str, statistic: str,
               comparison: str, threshold: float, dimensions: dict[str, str]) -> None:
        CloudwatchMetricAlarm(
            self,
            id,
            alarm_name=name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            statistic=statistic,
            dimensions=dimensions,
            period=60,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=comparison,
            threshold=threshold,
            treat_missing_data="notBreaching",
            alarm_actions=[self._context.alerts_topic_arn],
            ok_actions=[self._context.alerts_topic_arn],
        )
        self.alarm_names.append(name)

    def _dashboard_body(self) -> str:
        config, region = self.config, self._context.region

        def per_channel(metric: str, stat: str, output_group: bool = False) -> list[list[Any]]:
            rows = []
            for channel_id, channel_name in zip(config.channel_ids, config.channel_names, strict=True):
                dims = ["ChannelId", channel_id, "Pipeline", PIPELINE]
                if output_group:
                    dims += ["OutputGroupName", config.hls_output_group]
                rows.append(["AWS/MediaLive", metric, *dims, {"stat": stat, "label": channel_name}])
            return rows

        def widget(title: str, metrics: list[list[Any]], region: str, x: int, y: int, **extra: Any) -> dict[str, Any]:
            return {
                "type": "metric", "x": x, "y": y, "width": 12, "height": 6,
                "properties": {"title": title, "region": region, "metrics": metrics, "period": 60, "view": "timeSeries",
                               **extra},
            }

        distribution = ["DistributionId", config.distribution_id, "Region", "Global"]
        viewers: list[list[Any]] = [
            [VIEWER_NAMESPACE, "ViewerJoins", {"id": "joins", "stat": "Sum", "label": "joins"}],
            [VIEWER_NAMESPACE, "ViewerLeaves", {"id": "leaves", "stat": "Sum", "label": "leaves"}],
            [{"expression": "RUNNING_SUM(joins - leaves)", "id": "watching", "label": "watching (joins - leaves)"}],
        ]
        widgets = [
            widget("Channels: active outputs", per_channel("ActiveOutputs", "Minimum", output_group=True), region, 0, 0),
            widget("Channels: input loss (s)", per_channel("InputLossSeconds", "Sum"), region, 12, 0),
            widget("Channels: dropped frames", per_channel("DroppedFrames", "Sum"), region, 0, 6),
            widget("Viewers: joins and leaves", viewers, region, 12, 6),
            widget("Streaming CDN: requests", [["AWS/CloudFront", "Requests", *distribution, {"stat": "Sum"}]],
                   CLOUDFRONT_REGION, 0, 12),
            widget("Streaming CDN: egress (bytes)",
                   [["AWS/CloudFront", "BytesDownloaded", *distribution, {"stat": "Sum"}]], CLOUDFRONT_REGION, 12, 12),
            widget("VOD submissions waiting in the dead-letter queue",
                   [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", config.vod_dead_letter_queue_name,
                     {"stat": "Maximum"}]], region, 0, 18),
        ]
        return json.dumps({"widgets": widgets}, sort_keys=True)
