"""The release pipeline (R8): GitHub -> tests -> images -> staging -> smoke test -> approval -> production.

Two CodePipeline V2 pipelines share one CodeStar connection, one encrypted
artifact bucket and the CodeBuild projects:

- `release`, triggered by pushes to the release branch: unit, integration and
  end-to-end tests (R8.4), both images built once, tagged with the commit and
  pushed to staging's and production's ECR repositories (R8.5), deployed to
  staging, smoke-tested there (R8.6), held for a manual approval, then deployed
  to production (R8.7) and smoke-tested again. QUEUED: releases run in order.
  A deploy (decision 0020) registers each service's newest Terraform revision
  with the new image, updates the service, waits for ECS's blue/green
  deployment and only then records the release in the service's SSM
  parameter, which the environment stack reads.
- `pull-requests`, triggered by pull requests: the same tests, nothing deployed.
  PARALLEL: each pull request's run is independent of the others.

The buildspecs live in `pipeline/buildspecs/` of this repository and are
embedded in the projects, so the application repository need not carry them.
Every role is scoped to the resources it uses; no long-lived keys anywhere
(CodeBuild and CodePipeline assume their roles).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_aws.codebuild_project import (
    CodebuildProject,
    CodebuildProjectArtifacts,
    CodebuildProjectEnvironment,
    CodebuildProjectEnvironmentEnvironmentVariable,
    CodebuildProjectLogsConfig,
    CodebuildProjectLogsConfigCloudwatchLogs,
    CodebuildProjectSource,
)
from cdktf_cdktf_provider_aws.codepipeline import (
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineArtifactStoreEncryptionKey,
    CodepipelineStage,
    CodepipelineStageAction,
    CodepipelineTrigger,
    CodepipelineTriggerGitConfiguration,
    CodepipelineTriggerGitConfigurationPullRequest,
    CodepipelineTriggerGitConfigurationPullRequestBranches,
    CodepipelineTriggerGitConfigurationPush,
    CodepipelineTriggerGitConfigurationPushBranches,
)
from cdktf_cdktf_provider_aws.codestarconnections_connection import CodestarconnectionsConnection
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from modules.iam import Statement, policy_document, service_trust
from modules.log_group import log_group
from modules.naming import Names
from modules.secure_bucket import SecureBucket, SecureBucketConfig

BUILDSPECS = Path(__file__).resolve().parent.parent / "pipeline" / "buildspecs"
# The Amazon Linux 2023 standard image: Node 24 LTS (its default), Docker, the AWS CLI and jq; buildspecs pin Node.
BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:6.0"
DEPLOYMENT_TIMEOUT_MINUTES = 50  # a deployment with prod's 15-minute bake time, within the 60-minute build timeout
# suite -> the application's npm script (its package.json), and the pipeline action that runs it.
TEST_SUITES = {"unit": "test:unit", "integration": "test:integration", "e2e": "test:e2e"}
TEST_ACTIONS = {"unit": "UnitTests", "integration": "IntegrationTests", "e2e": "EndToEndTests"}


@dataclass(frozen=True)
class DeployTarget:
    """One environment the release deploys to; plain names, as the environment stacks create them."""

    environment: str
    cluster_name: str
    services: Mapping[str, str]  # image -> ECS service name, which is also its release task definition's family
    containers: Mapping[str, str]  # image -> container name in the task definition
    repository_urls: Mapping[str, str]  # image -> ECR repository URL
    release_parameters: Mapping[str, str]  # image -> SSM parameter recording the release the service runs
    role_name_prefix: str  # the environment's task and execution roles start with it (iam:PassRole)
    release_variable: str  # the app container's variable naming the release (Sentry)
    smoke_urls: Sequence[str] = ()


@dataclass(frozen=True)
class PipelineConfig:
    names: Names
    account_id: str
    region: str
    repository: str  # owner/name on GitHub
    images: Mapping[str, str]  # image -> the Dockerfile in that repository that builds it
    release_branch: str
    kms_key_arn: str  # artifacts, build logs, the Sentry token
    approval_topic_arn: str
    staging: DeployTarget
    production: DeployTarget
    sentry_org: str
    sentry_project: str


def _literal(text: str) -> str:
    """Text Terraform passes on as written: its JSON strings are templates, so bash's ${...} is escaped as $${...}."""
    return text.replace("${", "$${").replace("%{", "%%{")


