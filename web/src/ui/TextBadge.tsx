import { Badge } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * Shades dark enough for WCAG AA contrast (4.5:1) of small bold text on white and on striped rows;
 * Mantine's darkest orange (4.3:1) is not, so "warn" is a darker burnt orange.
 */
export const TONE = { neutral: 'gray.8', info: 'blue.9', busy: 'indigo.9', good: 'teal.9', bad: 'red.9', warn: '#a63c06' } as const;
export type Tone = keyof typeof TONE;

/** A short state in words (the words carry the meaning; the colour only helps). */
export function TextBadge({
  tone,
  children,
  symbol,
  ...rest
}: {
  tone: Tone;
  children: ReactNode;
  symbol?: string;
  size?: 'xs' | 'sm' | 'md';
  'data-status'?: string;
  'data-live'?: string;
}) {
  return (
    <Badge
      color={TONE[tone]}
      variant="outline"
      radius="sm"
      leftSection={symbol ? <span aria-hidden="true">{symbol}</span> : undefined}
      styles={{
        root: { flexShrink: 0, maxWidth: 'none', overflow: 'visible' },
        label: { textTransform: 'none', overflow: 'visible', textOverflow: 'clip' },
      }}
      {...rest}
    >
      {children}
    </Badge>
  );
}
