import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { inTransaction } from '../../core/db/database.js';
import type { ProvisioningStatus } from '../../core/statuses.js';
import type { Caller } from '../../tenancy/caller.js';
import { getCustomer } from '../../tenancy/customer.service.js';
import { createUser, deleteUser, fullnameOf, updateUser, userRoles, type User, type UserFields } from '../../tenancy/user.service.js';
import {
  getUserById,
  grantableRoles,
  listUsers,
  permissionsOfRoles,
  signInState,
  USER_SORTS,
  type UserSort,
} from '../../tenancy/user-directory.js';
import { resetPassword } from '../../tenancy/password-reset.js';
import { removeTotp, totpStatus } from '../../tenancy/totp/totp.service.js';
import { deprovisionUser, reprovisionUser } from '../../provisioning/user-lifecycle.js';
import { consoleRouter } from './console-handler.js';
import {
  arrayOf,
  bool,
  dateTime,
  id,
  idParams,
  int,
  nullableDateTime,
  nullableStr,
  obj,
  pageOf,
  paging,
  ref,
  requestIdAnswer,
  shape,
  status,
  str,
  stringMap,
  text,
} from './schemas.js';

const TAG = 'Users';

const userRow = shape({
  id: int(),
  name: str(),
  upn: str(),
  displayName: str(),
  customer: ref,
  status,
  enabled: bool,
  email: nullableStr(),
  createdAt: dateTime,
});
const userDetail = shape({
  ...(userRow.properties as object),
  firstName: nullableStr(),
  lastName: nullableStr(),
  externalEmail: nullableStr(),
  department: str(),
  location: str(),
  changeAtNextLogon: bool,
  passwordNeverExpires: bool,
  passwordExpires: nullableDateTime,
  accountExpires: nullableDateTime,
  properties: stringMap,
  additionalProperties: stringMap,
  roles: arrayOf(str()),
  permissions: arrayOf(str()),
  totpEnabled: bool,
  lockedUntil: nullableDateTime,
  lastLoginAt: nullableDateTime,
  modifiedAt: dateTime,
});
const userAnswer = shape({ user: userDetail, requestId: { type: ['integer', 'null'] } });
const listQuery = { search: str(100), status, enabled: bool, sort: { type: 'string', enum: [...USER_SORTS], default: 'name' }, ...paging };
const editable = {
  upn: str(256, { pattern: '^[^@\\s]+@[^@\\s]+$' }),
  firstName: nullableStr(64),
  lastName: nullableStr(64),
  displayName: nullableStr(256),
  externalEmail: { type: ['string', 'null'], maxLength: 256, format: 'email' },
  department: str(64),
  location: str(64),
  accountExpires: nullableDateTime,
  changeAtNextLogon: bool,
  passwordNeverExpires: bool,
  properties: stringMap,
  additionalProperties: stringMap,
  roles: arrayOf(text(100), 20),
};
const password = str(256, { minLength: 8 });

type ListQuery = {
  search?: string;
  status?: ProvisioningStatus;
  enabled?: boolean;
  sort: UserSort;
  order: 'asc' | 'desc';
  page: number;
  pageSize: number;
  customerId?: number;
};
type UserBody = Omit<UserFields, 'password' | 'accountExpires'> & {
  accountExpires?: string | null;
  changeAtNextLogon?: boolean;
  passwordNeverExpires?: boolean;
};

