import { Button, Group, Modal, Stack } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ErrorAlert } from './ErrorAlert';

interface ConfirmDialogProps {
  opened: boolean;
  onClose(): void;
  title: string;
  /** What will happen, in words (children, billing, sign-in). */
  children: ReactNode;
  confirmLabel: string;
  destructive?: boolean;
  /** Runs on confirm; the dialog closes when it succeeds and shows its error otherwise. */
  onConfirm(): Promise<unknown>;
  onDone?(result: unknown): void;
  confirmDisabled?: boolean;
  /** false: the caller replaces the dialog itself after success (to show a result). */
  closeOnDone?: boolean;
}

/** Asks before an action that changes or removes something, saying what will happen. */
export function ConfirmDialog({
  opened,
  onClose,
  title,
  children,
  confirmLabel,
  destructive,
  onConfirm,
  onDone,
  confirmDisabled,
  closeOnDone = true,
}: ConfirmDialogProps) {
  const action = useMutation({
    mutationFn: onConfirm,
    onSuccess: (result) => {
      onDone?.(result);
      if (closeOnDone) onClose();
    },
  });
  const close = () => {
    action.reset();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={title} centered>
      <Stack>
        {children}
        <ErrorAlert error={action.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button
            color={destructive ? 'red.9' : undefined}
            loading={action.isPending}
            disabled={confirmDisabled}
            onClick={() => action.mutate()}
          >
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
