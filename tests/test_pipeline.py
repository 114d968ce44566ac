"""The release pipeline and its buildspecs (R8.1-R8.7, R7.7 source maps)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from modules.ecs_service import PLACEHOLDER_IMAGE, RELEASE_VARIABLE
from modules.pipeline import BUILD_IMAGE, BUILDSPECS, TEST_SUITES
from stacks.services import IMAGES, public_endpoints
from tests.conftest import STACK_NAMES
from tests.stack_json import StackJson, ref

RELEASE_STAGES = ["Source", "Test", "BuildImages", "DeployStaging", "Approval", "DeployProduction"]
KEY = ref("aws_kms_key", "key_key", "arn")


@pytest.fixture
def delivery(stacks: dict[str, StackJson]) -> StackJson:
    return stacks["delivery"]


def _pipeline(delivery: StackJson, name: str) -> dict:
    return delivery.resource("aws_codepipeline", f"pipeline_{name}")


def _stages(pipeline: dict) -> dict[str, list[dict]]:
    return {stage["name"]: stage["action"] for stage in pipeline["stage"]}


def _project(delivery: StackJson, action: dict) -> dict:
    logical_id = re.fullmatch(r"\$\{aws_codebuild_project\.(\w+)\.name\}", action["configuration"]["ProjectName"]).group(1)
    return delivery.resource("aws_codebuild_project", logical_id)


def _variables(project: dict) -> dict[str, str]:
    return {v["name"]: v["value"] for v in project["environment"]["environment_variable"]}


def _buildspec(project: dict) -> dict:
    """The buildspec CodeBuild receives: Terraform turns the escaped $${ and %%{ back into ${ and %{."""
    text = project["source"]["buildspec"]
    assert not re.search(r"(?<!\$)\$\{|(?<!%)%\{", text), "an unescaped ${ or %{ would be a Terraform template"
    return yaml.safe_load(text.replace("$${", "${").replace("%%{", "%{"))


def _commands(buildspec: dict) -> list[str]:
    return [command for phase in buildspec["phases"].values() for command in phase.get("commands", [])]


@pytest.mark.requirement("R8.1")
def test_one_codepipeline_v2_for_the_account_in_the_delivery_stack(stacks: dict[str, StackJson], delivery: StackJson) -> None:
    for name in STACK_NAMES:
        if name != "delivery":
            assert stacks[name].resources("aws_codepipeline") == {}, name
    release = _pipeline(delivery, "release")
    assert release["pipeline_type"] == "V2" and release["execution_mode"] == "QUEUED"
    assert release["role_arn"] == ref("aws_iam_role", "pipeline_pipeline_role", "arn")
    store = release["artifact_store"][0]
    assert store["type"] == "S3" and store["location"] == ref("aws_s3_bucket", "pipeline_artifacts_bucket", "bucket")
    assert store["encryption_key"] == {"type": "KMS", "id": KEY}
    sse = delivery.resource("aws_s3_bucket_server_side_encryption_configuration", "pipeline_artifacts_encryption")
    assert sse["rule"][0]["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}


@pytest.mark.requirement("R8.3")
def test_github_pushes_to_main_release_and_pull_requests_are_tested(delivery: StackJson, configs) -> None:
    settings = configs["prod"].delivery
    connection = delivery.resource("aws_codestarconnections_connection", "pipeline_github")
    assert connection["provider_type"] == "GitHub"
    for name in ("release", "pull_requests"):
        source = _stages(_pipeline(delivery, name))["Source"][0]
        assert source["provider"] == "CodeStarSourceConnection" and source["namespace"] == "SourceVariables"
        assert source["configuration"]["ConnectionArn"] == ref("aws_codestarconnections_connection", "pipeline_github", "arn")
        assert source["configuration"]["FullRepositoryId"] == settings.repository
    release_trigger = _pipeline(delivery, "release")["trigger"][0]
    assert release_trigger["provider_type"] == "CodeStarSourceConnection"
    assert release_trigger["git_configuration"] == {
        "source_action_name": "GitHub", "push": [{"branches": {"includes": [settings.release_branch]}}]}
    pull_requests = _pipeline(delivery, "pull_requests")
    assert pull_requests["pipeline_type"] == "V2" and pull_requests["execution_mode"] == "PARALLEL"
    assert pull_requests["trigger"][0]["git_configuration"]["pull_request"] == [
        {"events": ["OPEN", "UPDATED"], "branches": {"includes": [settings.release_branch]}}]


@pytest.mark.requirement("R8.6", "R8.7")
def test_release_stages_run_staging_then_approval_then_production(delivery: StackJson) -> None:
    release = _pipeline(delivery, "release")
    assert [stage["name"] for stage in release["stage"]] == RELEASE_STAGES
    # Pull requests are tested, never deployed.
    pull_requests = _pipeline(delivery, "pull_requests")
    assert [stage["name"] for stage in pull_requests["stage"]] == ["Source", "Test"]
    assert all(a["category"] != "Deploy" for stage in pull_requests["stage"] for a in stage["action"])


@pytest.mark.requirement("R8.6")
@pytest.mark.parametrize(("stage", "environment"), [("DeployStaging", "staging"), ("DeployProduction", "prod")])
def test_each_deploy_updates_both_services_then_smoke_tests_them(delivery: StackJson, configs, stage: str,
                                                                 environment: str) -> None:
    actions = _stages(_pipeline(delivery, "release"))[stage]
    assert [a["name"] for a in actions] == ["Deploy", "SmokeTest"]
    deploy, smoke = actions
    assert deploy["provider"] == "CodeBuild" and deploy["run_order"] == 1
    variables = _variables(_project(delivery, deploy))
    assert variables["CLUSTER"] == f"directfanz-{environment}-cluster"
    targets = [target.split(",") for target in variables["DEPLOY_TARGETS"].split(";")]
    assert {service for service, _, _, _ in targets} == {f"directfanz-{environment}-{i}" for i in IMAGES}
    assert smoke["run_order"] == 2  # after both deploys finished
    project = _project(delivery, smoke)
    expected = [endpoint.url for endpoint in public_endpoints(configs[environment].domain)]
    assert _variables(project)["SMOKE_URLS"].split() == expected
    assert any("curl --fail" in command and '"$url"' in command for command in _commands(_buildspec(project)))


@pytest.mark.requirement("R8.6", "R8.7", "R1.7")
@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_a_deploy_runs_the_new_image_with_terraforms_settings_and_then_records_the_release(
        delivery: StackJson, configs, environment: str) -> None:
    """The pipeline changes the image and the release, nothing else, and never drops Terraform's settings (0020).

    Not CodePipeline's ECS action: it copies the revision the service runs
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECS.html), which is the
    placeholder before the first release (decision 0021), and its image definitions file carries only a
    container name and an image URI (https://docs.aws.amazon.com/codepipeline/latest/userguide/file-reference.html),
    so it could neither drop the placeholder's command nor set the release variable. The deploy copies the
    newest revision of the service's family, "the family for the latest ACTIVE revision"
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html), which carries
    Terraform's settings; updates the service (ECS's blue/green deployment); waits for the service deployment to
    end, SUCCESSFUL or a rollback state
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html); and only then
    writes the release parameter the environment stack reads, so a rolled-back image is never re-deployed.
    """
    config = configs[environment]
    project = delivery.resource("aws_codebuild_project", f"pipeline_deploy_{environment}")
    variables = _variables(project)
    assert variables["RELEASE_VARIABLE"] == RELEASE_VARIABLE
    assert 0 < int(variables["TIMEOUT_MINUTES"]) < project["build_timeout"]
    registry = f"{config.account_id}.dkr.ecr.{config.region}.amazonaws.com"
    for service, container, repository, parameter in (t.split(",") for t in variables["DEPLOY_TARGETS"].split(";")):
        image = service.removeprefix(f"directfanz-{environment}-")
        assert (container, repository) == (image, f"{registry}/directfanz-{environment}-{image}")
        assert parameter == f"/directfanz/{environment}/release/{image}"
    script = "\n".join(_commands(_buildspec(project)))
    steps = [
        'aws ecr describe-images --repository-name "${repository#*/}" --image-ids imageTag="$COMMIT_ID"',
        'aws ecs describe-task-definition --task-definition "$service" --include TAGS',
        ".image = $image",
        "{name: $variable, value: $release}",
        "aws ecs register-task-definition --cli-input-json",
        'aws ecs update-service --cluster "$CLUSTER" --service "$service" --task-definition "$revision"',
        'aws ecs list-service-deployments --cluster "$CLUSTER" --service "$service" --created-at "after=$started"',
        'aws ssm put-parameter --name "$parameter" --value "$COMMIT_ID" --overwrite',
    ]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions), "the release is recorded last, after a successful deployment"
    success = script.index("SUCCESSFUL)")
    assert success < positions[-1] < script.index("None|PENDING|IN_PROGRESS)")  # recorded on success only
    assert "exit \"$failed\"" in script
    # Exactly that environment's services, images, roles and parameters.
    policy = {s["Sid"]: s for s in json.loads(
        delivery.resource("aws_iam_role_policy", f"pipeline_deploy_{environment}_policy")["policy"])["Statement"]}
    region, account = config.region, config.account_id
    assert policy["DeployServices"]["Action"] == ["ecs:DescribeServices", "ecs:ListServiceDeployments",
                                                  "ecs:UpdateService"]
    assert policy["DeployServices"]["Resource"] == sorted(
        f"arn:aws:ecs:{region}:{account}:service/directfanz-{environment}-cluster/directfanz-{environment}-{i}"
        for i in IMAGES)
    assert policy["RecordReleases"] == {
        "Sid": "RecordReleases", "Effect": "Allow", "Action": "ssm:PutParameter",
        "Resource": sorted(f"arn:aws:ssm:{region}:{account}:parameter/directfanz/{environment}/release/{i}"
                           for i in IMAGES)}
    assert policy["PassTaskRoles"]["Resource"] == f"arn:aws:iam::{account}:role/directfanz-{environment}-*"
    assert policy["PassTaskRoles"]["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert policy["PushedImages"]["Resource"] == sorted(
        f"arn:aws:ecr:{region}:{account}:repository/directfanz-{environment}-{i}" for i in IMAGES)


@pytest.mark.requirement("R8.7")
def test_production_waits_for_a_manual_approval_that_is_announced(delivery: StackJson) -> None:
    approval = _stages(_pipeline(delivery, "release"))["Approval"]
    assert len(approval) == 1
    action = approval[0]
    assert (action["category"], action["owner"], action["provider"]) == ("Approval", "AWS", "Manual")
    assert action["configuration"]["NotificationArn"] == ref("aws_sns_topic", "approvals_topic", "arn")
    topic = delivery.resource("aws_sns_topic", "approvals_topic")
    assert topic["kms_master_key_id"] == KEY


@pytest.mark.requirement("R8.2", "R8.4")
def test_unit_integration_and_e2e_tests_run_in_codebuild_on_node_lts(delivery: StackJson) -> None:
    for name in ("release", "pull_requests"):
        tests = _stages(_pipeline(delivery, name))["Test"]
        assert [a["name"] for a in tests] == ["UnitTests", "IntegrationTests", "EndToEndTests"]
        scripts = []
        for action in tests:
            assert action["provider"] == "CodeBuild" and action["run_order"] == 1 and action["input_artifacts"] == ["source"]
            project = _project(delivery, action)
            buildspec = _buildspec(project)
            commands = _commands(buildspec)
            assert "npm ci" in commands and "npx prisma generate" in commands
            script = _variables(project).get("TEST_SCRIPT", "test:unit")
            if script == "test:unit":
                assert "npm run test:unit -- --ci" in buildspec["phases"]["build"]["commands"]
            else:
                assert 'npm run "$TEST_SCRIPT"' in buildspec["phases"]["build"]["commands"]
                assert "npm run build" in buildspec["phases"]["build"]["commands"]
                assert "npx prisma db push --skip-generate" in commands
            scripts.append(script)
        assert scripts == list(TEST_SUITES.values())


@pytest.mark.requirement("R8.2")
def test_every_project_carries_its_buildspec_file_verbatim(delivery: StackJson) -> None:
    projects = delivery.resources("aws_codebuild_project")
    embedded = {yaml.safe_dump(_buildspec(project)) for project in projects.values()}
    assert embedded == {yaml.safe_dump(yaml.safe_load(path.read_text())) for path in BUILDSPECS.glob("*.yml")}
    images = _buildspec(delivery.resource("aws_codebuild_project", "pipeline_images"))
    assert any('"${pairs[@]}"' in command for command in _commands(images))  # bash expansion survives


@pytest.mark.requirement("R8.2")
def test_every_buildspec_is_valid_and_builds_on_node_24_lts() -> None:
    """Builds, images and the placeholder run Node 24 LTS (issue 13 fault 9; decision 0015).

    Node 20 ended on 2026-04-30 and 22 ends on 2027-04-30. CodeBuild's runtime-versions accept `nodejs: 24`
    (https://docs.aws.amazon.com/codebuild/latest/userguide/runtime-versions.html); the Amazon Linux 2023
    x86_64 standard:6.0 image is one of the images that offer it
    (https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html; its definition in
    aws/aws-codebuild-docker-images, al/x86_64/standard/6.0, installs Node 24 and makes it the default).
    """
    files = sorted(BUILDSPECS.glob("*.yml"))
    assert [f.name for f in files] == ["browser-tests.yml", "deploy.yml", "images.yml", "smoke.yml", "unit.yml"]
    pinned = []
    for path in files:
        buildspec = yaml.safe_load(path.read_text())
        assert buildspec["version"] == 0.2 and set(buildspec["phases"]) <= {"install", "pre_build", "build", "post_build"}
        node = buildspec["phases"].get("install", {}).get("runtime-versions", {}).get("nodejs")
        if node is not None:
            pinned.append(node)
    assert pinned and set(pinned) == {24}
    assert BUILD_IMAGE == "aws/codebuild/amazonlinux-x86_64-standard:6.0"
    images = yaml.safe_load((BUILDSPECS / "images.yml").read_text())
    for image in (images["env"]["variables"]["NODE_LTS_IMAGE"], PLACEHOLDER_IMAGE):
        assert image == "public.ecr.aws/docker/library/node:24-alpine"


@pytest.mark.requirement("R8.5")
def test_both_images_are_built_once_tagged_with_the_commit_and_pushed_to_staging_and_production(
        delivery: StackJson, configs) -> None:
    action = _stages(_pipeline(delivery, "release"))["BuildImages"][0]
    variables = json.loads(action["configuration"]["EnvironmentVariables"])
    assert variables == [{"name": "COMMIT_ID", "value": "#{SourceVariables.CommitId}", "type": "PLAINTEXT"}]
    project = _project(delivery, action)
    assert project["environment"]["privileged_mode"] is True
    settings = _variables(project)
    assert settings["IMAGES"] == "web=Dockerfile;websocket=Dockerfile.websocket"
    targets = [target.split(",") for target in settings["PUSH_TARGETS"].split(";")]
    registry = f"{configs['prod'].account_id}.dkr.ecr.{configs['prod'].region}.amazonaws.com"
    assert targets == [[i, f"{registry}/directfanz-{e}-{i}"] for e in ("staging", "prod") for i in IMAGES]
    commands = "\n".join(_commands(_buildspec(project)))
    assert 'docker build --file "$dockerfile"' in commands and '--tag "$image:$COMMIT_ID"' in commands
    assert 'docker push "$repository:$COMMIT_ID"' in commands
    # The build may push to exactly those repositories.
    policy = json.loads(delivery.resource("aws_iam_role_policy", "pipeline_images_policy")["policy"])
    push = next(s for s in policy["Statement"] if s["Sid"] == "PushImages")
    assert push["Resource"] == sorted(
        f"arn:aws:ecr:{configs['prod'].region}:{configs['prod'].account_id}:repository/directfanz-{e}-{i}"
        for e in ("staging", "prod") for i in IMAGES)


@pytest.mark.requirement("R7.7")
def test_source_maps_go_to_sentry_only_when_the_token_is_set(delivery: StackJson) -> None:
    project = delivery.resource("aws_codebuild_project", "pipeline_images")
    secret_arn = ref("aws_secretsmanager_secret", "pipeline_sentry_auth_token", "arn")
    assert _variables(project)["SENTRY_AUTH_TOKEN_SECRET"] == secret_arn
    secret = delivery.resource("aws_secretsmanager_secret", "pipeline_sentry_auth_token")
    assert secret["kms_key_id"] == KEY
    upload = next(c for c in _commands(_buildspec(project)) if "@sentry/cli" in c)
    assert upload.lstrip().startswith('if [ -n "$SENTRY_AUTH_TOKEN" ]; then')
    assert '--release "$COMMIT_ID"' in upload
    policy = json.loads(delivery.resource("aws_iam_role_policy", "pipeline_images_policy")["policy"])
    read = next(s for s in policy["Statement"] if s["Sid"] == "SentryToken")
    assert read == {"Sid": "SentryToken", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn}


# The only actions AWS offers no resource-level permission for, and which the pipeline needs.
UNSCOPED_ACTIONS = {"ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"}


@pytest.mark.requirement("R8.1", "R8.2")
def test_pipeline_roles_are_least_privilege_and_no_long_lived_keys_exist(stacks: dict[str, StackJson],
                                                                          delivery: StackJson, configs) -> None:
    for stack in stacks.values():
        assert not stack.resources("aws_iam_access_key") and not stack.resources("aws_iam_user"), stack.name
    account = configs["prod"].account_id
    for logical_id, role in delivery.resources("aws_iam_role").items():
        trust = json.loads(role["assume_role_policy"])["Statement"]
        assert len(trust) == 1 and trust[0]["Principal"]["Service"] in ("codebuild.amazonaws.com", "codepipeline.amazonaws.com")
        assert trust[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}, logical_id
    for logical_id, policy in delivery.resources("aws_iam_role_policy").items():
        for statement in json.loads(policy["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all(not action.endswith("*") or action.startswith("kms:") for action in actions), logical_id
            if statement["Resource"] == "*":
                assert set(actions) <= UNSCOPED_ACTIONS, (logical_id, actions)
    # CodePipeline itself deploys nothing: the per-environment deploy builds do (their own test above).
    pipeline = json.loads(delivery.resource("aws_iam_role_policy", "pipeline_pipeline_policy")["policy"])
    assert not [s for s in pipeline["Statement"] if any(a.startswith(("ecs:", "iam:")) for a in
                                                       (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]


def test_deploy_targets_name_the_services_and_repositories_the_environments_create(stacks: dict[str, StackJson]) -> None:
    for environment in ("staging", "prod"):
        stack = stacks[environment]
        services = {s["name"] for s in stack.resources("aws_ecs_service").values()}
        assert {f"directfanz-{environment}-{image}" for image in IMAGES} <= services
        clusters = {c["name"] for c in stack.resources("aws_ecs_cluster").values()}
        assert f"directfanz-{environment}-cluster" in clusters
        repositories = {r["name"] for r in stack.resources("aws_ecr_repository").values()}
        assert {f"directfanz-{environment}-{image}" for image in IMAGES} <= repositories
        parameters = {p["name"] for p in stack.resources("aws_ssm_parameter").values()}
        assert {f"/directfanz/{environment}/release/{image}" for image in IMAGES} <= parameters
        families = {t["family"] for t in stack.resources("aws_ecs_task_definition").values()}
        assert {f"directfanz-{environment}-{image}" for image in IMAGES} <= families
