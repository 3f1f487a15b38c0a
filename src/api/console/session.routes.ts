import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { DomainError } from '../../core/errors.js';
import { inTransaction } from '../../core/db/database.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import { getIdentity } from '../../tenancy/identity.service.js';
import { fullnameOf, userRoles } from '../../tenancy/user.service.js';
import { endSession, endSessionsOfUser, startSession } from '../../tenancy/sessions/session.service.js';
import { checkSecondFactor, confirmTotp, disableTotp, enrolTotp, renewRecoveryCodes, totpStatus } from '../../tenancy/totp/totp.service.js';
import { basicAuthenticator } from '../basic-auth.js';
import { clearSessionCookie, consoleGate, setSessionCookie, type ConsoleAuth } from './console-auth.js';
import { consoleRouter } from './console-handler.js';
import { arrayOf, bool, int, obj, shape, str, text } from './schemas.js';

const TAG = 'Console session';

const sessionSchema = shape({
  user: shape({ id: int(), name: str(), upn: str(), displayName: str(), totpEnabled: bool }),
  customer: shape({ id: int(), name: str(), fullname: str(), isReseller: bool, isProvider: bool }),
  roles: arrayOf(str()),
  permissions: arrayOf(str()),
  csrfToken: { type: ['string', 'null'] },
  idleMinutes: int(),
  expiresAt: { type: ['string', 'null'], format: 'date-time' },
});
const code = obj({ code: text(20) }, ['code']);
const recoveryCodes = shape({ recoveryCodes: arrayOf(str(), 10) });

