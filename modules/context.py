"""What every construct of an environment stack shares, reached through the construct tree instead of passed by hand.

The stack builds its providers, its per-class KMS keys and its alert topics first, then provides one
`StackContext` (`context.provide(stack)`); every construct added after that reads it with
`StackContext.of(self)`, as an AWS CDK construct reads `Stack.of(this)`. So a module's config holds only what
is particular to it, never the names, account, region, providers, keys or topics every module shares.
The constructs the context is made of (providers, keys, alert topics) and those the `state` and `delivery`
stacks use take everything in their config.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformStack
from constructs import Construct

from modules.encryption import EncryptionKeys
from modules.naming import Names
from modules.providers import Providers

_ATTRIBUTE = "_stack_context"


@dataclass(frozen=True)
class StackContext:
    names: Names
    account_id: str
    region: str  # the primary provider's
    providers: Providers
    keys: EncryptionKeys
    alerts_topic_arn: str
    # Alarms on CloudFront and Route 53 metrics live in us-east-1: this topic is there (alerts_topic_arn when the
    # stack's region is us-east-1).
    edge_alerts_topic_arn: str

    def provide(self, stack: TerraformStack) -> None:
        """Make this the context of every construct added to `stack` from now on."""
        if getattr(stack, _ATTRIBUTE, None) is not None:
            raise ValueError(f"{stack.node.path} already provides a StackContext")
        setattr(stack, _ATTRIBUTE, self)

    @staticmethod
    def of(scope: Construct) -> StackContext:
        """The context of the stack `scope` is in."""
        context = getattr(TerraformStack.of(scope), _ATTRIBUTE, None)
        if not isinstance(context, StackContext):
            raise LookupError(f"{scope.node.path}: its stack provides no StackContext (provide one before adding it)")
        return context
