import { apiVersion, databaseVersion } from '../../../core/version.js';
import { getIdentity } from '../../../tenancy/identity.service.js';
import { fullnameOf } from '../../../tenancy/user.service.js';
import { el } from '../serialize.js';
import type { EntityHandlers } from './types.js';

/** Seed: "Get Requesters' details" — the caller's customer with the caller inside it. */
export const identityHandlers: EntityHandlers = {
  GET: async (_node, cx) => {
    const { customer, user } = await getIdentity(cx.db, cx.caller);
    const userNode = user
      ? [
          el('user', [
            el('name', user.name),
            el('id', user.id),
            el('fullname', fullnameOf(user)),
            el('upn', user.upn),
            el('location', user.location),
            el('department', user.department),
          ]),
        ]
      : [];
    return [
      el('identity', [
        el('customer', [
          el('name', customer.name),
          el('id', customer.id),
          el('fullname', customer.fullname),
          el('billingid', customer.billingId),
          el('primarydomain', customer.primaryDomain),
          ...userNode,
        ]),
      ]),
    ];
  },
};

/** Seed: "The Global tag returns version information about the API and the database". */
export const globalHandlers: EntityHandlers = {
  GET: async (_node, cx) => [el('global', [el('version', [el('api', apiVersion()), el('database', await databaseVersion(cx.db))])])],
};