/** Sign-in, sign-out, the current session, and the signed-in user's own two-factor settings. */
export function consoleSessionRoutes(app: FastifyInstance, ctx: AppContext): void {
  const route = consoleRouter(app, ctx);
  const gate = () => consoleGate(ctx);
  const now = () => gate().clock.now();

  route(
    {
      method: 'POST',
      url: '/api/console/session',
      tag: TAG,
      anonymous: true,
      summary: 'Sign in (same user names, passwords and lockout as the CortexAPI)',
      description:
        'Answers 401 TotpRequired when the user has two-factor sign-in on and no valid code was sent, 429 TooManyAttempts with Retry-After when locked out.',
      body: obj({ userName: text(256), password: str(1024, { minLength: 1 }), totpCode: str(20), recoveryCode: str(20) }, [
        'userName',
        'password',
      ]),
      response: { 200: sessionSchema },
    },
    async (_auth, req, reply) => {
      const b = req.body as { userName: string; password: string; totpCode?: string; recoveryCode?: string };
      const authenticator = basicAuthenticator(ctx);
      const caller = await authenticator.signIn(b.userName, b.password, req.ip);
      if (caller.userId === null) throw new DomainError('NotAuthenticated', 'The user authentication failed');
      requirePermission(caller, 'Console Access');
      try {
        await inTransaction(ctx.db, (tx) =>
          checkSecondFactor(tx, ctx.secrets, caller.userId!, { totpCode: b.totpCode, recoveryCode: b.recoveryCode }, now()),
        );
      } catch (e) {
        if (e instanceof DomainError && e.details.codeOffered === true) await authenticator.recordFailure(b.userName, req.ip);
        throw e;
      }
      const { token, session } = await startSession(ctx.db, caller.userId, gate().clock, {
        address: req.ip,
        userAgent: String(req.headers['user-agent'] ?? ''),
      });
      setSessionCookie(req, reply, token);
      return reply
        .header('Cache-Control', 'no-store')
        .send(await sessionAnswer({ caller: session.caller, session: { ...session, token } }));
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/session',
      tag: TAG,
      summary: 'The signed-in user, its customer, roles, permissions and CSRF token',
      response: { 200: sessionSchema },
    },
    async (auth, _req, reply) => reply.header('Cache-Control', 'no-store').send(await sessionAnswer(auth)),
  );

  route(
    { method: 'DELETE', url: '/api/console/session', tag: TAG, summary: 'Sign out (ends the session; needs X-CSRF-Token)' },
    async (auth, req, reply) => {
      if (auth.session) await endSession(ctx.db, auth.session.token);
      clearSessionCookie(req, reply);
      return reply.code(204).send();
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/account/totp',
      tag: TAG,
      summary: 'Whether two-factor sign-in is on for the signed-in user',
      response: { 200: shape({ enabled: bool, recoveryCodesLeft: int() }) },
    },
    async (auth) => totpStatus(ctx.db, userIdOf(auth.caller)),
  );

  route(
    {
      method: 'POST',
      url: '/api/console/account/totp/enrol',
      tag: TAG,
      body: obj({}),
      summary: 'Start two-factor enrolment: a new secret, its otpauth URL and a QR code (PNG data URL)',
      response: { 200: shape({ secret: str(), otpauthUrl: str(1000), qrCodeDataUrl: str(100000) }) },
    },
    async (auth, _req, reply) => {
      const { user } = await getIdentity(ctx.db, auth.caller);
      return reply.header('Cache-Control', 'no-store').send(await enrolTotp(ctx.db, ctx.secrets, { id: user!.id, upn: user!.upn }));
    },
  );

  route(
    {
      method: 'POST',
      url: '/api/console/account/totp/verify',
      tag: TAG,
      body: code,
      summary: 'Finish enrolment with the first code; answers the recovery codes, shown once',
      response: { 200: shape({ enabled: bool, recoveryCodes: arrayOf(str(), 10) }) },
    },
    async (auth, req, reply) => {
      const userId = userIdOf(auth.caller);
      const codes = await inTransaction(ctx.db, (tx) => confirmTotp(tx, ctx.secrets, userId, (req.body as { code: string }).code, now()));
      // Other sessions were opened without the second factor: they end now.
      await endSessionsOfUser(ctx.db, userId, auth.session?.id);
      return reply.header('Cache-Control', 'no-store').send({ enabled: true, recoveryCodes: codes });
    },
  );

  route(
    {
      method: 'POST',
      url: '/api/console/account/totp/recovery-codes',
      tag: TAG,
      body: code,
      summary: 'Replace the recovery codes (needs a current code)',
      response: { 200: recoveryCodes },
    },
    async (auth, req, reply) => {
      const codes = await inTransaction(ctx.db, (tx) =>
        renewRecoveryCodes(tx, ctx.secrets, userIdOf(auth.caller), (req.body as { code: string }).code, now()),
      );
      return reply.header('Cache-Control', 'no-store').send({ recoveryCodes: codes });
    },
  );

  route(
    {
      method: 'DELETE',
      url: '/api/console/account/totp',
      tag: TAG,
      body: code,
      summary: 'Turn two-factor sign-in off (needs a current code or a recovery code)',
    },
    async (auth, req, reply) => {
      await inTransaction(ctx.db, (tx) => disableTotp(tx, ctx.secrets, userIdOf(auth.caller), (req.body as { code: string }).code, now()));
      return reply.code(204).send();
    },
  );

  async function sessionAnswer(auth: ConsoleAuth) {
    const { caller } = auth;
    const { customer, user } = await getIdentity(ctx.db, caller);
    if (!user) throw new DomainError('NotAuthenticated', 'You are not signed in.');
    return {
      user: {
        id: user.id,
        name: user.name,
        upn: user.upn,
        displayName: fullnameOf(user),
        totpEnabled: (await totpStatus(ctx.db, user.id)).enabled,
      },
      customer: {
        id: customer.id,
        name: customer.name,
        fullname: customer.fullname,
        isReseller: customer.isReseller,
        isProvider: customer.parentId === null,
      },
      roles: await userRoles(ctx.db, user.id),
      permissions: [...caller.permissions].sort(),
      csrfToken: auth.session ? gate().csrfToken(auth.session.token) : null,
      idleMinutes: Math.round(gate().clock.idleMs / 60_000),
      expiresAt: auth.session ? auth.session.expiresAt.toISOString() : null,
    };
  }
}

function userIdOf(caller: Caller): number {
  if (caller.userId === null) throw new DomainError('NotAuthenticated', 'You are not signed in.');
  return caller.userId;
}
