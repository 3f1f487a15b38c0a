/** A UTC instant shown in the provider's time zone (seed 003: the Jobs screen's next run). */
export function formatInZone(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '—';
  return `${new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(iso))} (${timeZone})`;
}
