import { Alert, Button, Code, CopyButton, Group, Image, List, Paper, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { accountApi } from '../api/console-api';
import type { TotpEnrolment } from '../api/types';
import { SESSION_KEY } from '../session/session';
import { ErrorAlert, messageOf } from '../ui/ErrorAlert';
import { PageHeader } from '../ui/PageHeader';
import { QueryState } from '../ui/QueryState';

/** Enrol an authenticator app (QR code, verify a code, save recovery codes), or turn two-factor sign-in off. */
export function TwoFactorPage() {
  const totp = useQuery({ queryKey: ['account', 'totp'], queryFn: accountApi.totp });
  const [codes, setCodes] = useState<string[] | null>(null);
  return (
    <>
      <PageHeader title="Two-factor sign-in" />
      <Stack maw={720}>
        {codes && <RecoveryCodes codes={codes} />}
        <QueryState query={totp} what="two-factor settings">
          {(state) =>
            state.enabled ? (
              <TwoFactorOn recoveryCodesLeft={state.recoveryCodesLeft} onNewCodes={setCodes} />
            ) : (
              <Enrol onEnabled={setCodes} />
            )
          }
        </QueryState>
      </Stack>
    </>
  );
}

function Enrol({ onEnabled }: { onEnabled(codes: string[]): void }) {
  const client = useQueryClient();
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const start = useMutation({ mutationFn: accountApi.enrolTotp, onSuccess: setEnrolment });
  const verify = useMutation({
    mutationFn: () => accountApi.verifyTotp(code.trim()),
    onSuccess: (r) => {
      onEnabled(r.recoveryCodes);
      void client.invalidateQueries({ queryKey: ['account', 'totp'] });
      void client.invalidateQueries({ queryKey: SESSION_KEY });
    },
  });
  if (!enrolment) {
    return (
      <Paper withBorder p="md">
        <Text mb="sm">
          Two-factor sign-in is off. With it on, signing in needs a 6-digit code from an authenticator app on your phone as well as your
          password.
        </Text>
        <ErrorAlert error={start.error} />
        <Button onClick={() => start.mutate()} loading={start.isPending}>
          Set up an authenticator app
        </Button>
      </Paper>
    );
  }
  return (
    <Paper withBorder p="md">
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Stack>
          <Text>1. Scan this QR code with your authenticator app.</Text>
          <Image src={enrolment.qrCodeDataUrl} alt="QR code to add Tenantry to an authenticator app" w={200} h={200} />
          <Text size="sm">
            Or type this key: <Code data-testid="totp-secret">{enrolment.secret}</Code>
          </Text>
        </Stack>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            verify.mutate();
          }}
        >
          <Stack>
            <Text>2. Enter the code the app shows to finish.</Text>
            <TextInput
              label="Authentication code"
              inputMode="numeric"
              autoComplete="one-time-code"
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              error={verify.error ? messageOf(verify.error) : undefined}
            />
            <Button type="submit" loading={verify.isPending} disabled={!code.trim()}>
              Turn on two-factor sign-in
            </Button>
          </Stack>
        </form>
      </SimpleGrid>
    </Paper>
  );
}

function TwoFactorOn({ recoveryCodesLeft, onNewCodes }: { recoveryCodesLeft: number; onNewCodes(codes: string[]): void }) {
  const client = useQueryClient();
  const [code, setCode] = useState('');
  const refresh = () => {
    setCode('');
    void client.invalidateQueries({ queryKey: ['account', 'totp'] });
    void client.invalidateQueries({ queryKey: SESSION_KEY });
  };
  const newCodes = useMutation({
    mutationFn: () => accountApi.newRecoveryCodes(code.trim()),
    onSuccess: (r) => (onNewCodes(r.recoveryCodes), refresh()),
  });
  const disable = useMutation({ mutationFn: () => accountApi.disableTotp(code.trim()), onSuccess: refresh });
  const error = newCodes.error ?? disable.error;
  return (
    <Paper withBorder p="md">
      <Stack>
        <Text>
          Two-factor sign-in is on. {recoveryCodesLeft} recovery code{recoveryCodesLeft === 1 ? '' : 's'} left.
        </Text>
        <TextInput
          label="Current authentication code"
          description="Or a recovery code, to turn two-factor off"
          value={code}
          onChange={(e) => setCode(e.currentTarget.value)}
          error={error ? messageOf(error) : undefined}
          maw={320}
        />
        <Group>
          <Button variant="default" onClick={() => newCodes.mutate()} loading={newCodes.isPending} disabled={!code.trim()}>
            New recovery codes
          </Button>
          <Button variant="default" color="red.9" onClick={() => disable.mutate()} loading={disable.isPending} disabled={!code.trim()}>
            Turn off two-factor sign-in
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <Alert color="indigo" variant="light" title="Save your recovery codes">
      <Text size="sm" mb="xs">
        Each code signs you in once if you lose your phone. They are shown only now.
      </Text>
      <List size="sm" data-testid="recovery-codes" ff="monospace">
        {codes.map((c) => (
          <List.Item key={c}>{c}</List.Item>
        ))}
      </List>
      <CopyButton value={codes.join('\n')}>
        {({ copied, copy }) => (
          <Button mt="sm" size="xs" variant="default" onClick={copy}>
            {copied ? 'Copied' : 'Copy all codes'}
          </Button>
        )}
      </CopyButton>
    </Alert>
  );
}
