"""The DAGs import cleanly in the Airflow venv (run with that venv's python, not the Spark one)."""
import os

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

pytest.importorskip("airflow", reason="run with the Airflow venv's python (scripts/services/python-tests.sh)")
try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow 3.1+
except ImportError:  # pragma: no cover
    from airflow.models import DagBag

DAGS = os.path.join(REPO, "dags")


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(dag_folder=DAGS)


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}


def test_user_pipeline_runs_ingest_then_waits_then_checks_the_stages(dagbag):
    dag = dagbag.dags.get("user_pipeline")
    assert dag is not None
    order = [t.task_id for t in dag.topological_sort()]
    assert order == ["start_ingest_run", "wait_for_ingest_run", "check_stage_counts"]
    assert dag.max_active_runs == 1


def test_the_schedule_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PIPELINE_SCHEDULE", "*/10 * * * *")
    bag = DagBag(dag_folder=DAGS)
    assert bag.dags["user_pipeline"].schedule == "*/10 * * * *"
    monkeypatch.setenv("PIPELINE_SCHEDULE", "none")
    bag = DagBag(dag_folder=DAGS)
    assert bag.dags["user_pipeline"].schedule is None
