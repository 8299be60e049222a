"""Prints the constraints pip installs the DAG's clients with: the committed constraints file,
except that Airflow itself and its providers keep the versions the base image has, so adding the
clients never upgrades or downgrades Airflow (images/airflow may carry another Airflow release).
Usage: constraints.py <constraints file>
"""
import re
import sys
from importlib import metadata


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(path: str) -> None:
    installed = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and normalize(name).startswith("apache-airflow"):
            installed[normalize(name)] = (name, dist.version)
    out = [f"{name}=={version}" for name, version in sorted(installed.values())]
    with open(path, encoding="utf-8") as committed:
        for line in committed:
            spec = line.split("#", 1)[0].strip()
            if not spec:
                continue
            m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
            if not m:
                sys.exit(f"constraints.py: cannot read line {line.strip()!r} of {path}")
            if normalize(m.group(1)) not in installed:
                out.append(spec)
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: constraints.py <constraints file>")
    main(sys.argv[1])
