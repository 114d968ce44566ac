"""AWS Backup of the database, with a copy in the second region and restore tests (R2.4, R11.4).

RDS keeps its own automated backups (point-in-time recovery for `backup_retention_days`).
AWS Backup adds what those lack: a daily recovery point in a vault under the
backup key, copied to a vault in the second region under the replica key, and
a restore testing plan that restores the latest recovery point every week into
the data subnets and reports whether it came up (automated backup verification).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan,
    BackupPlanRule,
    BackupPlanRuleCopyAction,
    BackupPlanRuleCopyActionLifecycle,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_restore_testing_plan import (
    BackupRestoreTestingPlan,
    BackupRestoreTestingPlanRecoveryPointSelection,
)
from cdktf_cdktf_provider_aws.backup_restore_testing_selection import BackupRestoreTestingSelection
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.context import StackContext
from modules.database import Database
from modules.iam import service_trust

DAILY_SCHEDULE = "cron(0 5 * * ? *)"  # 05:00 UTC, after RDS's own 03:00-04:00 backup window
RESTORE_TEST_SCHEDULE = "cron(0 8 ? * TUE *)"  # weekly, in working hours, so a failure is seen
RESTORE_VALIDATION_HOURS = 4  # how long the restored copy lives before AWS Backup deletes it
MANAGED_POLICIES = ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores")


@dataclass(frozen=True)
class BackupConfig:
    retention_days: int
    database: Database
    database_security_group_id: str  # restored copies are reachable as the database is


class Backup(Construct):
    """Exposes `vault_arn`, `replica_vault_arn`, `plan_id` and `restore_testing_plan_name`."""

    def __init__(self, scope: Construct, id: str, config: BackupConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        names, keys = context.names, context.keys
        vault = BackupVault(self, "vault", name=names("backups"), kms_key_arn=keys.backups.arn)
        # Copies in the second region, encrypted there.
        replica_vault = BackupVault(self, "replica_vault", name=names("backups", "replica"), kms_key_arn=keys.replica.arn,
                                    provider=context.providers.replica)
        self.vault_arn = vault.arn
        self.replica_vault_arn = replica_vault.arn

        role = IamRole(self, "role", name=names("backup"), assume_role_policy=service_trust("backup.amazonaws.com"))
        for policy in MANAGED_POLICIES:
            IamRolePolicyAttachment(self, f"role_{policy.removeprefix('AWSBackupServiceRolePolicyFor').lower()}",
                                    role=role.name,
                                    policy_arn=f"arn:aws:iam::aws:policy/service-role/{policy}")

        plan = BackupPlan(
            self,
            "plan",
            name=names("database"),
            rule=[
                BackupPlanRule(
                    rule_name="daily",
                    target_vault_name=vault.name,
                    schedule=DAILY_SCHEDULE,
                    start_window=60,
                    completion_window=480,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=config.retention_days),
                    copy_action=[
                        BackupPlanRuleCopyAction(
                            destination_vault_arn=replica_vault.arn,
                            lifecycle=BackupPlanRuleCopyActionLifecycle(delete_after=config.retention_days),
                        )
                    ],
                )
            ],
        )
        self.plan_id = plan.id
        BackupSelection(self, "selection", name=names("database"), plan_id=plan.id, iam_role_arn=role.arn,
                        resources=[config.database.cluster_arn])

        # Restore testing names allow letters, digits and underscores only.
        plan_name = names("database").replace("-", "_")
        testing = BackupRestoreTestingPlan(
            self,
            "restore_testing_plan",
            name=plan_name,
            schedule_expression=RESTORE_TEST_SCHEDULE,
            start_window_hours=8,
            recovery_point_selection=[
                BackupRestoreTestingPlanRecoveryPointSelection(
                    algorithm="LATEST_WITHIN_WINDOW",
                    include_vaults=[vault.arn],
                    recovery_point_types=["SNAPSHOT"],
                    selection_window_days=7,
                )
            ],
        )
        self.restore_testing_plan_name = testing.name
        BackupRestoreTestingSelection(
            self,
            "restore_testing_selection",
            name=plan_name,
            restore_testing_plan_name=testing.name,
            protected_resource_type="Aurora",
            protected_resource_arns=[config.database.cluster_arn],
            iam_role_arn=role.arn,
            validation_window_hours=RESTORE_VALIDATION_HOURS,
            # The restored copy lands where the database lives, reachable by nothing but its proxy group.
            restore_metadata_overrides={
                "dbSubnetGroupName": config.database.subnet_group_name,
                "vpcSecurityGroupIds": f'["{config.database_security_group_id}"]',
            },
        )
