import { TextBadge } from './TextBadge';

/** Whether a customer or user is enabled, in words. */
export function EnabledBadge({ enabled }: { enabled: boolean }) {
  return <TextBadge tone={enabled ? 'neutral' : 'bad'}>{enabled ? 'Enabled' : 'Disabled'}</TextBadge>;
}
