#!/usr/bin/env bash
# The Python tests: the Spark job's transform (Spark venv) and the DAG import test (Airflow venv).
# Provisions both venvs first (cached under ${XDG_CACHE_HOME:-~/.cache}/rtdatastream).
set -euo pipefail
cd "$(dirname "$0")/../.."

# pytest exits 5 when it collected nothing: here that means a broken path, so it fails loudly.
run_pytest() {
  local what="$1" python="$2"
  shift 2
  local rc=0
  "$python" -m pytest -q -p no:cacheprovider "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "python-tests: pytest collected no tests for $what ($*)" >&2
    return 1
  fi
  return "$rc"
}

spark_python="$(npx ts-node scripts/services/spark.ts python)"
# The decoders' tests run a local Spark session with the job's connector jars (spark-avro).
RTDS_SPARK_JARS="$(npx ts-node scripts/services/spark.ts jars)"
export RTDS_SPARK_JARS
run_pytest "the Spark job" "$spark_python" test/python --ignore=test/python/airflow

airflow_python="$(npx ts-node scripts/services/airflow.ts python)"
airflow_home="$(mktemp -d)"
trap 'rm -rf "$airflow_home"' EXIT
# The import test needs no database: a throwaway AIRFLOW_HOME keeps it off the running Airflow.
AIRFLOW_HOME="$airflow_home" AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__DAGS_FOLDER="$PWD/dags" \
  run_pytest "the DAGs" "$airflow_python" test/python/airflow
