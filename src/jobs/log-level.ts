/** Job log levels (seed 003 "Log Level"), most severe first. */
export const LOG_LEVELS = ['Error', 'Warning', 'Info', 'Verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { Error: 0, Warning: 1, Info: 2, Verbose: 3 };

/** True when an entry at `level` is kept by a job whose log level is `threshold`. */
export function isKept(level: LogLevel, threshold: LogLevel): boolean {
  return RANK[level] <= RANK[threshold];
}

/** Sort key: Error first. */
export function levelRank(level: LogLevel): number {
  return RANK[level];
}

/** Accepts the seed's spellings ("Warn" in the ConnectWise table) without regard to case. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === 'warn') return 'Warning';
  return LOG_LEVELS.find((l) => l.toLowerCase() === lower);
}

/** Entries written per level, kept apart from the log level so a run's status counts every entry. */
export interface LevelCounts {
  error: number;
  warning: number;
  info: number;
  verbose: number;
}

const COUNT_KEY: Record<LogLevel, keyof LevelCounts> = { Error: 'error', Warning: 'warning', Info: 'info', Verbose: 'verbose' };

/** Adds one entry at `level` to `counts`. */
export function countLevel(counts: LevelCounts, level: LogLevel): void {
  counts[COUNT_KEY[level]] += 1;
}
