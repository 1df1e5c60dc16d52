"""Print the declared minimum versions of sktransfer's dependencies as pins.

Reads ``pyproject.toml``: every ``name>=X`` of the core dependencies and of
the extras named on the command line becomes ``name==X``, so a fresh
environment installs exactly the floors the package declares. torch is
pinned by ``--torch`` instead (its floor is documented, not tested: other
torch specs pull gigabytes of CUDA packages).

Usage::

    python .ci/min_requirements.py --torch torch==2.13.0 imblearn test > req.txt
"""

import argparse
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
# name, optional [extras], then the version specifiers.
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$")


def pin(requirement):
    """Turn ``name[extra]>=X,<Y`` into ``name[extra]==X``."""
    name, extras, spec = REQUIREMENT.match(requirement).groups()
    floor = re.search(r">=\s*([^,;\s]+)", spec)
    if floor is None:
        raise ValueError(f"{requirement!r} declares no >= floor")
    return f"{name}{extras or ''}=={floor.group(1)}"


def main(argv=None):
    """Print the pins of the core dependencies and of the extras named."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("extras", nargs="*", help="optional-dependency groups")
    parser.add_argument("--torch", default="torch==2.13.0", help="torch spec to use")
    args = parser.parse_args(argv)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in args.extras:
        requirements += project["optional-dependencies"][extra]
    pins = {}
    for requirement in requirements:
        name = REQUIREMENT.match(requirement).group(1).lower()
        pinned = args.torch if name == "torch" else pin(requirement)
        if pins.setdefault(name, pinned) != pinned:
            raise ValueError(f"{name}: two floors, {pins[name]} and {pinned}")
    sys.stdout.write("".join(f"{line}\n" for line in pins.values()))


if __name__ == "__main__":
    main()
