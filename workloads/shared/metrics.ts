/** Minimal Prometheus text exposition: counters and gauges with optional labels, no dependency. */
type Labels = Readonly<Record<string, string>>;

interface Series {
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly values: Map<string, number>;
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c))}"`).join(',') + '}';
}

export class Metrics {
  private readonly series = new Map<string, Series>();

  constructor(private readonly prefix: string) {}

  private get(name: string, type: Series['type'], help: string): Series {
    const full = `${this.prefix}_${name}`;
    let s = this.series.get(full);
    if (!s) {
      s = { help, type, values: new Map() };
      this.series.set(full, s);
    }
    return s;
  }

  inc(name: string, help: string, by = 1, labels: Labels = {}): void {
    const s = this.get(name, 'counter', help);
    const k = labelKey(labels);
    s.values.set(k, (s.values.get(k) ?? 0) + by);
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.get(name, 'gauge', help).values.set(labelKey(labels), value);
  }

  /** Declares a counter at 0 so scrapers see it before the first event. */
  declare(name: string, help: string, type: Series['type'] = 'counter'): void {
    const s = this.get(name, type, help);
    if (s.values.size === 0) s.values.set('', 0);
  }

  render(): string {
    const out: string[] = [];
    for (const [name, s] of this.series) {
      out.push(`# HELP ${name} ${s.help}`, `# TYPE ${name} ${s.type}`);
      for (const [k, v] of s.values) out.push(`${name}${k} ${v}`);
    }
    return out.join('\n') + '\n';
  }
}
