import { RunStatus } from './run';

/** A one-line progress bar on a TTY; a line every 10 % otherwise (CI logs). */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): (s: RunStatus) => void {
  const started = Date.now();
  let lastDecile = -1;
  return (s) => {
    const done = Math.min(s.users, s.pagesDone * s.batchSize);
    const frac = s.users === 0 ? 1 : done / s.users;
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    const text = `${(frac * 100).toFixed(1).padStart(5)}% ${done}/${s.users} users, ${s.inserted} new, ${s.alreadyLanded} already landed, ${s.quarantined} quarantined, ${rate} users/s`;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(frac * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
      if (frac >= 1) stream.write('\n');
    } else {
      const decile = Math.floor(frac * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`${text}\n`);
      }
    }
  };
}