/** Users: lists, detail, create/edit, roles, password reset, enable/disable, de-/re-provision, delete, two-factor reset. */
export function consoleUserRoutes(app: FastifyInstance, ctx: AppContext): void {
  const route = consoleRouter(app, ctx);
  const idOf = (req: FastifyRequest) => (req.params as { id: number }).id;
  const detail = async (caller: Caller, userId: number) => toWire(ctx, caller, (await getUserById(ctx.db, caller, userId)).user);
  const answer = async (caller: Caller, userId: number, requestId: number | undefined) => ({
    user: await detail(caller, userId),
    requestId: requestId ?? null,
  });

  route(
    {
      method: 'GET',
      url: '/api/console/users',
      tag: TAG,
      summary: "Users across the caller's subtree (or one customer): searchable, sortable, paged",
      querystring: obj({ customerId: id, ...listQuery }),
      response: { 200: pageOf(userRow) },
    },
    async ({ caller }, req) => listUsers(ctx.db, caller, req.query as ListQuery),
  );

  route(
    {
      method: 'GET',
      url: '/api/console/customers/:id/users',
      tag: TAG,
      summary: 'Users of one customer',
      params: idParams,
      querystring: obj(listQuery),
      response: { 200: pageOf(userRow) },
    },
    async ({ caller }, req) => listUsers(ctx.db, caller, { ...(req.query as ListQuery), customerId: idOf(req) }),
  );

  route(
    {
      method: 'GET',
      url: '/api/console/users/:id',
      tag: TAG,
      summary: 'One user with roles, permissions and sign-in state',
      params: idParams,
      response: { 200: userDetail },
    },
    async ({ caller }, req) => detail(caller, idOf(req)),
  );

  route(
    {
      method: 'POST',
      url: '/api/console/customers/:id/users',
      tag: TAG,
      permission: 'Manage Users',
      params: idParams,
      summary: 'Create a user (name becomes Name_CODE); without a password one is generated and answered once',
      body: obj({ ...editable, name: str(64, { pattern: "^[A-Za-z0-9._'-]+$" }), password }, ['name']),
      response: { 201: shape({ user: userDetail, requestId: int(), generatedPassword: str() }) },
    },
    async ({ caller }, req, reply) => {
      const b = req.body as UserBody & { name: string; password?: string };
      const customer = await getCustomer(ctx.db, caller, { id: idOf(req) });
      const { user, requestId, generatedPassword } = await inTransaction(ctx.db, (tx) =>
        createUser(tx, caller, customer, {
          ...fieldsOf(b),
          name: b.name,
          password: { ...passwordFieldsOf(b).password, ...(b.password ? { password: b.password } : {}) },
        }),
      );
      return reply
        .code(201)
        .header('Cache-Control', 'no-store')
        .send({ user: await detail(caller, user.id), requestId, ...(generatedPassword ? { generatedPassword } : {}) });
    },
  );

  route(
    {
      method: 'PATCH',
      url: '/api/console/users/:id',
      tag: TAG,
      permission: 'Manage Users',
      params: idParams,
      body: obj(editable),
      summary: 'Edit a user (names, UPN, e-mail, department, location, expiry, properties, roles)',
      response: { 200: userAnswer },
    },
    async ({ caller }, req) => {
      const { user, customer } = await getUserById(ctx.db, caller, idOf(req));
      const b = req.body as UserBody;
      const { requestId } = await inTransaction(ctx.db, (tx) =>
        updateUser(tx, caller, customer, { id: user.id }, { ...fieldsOf(b), ...passwordFieldsOf(b) }),
      );
      return answer(caller, user.id, requestId);
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/roles',
      tag: TAG,
      summary: 'Roles the caller may grant, with their permissions',
      response: { 200: shape({ items: arrayOf(shape({ name: str(), description: str(), permissions: arrayOf(str()) })) }) },
    },
    async ({ caller }) => ({ items: await grantableRoles(ctx.db, caller) }),
  );

  route(
    {
      method: 'PUT',
      url: '/api/console/users/:id/roles',
      tag: TAG,
      permission: 'Manage Users',
      params: idParams,
      body: obj({ roles: arrayOf(text(100), 20) }, ['roles']),
      summary: "Replace a user's roles (Edit User > Account Settings > Advanced Options)",
      response: { 200: shape({ roles: arrayOf(str()), permissions: arrayOf(str()), requestId: { type: ['integer', 'null'] } }) },
    },
    async ({ caller }, req) => {
      const { user, customer } = await getUserById(ctx.db, caller, idOf(req));
      const { requestId } = await inTransaction(ctx.db, (tx) =>
        updateUser(tx, caller, customer, { id: user.id }, { roles: (req.body as { roles: string[] }).roles }),
      );
      const roles = await userRoles(ctx.db, user.id);
      return { roles, permissions: await permissionsOfRoles(ctx.db, roles), requestId: requestId ?? null };
    },
  );

  route(
    {
      method: 'POST',
      url: '/api/console/users/:id/reset-password',
      tag: TAG,
      permission: 'Manage Users',
      params: idParams,
      body: obj({ password, changeAtNextLogon: bool }),
      summary: "Reset a user's password: typed, or generated and answered once; ends the user's console sessions",
      response: { 200: shape({ password: str(), requestId: { type: ['integer', 'null'] } }) },
    },
    async ({ caller }, req, reply) => {
      const { user, customer } = await getUserById(ctx.db, caller, idOf(req));
      const { generatedPassword, requestId } = await inTransaction(ctx.db, (tx) =>
        resetPassword(tx, caller, customer, user, req.body as { password?: string; changeAtNextLogon?: boolean }),
      );
      return reply
        .header('Cache-Control', 'no-store')
        .send({ ...(generatedPassword ? { password: generatedPassword } : {}), requestId: requestId ?? null });
    },
  );

  for (const [action, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    route(
      {
        method: 'POST',
        url: `/api/console/users/:id/${action}`,
        tag: TAG,
        permission: 'Manage Users',
        params: idParams,
        summary: `${action === 'disable' ? 'Disable' : 'Enable'} a user (a disabled user's sessions end at once)`,
        response: { 200: userAnswer },
      },
      async ({ caller }, req) => {
        const { user, customer } = await getUserById(ctx.db, caller, idOf(req));
        const { requestId } = await inTransaction(ctx.db, (tx) => updateUser(tx, caller, customer, { id: user.id }, { enabled }));
        return answer(caller, user.id, requestId);
      },
    );
  }

  for (const [action, run] of [
    ['deprovision', deprovisionUser],
    ['reprovision', reprovisionUser],
  ] as const) {
    route(
      {
        method: 'POST',
        url: `/api/console/users/:id/${action}`,
        tag: TAG,
        permission: 'Manage Users',
        params: idParams,
        response: { 200: userAnswer },
        summary: action === 'deprovision' ? 'De-provision a user and its user services' : 'Re-provision a de-provisioned user',
      },
      async ({ caller }, req) => {
        const { user, customer } = await getUserById(ctx.db, caller, idOf(req));
        const { requestId } = await inTransaction(ctx.db, (tx) => run(tx, caller, customer, { id: user.id }));
        return answer(caller, user.id, requestId);
      },
    );
  }

  route(
    {
      method: 'DELETE',
      url: '/api/console/users/:id',
      tag: TAG,
      permission: 'Manage Users',
      params: idParams,
      summary: 'Delete a user (never the last user of a customer)',
      response: { 200: requestIdAnswer },
    },
    async ({ caller }, req) => {
      const { user, customer } = await getUserById(ctx.db, caller, idOf(req));
      return { requestId: await inTransaction(ctx.db, (tx) => deleteUser(tx, caller, customer, { id: user.id })) };
    },
  );

  route(
    {
      method: 'DELETE',
      url: '/api/console/users/:id/totp',
      tag: TAG,
      permission: 'Manage Users',
      params: idParams,
      summary: "Turn off a user's two-factor sign-in (lost device)",
    },
    async ({ caller }, req, reply) => {
      const { user, customer } = await getUserById(ctx.db, caller, idOf(req));
      // The same rule as any other change to the user: only users no more powerful than the caller.
      await inTransaction(ctx.db, async (tx) => {
        await updateUser(tx, caller, customer, { id: user.id }, {});
        await removeTotp(tx, user.id);
      });
      return reply.code(204).send();
    },
  );
}

function fieldsOf(b: UserBody): UserFields {
  const keys = [
    'upn',
    'firstName',
    'lastName',
    'displayName',
    'externalEmail',
    'department',
    'location',
    'properties',
    'additionalProperties',
    'roles',
  ] as const;
  const fields = Object.fromEntries(keys.filter((k) => b[k] !== undefined).map((k) => [k, b[k]])) as UserFields;
  if (b.accountExpires !== undefined) fields.accountExpires = b.accountExpires === null ? null : new Date(b.accountExpires);
  return fields;
}

function passwordFieldsOf(b: UserBody): Pick<UserFields, 'password'> {
  if (b.changeAtNextLogon === undefined && b.passwordNeverExpires === undefined) return {};
  return {
    password: {
      ...(b.changeAtNextLogon !== undefined ? { changeAtNextLogon: b.changeAtNextLogon } : {}),
      ...(b.passwordNeverExpires === true ? { expires: 'never' as const } : b.passwordNeverExpires === false ? { expires: null } : {}),
    },
  };
}

async function toWire(ctx: AppContext, caller: Caller, u: User) {
  const customer = await getCustomer(ctx.db, caller, { id: u.customerId });
  const roles = await userRoles(ctx.db, u.id);
  const state = await signInState(ctx.db, u.id);
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: u.id,
    name: u.name,
    upn: u.upn,
    displayName: fullnameOf(u),
    customer: { id: customer.id, name: customer.name },
    status: u.status,
    enabled: u.enabled,
    email: u.externalEmail,
    createdAt: u.createdAt.toISOString(),
    firstName: u.firstName,
    lastName: u.lastName,
    externalEmail: u.externalEmail,
    department: u.department,
    location: u.location,
    changeAtNextLogon: u.changeAtNextLogon,
    passwordNeverExpires: u.passwordNeverExpires,
    passwordExpires: iso(u.passwordExpires),
    accountExpires: iso(u.accountExpires),
    properties: u.properties,
    additionalProperties: u.additionalProperties,
    roles,
    permissions: await permissionsOfRoles(ctx.db, roles),
    totpEnabled: (await totpStatus(ctx.db, u.id)).enabled,
    lockedUntil: iso(state.lockedUntil),
    lastLoginAt: iso(state.lastLoginAt),
    modifiedAt: u.modifiedAt.toISOString(),
  };
}
