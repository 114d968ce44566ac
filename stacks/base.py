"""The base of every stack: readable, stable logical ids."""

from __future__ import annotations

import jsii
from cdktf import TerraformElement, TerraformStack
from constructs import Construct, Node


class PlatformStack(TerraformStack):
    """Logical ids are the construct path below the stack, joined with '_'.

    cdktf's default appends a hash; plain paths keep checkov suppressions, plan
    output and state addresses readable. Construct ids are unique among
    siblings, and duplicates across paths are refused here rather than merged.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self._logical_ids: dict[str, str] = {}

    @jsii.member(jsii_name="allocateLogicalId")
    def _allocate_logical_id(self, element: TerraformElement | Node) -> str:
        # Assets ask with their construct's Node (their files go under assets/<logical id>/).
        path = element.path if isinstance(element, Node) else element.node.path
        logical_id = "_".join(path.split("/")[1:]).replace("-", "_")
        owner = self._logical_ids.setdefault(logical_id, path)
        if owner != path:
            raise ValueError(f"logical id {logical_id!r} is shared by {owner} and {path}")
        return logical_id
