// The Python tests: the Spark job's transform and decoders (Spark venv, with its connector jars) and the DAG import test (Airflow venv).
// Provisions both venvs first (cached under ${XDG_CACHE_HOME:-~/.cache}/rtdatastream).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { $ } from 'zx';
import { airflow } from './airflow';
import { createContext } from './lifecycle';
import { provisionConnectorJars, provisionPySpark } from './spark-dist';

const REPO = path.resolve(__dirname, '..', '..');

/** pytest with its output on the terminal; exit 5 (nothing collected) means a broken path, so it fails loudly. */
async function runPytest(what: string, python: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const r = await $({ cwd: REPO, env, nothrow: true, stdio: 'inherit' })`${python} -m pytest -q -p no:cacheprovider ${args}`;
  if (r.exitCode === 5) throw new Error(`python-tests: pytest collected no tests for ${what} (${args.join(' ')})`);
  if (r.exitCode !== 0) throw new Error(`python-tests: pytest failed for ${what} (exit ${r.exitCode})`);
}

export async function pythonTests(): Promise<void> {
  const ctx = createContext({ log: (m) => process.stderr.write(`${m}\n`) });
  const sparkPython = provisionPySpark(ctx);
  // The decoders' tests run a local Spark session with the job's connector jars (spark-avro's from_avro).
  const jars = provisionConnectorJars(ctx).join(',');
  await runPytest('the Spark job', sparkPython, ['test/python', '--ignore=test/python/airflow'], { ...process.env, RTDS_SPARK_JARS: jars });
  const airflowPython = airflow.provisionVenv(ctx);
  // The import test needs no database: a throwaway AIRFLOW_HOME keeps it off the running Airflow.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-airflow-home-'));
  try {
    await runPytest('the DAGs', airflowPython, ['test/python/airflow'], {
      ...process.env, AIRFLOW_HOME: home, AIRFLOW__CORE__LOAD_EXAMPLES: 'False', AIRFLOW__CORE__DAGS_FOLDER: path.join(REPO, 'dags'),
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (require.main === module) {
  pythonTests().catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
