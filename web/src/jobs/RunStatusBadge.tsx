import { Badge } from '@mantine/core';

const COLOURS: Record<string, string> = {
  Succeeded: 'teal.9',
  CompletedWithWarnings: 'yellow.4',
  CompletedWithErrors: 'red.9',
  Failed: 'red.9',
  Running: 'blue.9',
  Queued: 'gray.3',
  Missed: 'gray.3',
  Skipped: 'gray.3',
};

/** A run's status in words (the colour only repeats it). */
export function RunStatusBadge({ status, dryRun }: { status: string; dryRun?: boolean }) {
  // CompletedWithErrors → Completed with errors
  const words = status.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  const label = words.charAt(0).toUpperCase() + words.slice(1);
  return (
    <Badge
      color={COLOURS[status] ?? 'gray.3'}
      autoContrast
      styles={{ root: { overflow: 'visible' }, label: { textTransform: 'none', overflow: 'visible' } }}
    >
      {dryRun ? `${label} (dry run)` : label}
    </Badge>
  );
}
