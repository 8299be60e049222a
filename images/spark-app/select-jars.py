"""Copies the resolved connector jars Spark does not already ship into Spark's jars directory.

Same rule as jarsBeyondSpark in scripts/services/spark.ts (the local Spark service): Spark's own
Scala runtime and logging are never duplicated, and a jar Spark ships at the same or a newer
version is skipped. Usage: select-jars.py <resolved dir> <spark jars dir>
"""
import os
import re
import shutil
import sys

# Spark itself provides the Scala runtime and logging: a second copy only risks conflicts.
PROVIDED_BY_SPARK = {"scala-library", "scala-reflect", "slf4j-api", "spark-tags_2.12"}


def split_jar_name(name: str) -> tuple[str, str]:
    """`artifact-1.2.3.jar` -> (`artifact`, `1.2.3`)."""
    m = re.match(r"^(.+?)-(\d[^-]*(?:-[A-Za-z0-9.]+)*)\.jar$", name)
    return (m.group(1), m.group(2)) if m else (re.sub(r"\.jar$", "", name), "")


def compare_versions(a: str, b: str) -> int:
    """Numeric-aware order: 1.1.10 > 1.1.8.4."""
    pa, pb = re.split(r"[.-]", a), re.split(r"[.-]", b)
    for i in range(max(len(pa), len(pb))):
        x = pa[i] if i < len(pa) else "0"
        y = pb[i] if i < len(pb) else "0"
        if x.isdigit() and y.isdigit():
            c = int(x) - int(y)
        else:
            c = (x > y) - (x < y)
        if c:
            return c
    return 0


def main(resolved: str, spark_jars: str) -> None:
    shipped = dict(split_jar_name(j) for j in os.listdir(spark_jars) if j.endswith(".jar"))
    jars = sorted(j for j in os.listdir(resolved) if j.endswith(".jar"))
    if not jars:
        sys.exit(f"select-jars: no jars in {resolved}: did the Maven stage resolve spark-apps/jars/pom.xml?")
    kept = []
    for jar in jars:
        artifact, version = split_jar_name(jar)
        theirs = shipped.get(artifact)
        if artifact in PROVIDED_BY_SPARK or (theirs is not None and compare_versions(version, theirs) <= 0):
            continue
        shutil.copy2(os.path.join(resolved, jar), os.path.join(spark_jars, jar))
        kept.append(jar)
    print(f"select-jars: {len(kept)} of {len(jars)} resolved jars added to {spark_jars}: {' '.join(kept)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: select-jars.py <resolved jars dir> <spark jars dir>")
    main(sys.argv[1], sys.argv[2])
