"""The argparse type each area's `register` receives (argparse does not export it publicly)."""

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time on Python 3.11
    Subcommands = argparse._SubParsersAction
