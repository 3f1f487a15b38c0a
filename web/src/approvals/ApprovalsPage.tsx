import { Anchor, Button, Card, Group, Modal, SegmentedControl, Stack, Text, Textarea } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { approvalsApi } from '../api/console-api';
import type { Approval } from '../api/types';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeader } from '../ui/PageHeader';
import { TextBadge } from '../ui/TextBadge';
import { QueryState } from '../ui/QueryState';
import { formatDateTime } from '../ui/format';
import { notifyAccepted } from '../ui/notify';

type Decision = { approval: Approval; subscriptionId: string; decision: 'approve' | 'reject' };

/** The approvals asking the signed-in user: approve or reject with a comment; the held request waits as Pending. */
export function ApprovalsPage() {
  const [show, setShow] = useState('pending');
  const approvals = useQuery({ queryKey: ['approvals', show], queryFn: () => approvalsApi.list(show === 'all' ? { all: true } : {}) });
  const [deciding, setDeciding] = useState<Decision | null>(null);
  return (
    <>
      <PageHeader title="Approvals" />
      <SegmentedControl
        mb="md"
        aria-label="Which approvals"
        data={[
          { value: 'pending', label: 'Waiting for me' },
          { value: 'all', label: 'All, decided too' },
        ]}
        value={show}
        onChange={setShow}
      />
      <QueryState query={approvals} what="approvals">
        {({ items }) =>
          items.length === 0 ? (
            <Text c="dimmed">{show === 'pending' ? 'Nothing is waiting for your approval.' : 'No approvals yet.'}</Text>
          ) : (
            <Stack>
              {items.map((a) => {
                const mine = a.subscriptions.find((s) => s.status === 'Pending');
                return (
                  <Card key={`${a.provisioningRequestId}-${a.requestDate}`} withBorder component="article" aria-label={a.description}>
                    <Group justify="space-between" align="flex-start">
                      <Stack gap={4}>
                        <Text fw={700}>{a.description}</Text>
                        <Text size="sm">
                          Customer {a.customer.fullname} ({a.customer.name}) · asked {formatDateTime(a.requestDate)}
                          {a.requestedBy ? ` by ${a.requestedBy.fullname} (${a.requestedBy.name})` : ''}
                        </Text>
                        <Text size="sm">
                          Held request:{' '}
                          <Anchor component={Link} to={`/requests/${a.provisioningRequestId}`}>
                            #{a.provisioningRequestId}
                          </Anchor>
                        </Text>
                        {a.subscriptions
                          .filter((s) => s.reason)
                          .map((s) => (
                            <Text size="sm" key={s.id}>
                              {s.user.fullname}: “{s.reason}”
                            </Text>
                          ))}
                      </Stack>
                      <Stack align="flex-end" gap="xs">
                        <TextBadge tone={a.status === 'Pending' ? 'warn' : a.status === 'Accepted' ? 'good' : 'bad'}>
                          {a.status === 'Pending' ? 'Waiting' : a.status}
                        </TextBadge>
                        {a.status === 'Pending' && mine && (
                          <Group gap="xs">
                            <Button size="xs" onClick={() => setDeciding({ approval: a, subscriptionId: mine.id, decision: 'approve' })}>
                              Approve
                            </Button>
                            <Button
                              size="xs"
                              variant="default"
                              color="red.9"
                              onClick={() => setDeciding({ approval: a, subscriptionId: mine.id, decision: 'reject' })}
                            >
                              Reject
                            </Button>
                          </Group>
                        )}
                      </Stack>
                    </Group>
                  </Card>
                );
              })}
            </Stack>
          )
        }
      </QueryState>
      {deciding && <DecisionDialog decision={deciding} onClose={() => setDeciding(null)} />}
    </>
  );
}

function DecisionDialog({ decision: d, onClose }: { decision: Decision; onClose(): void }) {
  const client = useQueryClient();
  const [comment, setComment] = useState('');
  const approve = d.decision === 'approve';
  const decide = useMutation({
    mutationFn: () => approvalsApi.decide(d.subscriptionId, d.decision, comment.trim() || undefined),
    onSuccess: (r) => {
      void client.invalidateQueries({ queryKey: ['approvals'] });
      void client.invalidateQueries({ queryKey: ['requests'] });
      notifyAccepted(approve ? 'Approved: the held request goes ahead.' : 'Rejected: the held request fails.', r.requestId);
      onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title={approve ? 'Approve this change?' : 'Reject this change?'} centered>
      <Stack>
        <Text>{d.approval.description}</Text>
        <Text size="sm">
          {approve
            ? 'The held provisioning request goes ahead once every approver has approved.'
            : 'The held provisioning request ends as Failed and nothing is changed.'}
        </Text>
        <Textarea
          label="Comment"
          description="Kept with the decision and shown to the requester"
          value={comment}
          onChange={(e) => setComment(e.currentTarget.value)}
          autosize
          minRows={2}
        />
        <ErrorAlert error={decide.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color={approve ? undefined : 'red.9'} onClick={() => decide.mutate()} loading={decide.isPending}>
            {approve ? 'Approve' : 'Reject'}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
