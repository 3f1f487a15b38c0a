import { Anchor } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { Link } from 'react-router';

/** Tells the operator an action was accepted, with a link to the provisioning request carrying it. */
export function notifyAccepted(message: string, requestId?: number | null): void {
  notifications.show({
    color: 'teal',
    message: (
      <>
        {message}
        {requestId ? (
          <>
            {' '}
            <Anchor component={Link} to={`/requests/${requestId}`} size="sm">
              Request #{requestId}
            </Anchor>
          </>
        ) : null}
      </>
    ),
  });
}
