import { Button, Group } from '@mantine/core';
import { billingApi } from '../api/billing-api';
import type { Query } from '../api/client';

/** CSV and Excel downloads of what is on screen (the same filters). */
export function DownloadButtons({ what, query }: { what: 'summary' | 'detail'; query: Query }) {
  return (
    <Group gap="xs">
      <Button component="a" variant="default" size="sm" href={billingApi.file(what, query, 'csv')} download>
        Download {what} CSV
      </Button>
      <Button component="a" variant="default" size="sm" href={billingApi.file(what, query, 'xlsx')} download>
        Download {what} Excel
      </Button>
    </Group>
  );
}