class Pipeline(Construct):
    """Exposes `connection_arn`, `release_name`, `pull_requests_name` and `artifact_bucket`."""

    def __init__(self, scope: Construct, id: str, config: PipelineConfig) -> None:
        super().__init__(scope, id)
        self._config = config
        names = config.names
        # Created PENDING: an operator completes the GitHub handshake once in the console (README).
        connection = CodestarconnectionsConnection(self, "github", name=names("github"), provider_type="GitHub")
        self.connection_arn = connection.arn
        self.artifact_bucket = SecureBucket(
            self,
            "artifacts",
            SecureBucketConfig(
                name=names("pipeline-artifacts", config.account_id, limit=63),
                kms_key_arn=config.kms_key_arn,
                noncurrent_version_days=30,
                # Artifacts are copies of the source and image definitions: recreated by re-running a release.
                force_destroy=True,
            ),
        )
        self.sentry_token = SecretsmanagerSecret(
            self,
            "sentry_auth_token",
            name=names.path("delivery", "sentry-auth-token"),
            description="Sentry auth token for source-map upload; set its value once, the build skips upload while empty",
            kms_key_id=config.kms_key_arn,
            recovery_window_in_days=7,
        )

        targets = (config.staging, config.production)
        self._projects: dict[str, CodebuildProject] = {}
        for suite, script in TEST_SUITES.items():
            self._project(suite, "unit.yml" if suite == "unit" else "browser-tests.yml",
                          privileged=suite != "unit", variables={"TEST_SCRIPT": script})
        registry = f"{config.account_id}.dkr.ecr.{config.region}.amazonaws.com"
        repositories = [(t, image) for t in targets for image in config.images]
        self._project(
            "images",
            "images.yml",
            privileged=True,  # docker build needs the Docker daemon
            variables={
                "REGISTRY": registry,
                "IMAGES": ";".join(f"{image}={dockerfile}" for image, dockerfile in config.images.items()),
                "PUSH_TARGETS": ";".join(f"{image},{t.repository_urls[image]}" for t, image in repositories),
                "SENTRY_AUTH_TOKEN_SECRET": self.sentry_token.arn,
                "SENTRY_ORG": config.sentry_org,
                "SENTRY_PROJECT": config.sentry_project,
            },
            statements=[
                {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {
                    "Sid": "PushImages",
                    "Effect": "Allow",
                    "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
                               "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"],
                    "Resource": sorted({self._repository_arn(t.repository_urls[image]) for t, image in repositories}),
                },
                {"Sid": "SentryToken", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                 "Resource": self.sentry_token.arn},
            ],
        )
        for target in targets:
            self._project(
                f"deploy-{target.environment}",
                "deploy.yml",
                privileged=False,
                variables={
                    "CLUSTER": target.cluster_name,
                    "DEPLOY_TARGETS": ";".join(
                        f"{target.services[image]},{target.containers[image]},{target.repository_urls[image]},"
                        f"{target.release_parameters[image]}" for image in config.images
                    ),
                    "RELEASE_VARIABLE": target.release_variable,
                    "TIMEOUT_MINUTES": str(DEPLOYMENT_TIMEOUT_MINUTES),
                },
                statements=self._deploy_statements(target),
            )
            self._project(f"smoke-{target.environment}", "smoke.yml", privileged=False,
                          variables={"SMOKE_URLS": " ".join(target.smoke_urls)})

        role = self._pipeline_role(connection.arn)
        source = self._source_stage(connection.arn)
        tests = CodepipelineStage(name="Test", action=[
            self._build_action(action, suite, "Test") for suite, action in TEST_ACTIONS.items()
        ])
        release = Codepipeline(
            self,
            "release",
            name=names("release"),
            pipeline_type="V2",
            execution_mode="QUEUED",
            role_arn=role.arn,
            artifact_store=[self._artifact_store()],
            trigger=[self._trigger(push=True)],
            stage=[
                source,
                tests,
                CodepipelineStage(name="BuildImages", action=[
                    self._build_action("BuildAndPushImages", "images", "Build")
                ]),
                self._deploy_stage("DeployStaging", config.staging),
                CodepipelineStage(name="Approval", action=[
                    CodepipelineStageAction(
                        name="ApproveProduction",
                        category="Approval",
                        owner="AWS",
                        provider="Manual",
                        version="1",
                        configuration={
                            "NotificationArn": config.approval_topic_arn,
                            "CustomData": "Staging passed its smoke test; approve to deploy commit #{SourceVariables.CommitId} to production.",
                        },
                        timeout_in_minutes=24 * 60,
                    )
                ]),
                self._deploy_stage("DeployProduction", config.production),
            ],
        )
        pull_requests = Codepipeline(
            self,
            "pull_requests",
            name=names("pull-requests"),
            pipeline_type="V2",
            execution_mode="PARALLEL",
            role_arn=role.arn,
            artifact_store=[self._artifact_store()],
            trigger=[self._trigger(push=False)],
            stage=[source, tests],
        )
        self.release_name = release.name
        self.pull_requests_name = pull_requests.name

    # -- CodeBuild --

    def _project(self, name: str, buildspec: str, privileged: bool, variables: Mapping[str, str],
                 statements: Sequence[Statement] = ()) -> None:
        config, names = self._config, self._config.names
        logs = log_group(self, f"{name.replace('-', '_')}_logs", f"/aws/codebuild/{names(name)}", config.kms_key_arn)
        role = IamRole(self, f"{name.replace('-', '_')}_role", name=names("build", name),
                       assume_role_policy=service_trust("codebuild.amazonaws.com",
                                                        conditions={"StringEquals": {"aws:SourceAccount": config.account_id}}))
        artifacts = self.artifact_bucket.arn
        IamRolePolicy(
            self,
            f"{name.replace('-', '_')}_policy",
            role=role.id,
            policy=policy_document([
                {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": f"{logs.arn}:*"},
                {"Sid": "ReadArtifacts", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                 "Resource": f"{artifacts}/*"},
                {"Sid": "ArtifactKey", "Effect": "Allow",
                 "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"],
                 "Resource": config.kms_key_arn},
                *statements,
            ]),
        )
        self._projects[name] = CodebuildProject(
            self,
            name.replace("-", "_"),
            name=names(name),
            service_role=role.arn,
            encryption_key=config.kms_key_arn,
            build_timeout=60,
            source=CodebuildProjectSource(type="CODEPIPELINE", buildspec=_literal((BUILDSPECS / buildspec).read_text())),
            artifacts=CodebuildProjectArtifacts(type="CODEPIPELINE"),
            environment=CodebuildProjectEnvironment(
                compute_type="BUILD_GENERAL1_MEDIUM" if privileged else "BUILD_GENERAL1_SMALL",
                image=BUILD_IMAGE,
                type="LINUX_CONTAINER",
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=privileged,
                environment_variable=[
                    CodebuildProjectEnvironmentEnvironmentVariable(name=key, value=value, type="PLAINTEXT")
                    for key, value in sorted(variables.items())
                ],
            ),
            logs_config=CodebuildProjectLogsConfig(
                cloudwatch_logs=CodebuildProjectLogsConfigCloudwatchLogs(status="ENABLED", group_name=logs.name)
            ),
        )

    def _repository_arn(self, url: str) -> str:
        repository = url.split("/", 1)[1]
        return f"arn:aws:ecr:{self._config.region}:{self._config.account_id}:repository/{repository}"

    def _deploy_statements(self, target: DeployTarget) -> list[Statement]:
        """What a deploy to one environment may do: only that environment's services, images and parameters."""
        region, account = self._config.region, self._config.account_id
        services = sorted(f"arn:aws:ecs:{region}:{account}:service/{target.cluster_name}/{name}"
                          for name in target.services.values())
        return [
            {"Sid": "PushedImages", "Effect": "Allow", "Action": "ecr:DescribeImages",
             "Resource": sorted(self._repository_arn(url) for url in target.repository_urls.values())},
            # RegisterTaskDefinition and DescribeTaskDefinition have no resource-level permissions.
            {"Sid": "TaskDefinitions", "Effect": "Allow",
             "Action": ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"], "Resource": "*"},
            {"Sid": "TagTaskDefinitions", "Effect": "Allow", "Action": "ecs:TagResource",
             "Resource": f"arn:aws:ecs:{region}:{account}:task-definition/*",
             "Condition": {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}},
            {"Sid": "DeployServices", "Effect": "Allow",
             "Action": ["ecs:DescribeServices", "ecs:ListServiceDeployments", "ecs:UpdateService"],
             "Resource": services},
            {"Sid": "PassTaskRoles", "Effect": "Allow", "Action": "iam:PassRole",
             "Resource": f"arn:aws:iam::{account}:role/{target.role_name_prefix}*",
             "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
            {"Sid": "RecordReleases", "Effect": "Allow", "Action": "ssm:PutParameter",
             "Resource": sorted(f"arn:aws:ssm:{region}:{account}:parameter{name}"
                                for name in target.release_parameters.values())},
        ]

    # -- CodePipeline --

    def _artifact_store(self) -> CodepipelineArtifactStore:
        return CodepipelineArtifactStore(
            type="S3",
            location=self.artifact_bucket.name,
            encryption_key=CodepipelineArtifactStoreEncryptionKey(type="KMS", id=self._config.kms_key_arn),
        )

    def _source_stage(self, connection_arn: str) -> CodepipelineStage:
        return CodepipelineStage(name="Source", action=[
            CodepipelineStageAction(
                name="GitHub",
                category="Source",
                owner="AWS",
                provider="CodeStarSourceConnection",
                version="1",
                namespace="SourceVariables",
                output_artifacts=["source"],
                configuration={
                    "ConnectionArn": connection_arn,
                    "FullRepositoryId": self._config.repository,
                    "BranchName": self._config.release_branch,
                    "OutputArtifactFormat": "CODE_ZIP",
                    # Triggers below decide what starts a run; no second, implicit trigger.
                    "DetectChanges": "false",
                },
            )
        ])

    def _trigger(self, push: bool) -> CodepipelineTrigger:
        branch = [self._config.release_branch]
        git = (
            CodepipelineTriggerGitConfiguration(
                source_action_name="GitHub",
                push=[CodepipelineTriggerGitConfigurationPush(
                    branches=CodepipelineTriggerGitConfigurationPushBranches(includes=branch))],
            )
            if push
            else CodepipelineTriggerGitConfiguration(
                source_action_name="GitHub",
                pull_request=[CodepipelineTriggerGitConfigurationPullRequest(
                    events=["OPEN", "UPDATED"],
                    branches=CodepipelineTriggerGitConfigurationPullRequestBranches(includes=branch))],
            )
        )
        return CodepipelineTrigger(provider_type="CodeStarSourceConnection", git_configuration=git)

    def _build_action(self, name: str, project: str, category: str, run_order: int = 1) -> CodepipelineStageAction:
        return CodepipelineStageAction(
            name=name,
            category=category,
            owner="AWS",
            provider="CodeBuild",
            version="1",
            run_order=run_order,
            input_artifacts=["source"],
            configuration={
                "ProjectName": self._projects[project].name,
                "EnvironmentVariables": '[{"name":"COMMIT_ID","value":"#{SourceVariables.CommitId}","type":"PLAINTEXT"}]',
            },
        )

    def _deploy_stage(self, name: str, target: DeployTarget) -> CodepipelineStage:
        """Both services (decision 0020: a CodeBuild deploy, not the ECS action), then the smoke test."""
        return CodepipelineStage(name=name, action=[
            self._build_action("Deploy", f"deploy-{target.environment}", "Build"),
            self._build_action("SmokeTest", f"smoke-{target.environment}", "Test", run_order=2),
        ])

    def _pipeline_role(self, connection_arn: str) -> IamRole:
        config = self._config
        account = config.account_id
        role = IamRole(self, "pipeline_role", name=config.names("pipeline"),
                       assume_role_policy=service_trust("codepipeline.amazonaws.com",
                                                        conditions={"StringEquals": {"aws:SourceAccount": account}}))
        artifacts = self.artifact_bucket.arn
        IamRolePolicy(
            self,
            "pipeline_policy",
            role=role.id,
            policy=policy_document([
                {"Sid": "Artifacts", "Effect": "Allow",
                 "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], "Resource": f"{artifacts}/*"},
                {"Sid": "ArtifactBucket", "Effect": "Allow",
                 "Action": ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"], "Resource": artifacts},
                {"Sid": "ArtifactKey", "Effect": "Allow",
                 "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                 "Resource": config.kms_key_arn},
                {"Sid": "GitHub", "Effect": "Allow",
                 "Action": ["codeconnections:UseConnection", "codestar-connections:UseConnection"],
                 "Resource": connection_arn},
                {"Sid": "Builds", "Effect": "Allow",
                 "Action": ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"],
                 "Resource": [project.arn for project in self._projects.values()]},
                {"Sid": "Approvals", "Effect": "Allow", "Action": "sns:Publish", "Resource": config.approval_topic_arn},
            ]),
        )
        return role
