"""Maps the fixed top-level folders onto the ``connfacade`` namespace.

``server/`` imports as ``connfacade.server`` and ``client/`` as
``connfacade.client``; the generated stubs under ``client/_generated`` import as
``connfacade.<area>.v1`` because that is the proto package they were generated
from. ``packages.find`` in pyproject.toml cannot remap folders, so the package
list is computed here.
"""

from setuptools import find_packages, setup

ROOTS = {
    "connfacade.server": "server",
    "connfacade.client": "client",
    "connfacade.apprunner": "client/_generated/connfacade/apprunner",
    "connfacade.codestar": "client/_generated/connfacade/codestar",
}


def _packages() -> list[str]:
    found: list[str] = []
    for name, folder in ROOTS.items():
        found.append(name)
        found.extend(f"{name}.{sub}" for sub in find_packages(folder, exclude=["_generated", "_generated.*"]))
    return found


setup(packages=_packages(), package_dir=ROOTS)
