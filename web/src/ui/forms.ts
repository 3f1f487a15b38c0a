import type { UseFormReturnType } from '@mantine/form';
import { ApiError } from '../api/client';

/**
 * Shows a server validation error next to its field when the API names one the form has;
 * answers the message for the form's alert otherwise. Typed values stay as they were.
 */
export function showServerError<T extends Record<string, unknown>>(
  form: UseFormReturnType<T>,
  error: unknown,
  fieldMap: Record<string, string> = {},
): string | null {
  if (error instanceof ApiError && error.field) {
    const path = fieldMap[error.field] ?? error.field;
    if (hasPath(form.getValues(), path)) {
      form.setFieldError(path, error.message);
      return null;
    }
  }
  return error instanceof ApiError ? error.message : 'Something went wrong in the console. Try again.';
}

function hasPath(values: unknown, path: string): boolean {
  let at: unknown = values;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || !(part in at)) return false;
    at = (at as Record<string, unknown>)[part];
  }
  return true;
}

/** Blank text fields become null (the API's "clear this"), others pass unchanged. */
export function blankToNull(value: string): string | null {
  return value.trim() === '' ? null : value.trim();
}
