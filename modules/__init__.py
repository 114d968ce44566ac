"""Constructs that emit the DirectFanz platform's Terraform, one concern per module.

Importing this package first registers a stub for ``cdktf_cdktf_provider_aws``.
The real package ``__init__`` imports all 2,212 resource modules (about 15 s
and 600 MB); with the stub in place, ``from cdktf_cdktf_provider_aws.vpc
import Vpc`` loads only the submodules we use. The synthesized JSON is
byte-identical either way (bench/RESULTS.md has the numbers).
"""

import importlib.util
import sys
import types

_PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"


def _register_provider_stub() -> None:
    if _PROVIDER_PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(_PROVIDER_PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{_PROVIDER_PACKAGE} is not installed: pip install -r requirements.txt")
    stub = types.ModuleType(_PROVIDER_PACKAGE)
    stub.__path__ = list(spec.submodule_search_locations)
    stub.__spec__ = spec
    sys.modules[_PROVIDER_PACKAGE] = stub


_register_provider_stub()
