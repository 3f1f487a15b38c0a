import { Anchor, Center, Stack, Text, Title } from '@mantine/core';
import { useEffect } from 'react';
import { useRouteError } from 'react-router';

/** What a page that crashed shows: an apology and a way on, never the error's stack. */
export function RouteError() {
  const error = useRouteError();
  useEffect(() => {
    // Kept for whoever opens the browser's console; the screen shows none of it.
    console.error(error);
  }, [error]);
  return (
    <Center mih="60vh" p="md">
      <Stack maw={520}>
        <Title order={1} size="h2">
          This page could not be shown
        </Title>
        <Text>
          Something went wrong in the console while showing this page. Reload to try again; if it keeps happening, tell your administrator
          what you were doing.
        </Text>
        <Anchor href="/">Back to the start page</Anchor>
      </Stack>
    </Center>
  );
}
