// How the cluster scripts talk to the user: one prefix, and timings for every step.
export function log(message: string): void {
  process.stderr.write(`[cluster] ${message}\n`);
}

/** Runs a step and logs how long it took; returns the seconds. */
export async function timed(step: string, work: () => Promise<unknown>): Promise<number> {
  const start = Date.now();
  await work();
  const seconds = Math.round((Date.now() - start) / 100) / 10;
  log(`${step}: ${seconds} s`);
  return seconds;
}
