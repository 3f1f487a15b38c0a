import { Anchor, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { PageHeader } from './PageHeader';

/** What an unknown path, and an id outside the caller's scope, shows: the same words as the API. */
export function NotFoundPage({ what = 'page' }: { what?: string }) {
  return (
    <Stack>
      <PageHeader title="Not found" />
      <Text>The {what} you asked for does not exist, or you may not see it.</Text>
      <Anchor component={Link} to="/">
        Back to the start page
      </Anchor>
    </Stack>
  );
}
