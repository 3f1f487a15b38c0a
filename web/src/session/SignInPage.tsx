import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Navigate, useLocation, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../api/client';
import { sessionApi } from '../api/console-api';
import { messageOf } from '../ui/ErrorAlert';
import { useSession, useSetSession } from './session';

type SecondFactor = 'none' | 'totp' | 'recovery';

/**
 * Sign-in with the CortexAPI's user name (bare or Name_CODE) and password. A user with
 * two-factor on is asked for the code after the password, and may use a recovery code instead.
 */
export function SignInPage() {
  const session = useSession();
  const setSession = useSetSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  // Why the console sent the user here (a session ended because the account was disabled).
  const endedBecause = (useLocation().state as { signedOut?: string } | null)?.signedOut;
  const [secondFactor, setSecondFactor] = useState<SecondFactor>('none');
  const form = useForm({ initialValues: { userName: '', password: '', totpCode: '', recoveryCode: '' } });
  const next = safeNext(params.get('next'));

  useEffect(() => {
    document.title = 'Sign in · Tenantry';
  }, []);

  const signIn = useMutation({
    mutationFn: (v: typeof form.values) =>
      sessionApi.signIn({
        userName: v.userName.trim(),
        password: v.password,
        ...(secondFactor === 'totp' && v.totpCode ? { totpCode: v.totpCode.trim() } : {}),
        ...(secondFactor === 'recovery' && v.recoveryCode ? { recoveryCode: v.recoveryCode.trim() } : {}),
      }),
    onSuccess: (s) => {
      setSession(s);
      navigate(next, { replace: true });
    },
    onError: (e) => {
      if (e instanceof ApiError && e.code === 'TotpRequired' && secondFactor === 'none') setSecondFactor('totp');
    },
  });

  if (session.data) return <Navigate to={next} replace />;
  const error = signIn.error;
  const askingCode =
    error instanceof ApiError &&
    error.code === 'TotpRequired' &&
    secondFactor !== 'none' &&
    !form.values.totpCode &&
    !form.values.recoveryCode;

  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" w={380} maw="100%">
        <form onSubmit={form.onSubmit((v) => signIn.mutate(v))} noValidate>
          <Stack>
            <Title order={1} size="h2">
              Sign in to Tenantry
            </Title>
            {params.get('expired') && (
              <Alert color="yellow" variant="light">
                Your session ended after a period without activity. Sign in again.
              </Alert>
            )}
            {endedBecause && !error && (
              <Alert color="orange" variant="light" role="alert" title="Signed out">
                {endedBecause}
              </Alert>
            )}
            {error && !askingCode && (
              <Alert color="red" variant="light" role="alert" title="Not signed in">
                {messageOf(error)}
              </Alert>
            )}
            <TextInput
              label="User name"
              description="Your name, or Name_CODE with your customer's code"
              autoComplete="username"
              required
              autoFocus
              {...form.getInputProps('userName')}
            />
            <PasswordInput label="Password" autoComplete="current-password" required {...form.getInputProps('password')} />
            {secondFactor === 'totp' && (
              <>
                <TextInput
                  label="Authentication code"
                  description="The 6-digit code from your authenticator app"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  autoFocus
                  {...form.getInputProps('totpCode')}
                />
                <Anchor component="button" type="button" size="sm" onClick={() => setSecondFactor('recovery')}>
                  Use a recovery code instead
                </Anchor>
              </>
            )}
            {secondFactor === 'recovery' && (
              <>
                <TextInput
                  label="Recovery code"
                  description="One of the codes you saved when you turned on two-factor sign-in"
                  autoComplete="off"
                  autoFocus
                  {...form.getInputProps('recoveryCode')}
                />
                <Anchor component="button" type="button" size="sm" onClick={() => setSecondFactor('totp')}>
                  Use an authentication code instead
                </Anchor>
              </>
            )}
            <Button type="submit" loading={signIn.isPending}>
              Sign in
            </Button>
            <Text size="xs" c="dimmed">
              The same user names and passwords as the CortexAPI.
            </Text>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

/** Only a path inside the console: never an absolute URL someone put in the link. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/customers';
}
