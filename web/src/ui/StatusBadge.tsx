import type { Status } from '../api/types';
import { TextBadge, type Tone } from './TextBadge';

/** Each status has its own words, symbol and colour, so it reads without colour (issue 12 §4). */
const LOOK: Record<Status, { label: string; symbol: string; tone: Tone }> = {
  NotProvisioned: { label: 'Not Provisioned', symbol: '○', tone: 'neutral' },
  Requested: { label: 'Requested', symbol: '…', tone: 'info' },
  InProgress: { label: 'In Progress', symbol: '↻', tone: 'busy' },
  Provisioned: { label: 'Provisioned', symbol: '✓', tone: 'good' },
  Failed: { label: 'Failed', symbol: '✕', tone: 'bad' },
  Pending: { label: 'Pending Approval', symbol: '⏸', tone: 'warn' },
};

/** A provisioning status of a customer, user, service or request: symbol, label and colour. */
export function StatusBadge({ status }: { status: Status }) {
  const look = LOOK[status] ?? { label: status, symbol: '?', tone: 'neutral' };
  return (
    <TextBadge tone={look.tone} symbol={look.symbol} data-status={status}>
      {look.label}
    </TextBadge>
  );
}

export function statusLabel(status: Status): string {
  return LOOK[status]?.label ?? status;
}
