import { Alert } from '@mantine/core';
import { ApiError } from '../api/client';

/** Shows an API error's message (never a stack trace: the client keeps only the API's message). */
export function ErrorAlert({ error, title = 'That did not work' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert" variant="light">
      {messageOf(error)}
    </Alert>
  );
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return 'Something went wrong in the console. Reload the page and try again.';
}
