import { Text } from '@mantine/core';
import { PageHeader } from './PageHeader';

/** An area of part 2 of the console (issue 14) whose pages are not here yet. */
export function PlaceholderPage({ title, description }: { title: string; description: string }) {
  return (
    <>
      <PageHeader title={title} />
      <Text c="dimmed">{description}</Text>
    </>
  );
}
