import { Alert, Button, CopyButton, Group, Code, Stack, Text } from '@mantine/core';

/** A password the server generated: shown this once, with a copy button. */
export function PasswordShownOnce({ userName, password }: { userName: string; password: string }) {
  return (
    <Alert color="indigo" variant="light" title={`New password of ${userName}`}>
      <Stack gap="xs">
        <Group gap="sm">
          <Code fz="md" data-testid="shown-password">
            {password}
          </Code>
          <CopyButton value={password}>
            {({ copied, copy }) => (
              <Button size="xs" variant={copied ? 'filled' : 'default'} onClick={copy}>
                {copied ? 'Copied' : 'Copy password'}
              </Button>
            )}
          </CopyButton>
        </Group>
        <Text size="sm">It is shown only now: Tenantry keeps no readable copy. Give it to the user over a safe channel.</Text>
      </Stack>
    </Alert>
  );
}
