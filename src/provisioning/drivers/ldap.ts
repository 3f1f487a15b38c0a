/**
 * Provisions customers, users and services into an LDAP directory (tested against OpenLDAP).
 *
 * Layout under `baseDN`, nested along the reseller chain (DriverCustomer.ancestry):
 *   ou=<customer>,ou=<reseller>,…,ou=<root>,<baseDN>   organizationalUnit, description = full name
 *   uid=<user name>,<customer OU>                       inetOrgPerson
 *   cn=<service code>,<customer OU>                     groupOfNames, member = users holding it
 * Missing reseller OUs are created bare (just `ou`); each gets its description when that
 * reseller is itself provisioned.
 *
 * Disabled users keep their entry and gain `description: disabled`; their userPassword hash is
 * locked reversibly (see ldap-password.ts), so binds fail and re-enabling restores the password.
 * An empty groupOfNames (which the schema forbids) holds the customer OU's DN as its only member:
 * that DN is never a person, so "groups of user X" searches are unaffected.
 *
 * The bind account needs write access to the subtree and read access to userPassword (to lock and
 * unlock hashes and to see whether a re-sent password is already set).
 */
import { Client, ResultCodeError } from 'ldapts';
import {
  TransientDriverError,
  type DriverCustomer,
  type DriverLog,
  type DriverService,
  type DriverTask,
  type DriverUser,
  type ProvisioningDriver,
} from './driver.js';
import { ConfigReader } from './config.js';
import { Directory, normalizeDN, type Attributes } from './ldap-directory.js';
import { desiredPasswordValues } from './ldap-password.js';
import { taskLabel } from './task-label.js';

/**
 * `driver_config` of a service served by the LDAP driver. The catalog stores `bindPassword`
 * encrypted; the engine decrypts it and passes the plaintext here when it creates the driver.
 */
export interface LdapDriverConfig {
  /** ldap:// or ldaps:// URL of the server. */
  url: string;
  /** DN the driver binds as. */
  bindDN: string;
  /** Password of bindDN, already decrypted. */
  bindPassword: string;
  /** Where customer OUs are created, e.g. ou=customers,dc=example,dc=com. */
  baseDN: string;
  /** Naming attribute of user entries: `uid` (default) or `cn` (cn then holds the user name). */
  usersAttribute?: 'uid' | 'cn';
  /** Connect and per-operation timeout; default 10 000 ms. */
  timeoutMs?: number;
}

export const DISABLED_MARKER = 'disabled';
const DEFAULT_TIMEOUT_MS = 10_000;
const OU_CLASSES = ['top', 'organizationalUnit'];
const USER_CLASSES = ['top', 'person', 'organizationalPerson', 'inetOrgPerson'];
const GROUP_CLASSES = ['top', 'groupOfNames'];
/**
 * timeLimitExceeded, busy, unavailable: the server may recover. unwillingToPerform (53) is left
 * out on purpose: OpenLDAP and AD use it for policy refusals that a retry cannot fix.
 */
const TRANSIENT_RESULT_CODES = new Set([3, 51, 52]);
const NETWORK_ERROR = /^(Connection timeout|Connection closed|Socket error|\w+: Operation timed out)/;

export function parseLdapConfig(raw: Record<string, unknown>): LdapDriverConfig {
  const reader = new ConfigReader('ldap', raw);
  reader.allowOnly(['url', 'bindDN', 'bindPassword', 'baseDN', 'usersAttribute', 'timeoutMs']);
  return {
    url: reader.requiredUrl('url', ['ldap:', 'ldaps:']),
    bindDN: reader.requiredString('bindDN'),
    bindPassword: reader.requiredString('bindPassword'),
    baseDN: reader.requiredString('baseDN'),
    usersAttribute: reader.optionalEnum('usersAttribute', ['uid', 'cn'] as const),
    timeoutMs: reader.optionalInteger('timeoutMs', 1, 300_000),
  };
}

/** Escapes an RDN value per RFC 4514. */
export function escapeRdnValue(value: string): string {
  return value
    .replace(/[\\",+;<>=]/g, (char) => `\\${char}`)
    .replace(/^[ #]/, (char) => `\\${char}`)
    .replace(/ $/, '\\ ')
    .replace(/\0/g, '\\00');
}

/** Where a customer's entries live in the directory. */
export class LdapLayout {
  constructor(
    readonly baseDN: string,
    readonly usersAttribute: 'uid' | 'cn' = 'uid',
  ) {}

  /** OU DNs from the root reseller down to the customer itself. */
  ouChain(customer: Pick<DriverCustomer, 'name' | 'ancestry'>): string[] {
    const chain: string[] = [];
    let parent = this.baseDN;
    for (const code of [...customer.ancestry, customer.name]) {
      parent = `ou=${escapeRdnValue(code)},${parent}`;
      chain.push(parent);
    }
    return chain;
  }

  customerDN(customer: Pick<DriverCustomer, 'name' | 'ancestry'>): string {
    return this.ouChain(customer).at(-1)!;
  }

  userDN(customer: Pick<DriverCustomer, 'name' | 'ancestry'>, userName: string): string {
    return `${this.usersAttribute}=${escapeRdnValue(userName)},${this.customerDN(customer)}`;
  }

  groupDN(customer: Pick<DriverCustomer, 'name' | 'ancestry'>, serviceCode: string): string {
    return `cn=${escapeRdnValue(serviceCode)},${this.customerDN(customer)}`;
  }
}

/** Faults of the connection or a busy server are retried; anything the server refused is not. */
export function classifyLdapError(error: unknown): unknown {
  if (error instanceof TransientDriverError) return error;
  if (error instanceof ResultCodeError) {
    return TRANSIENT_RESULT_CODES.has(error.code)
      ? new TransientDriverError(`LDAP server busy or unavailable: ${error.message}`, { cause: error })
      : error;
  }
  const system = error as NodeJS.ErrnoException;
  const isNetwork = typeof system?.code === 'string' && typeof system.syscall === 'string';
  if (error instanceof Error && (isNetwork || NETWORK_ERROR.test(error.message))) {
    return new TransientDriverError(`LDAP connection failed: ${error.message}`, { cause: error });
  }
  return error;
}

function userAttributes(user: DriverUser, usersAttribute: 'uid' | 'cn', current: Attributes): Attributes {
  const fullName = [user.firstName, user.lastName].filter(Boolean).join(' ');
  const otherDescriptions = current.description.filter((value) => value !== DISABLED_MARKER);
  return {
    uid: [user.name],
    // With cn as the naming attribute it must hold the name; displayName still carries the full name.
    cn: [usersAttribute === 'cn' ? user.name : user.displayName || fullName || user.name],
    // sn is mandatory for person.
    sn: [user.lastName || user.name],
    givenName: user.firstName ? [user.firstName] : [],
    displayName: user.displayName ? [user.displayName] : [],
    mail: user.email ? [user.email] : [],
    description: user.enabled ? otherDescriptions : [...otherDescriptions, DISABLED_MARKER],
    userPassword: desiredPasswordValues(current.userPassword, user.password, user.enabled),
  };
}

function required<T>(value: T | undefined, what: string, task: DriverTask): T {
  if (value === undefined) throw new Error(`LDAP: ${task.entity} ${task.action} request ${task.requestId} has no ${what}`);
  return value;
}

export class LdapDriver implements ProvisioningDriver {
  readonly name = 'ldap';
  private readonly layout: LdapLayout;

  constructor(private readonly config: LdapDriverConfig) {
    this.layout = new LdapLayout(config.baseDN, config.usersAttribute);
  }

  async run(task: DriverTask, log: DriverLog): Promise<void> {
    log.info(`LDAP: ${taskLabel(task)}`);
    const timeout = this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const client = new Client({ url: this.config.url, timeout, connectTimeout: timeout });
    try {
      await log.step('ldap bind', () => client.bind(this.config.bindDN, this.config.bindPassword));
      const directory = new Directory(client, log);
      await log.step(`ldap ${task.action} ${task.entity}`, () => this.apply(directory, task, log));
    } catch (error) {
      throw classifyLdapError(error);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private async apply(directory: Directory, task: DriverTask, log: DriverLog): Promise<void> {
    const removing = task.action === 'deprovision' || task.action === 'delete';
    switch (task.entity) {
      case 'customer':
        if (task.action === 'delete') return this.deleteCustomer(directory, task.customer);
        if (task.action === 'deprovision') return this.deprovisionCustomer(directory, task.customer, log);
        return this.ensureCustomer(directory, task.customer);
      case 'user': {
        const user = required(task.user, 'user', task);
        if (task.action === 'delete') return this.deleteUser(directory, task.customer, user);
        if (task.action === 'deprovision') return this.deprovisionUser(directory, task.customer, user);
        return this.ensureUser(directory, task.customer, user);
      }
      case 'customer_service': {
        const service = required(task.service, 'service', task);
        if (removing) {
          await directory.remove(this.layout.groupDN(task.customer, service.code));
          return;
        }
        await this.ensureServiceGroup(directory, task.customer, service, task.members);
        return;
      }
      case 'user_service': {
        const service = required(task.service, 'service', task);
        const user = required(task.user, 'user', task);
        if (removing) return this.removeMember(directory, task.customer, service, user);
        return this.addMember(directory, task.customer, service, user);
      }
      case 'service_instance':
        throw new Error('LDAP: the ldap driver does not provision service instances');
    }
  }

  /** Creates missing reseller OUs above the customer (bare: their own provisioning fills them in). */
  private async ensureParents(directory: Directory, customer: DriverCustomer): Promise<void> {
    for (const [index, dn] of this.layout.ouChain(customer).slice(0, -1).entries()) {
      const code = customer.ancestry[index]!;
      await directory.ensure(dn, { objectClasses: OU_CLASSES, managed: ['ou'], desired: () => ({ ou: [code] }) });
    }
  }

  /** The customer OU with its description, or (describe = false) just its existence. */
  private async ensureCustomerOU(directory: Directory, customer: DriverCustomer, describe: boolean): Promise<void> {
    await this.ensureParents(directory, customer);
    const dn = this.layout.customerDN(customer);
    if (!describe && (await directory.read(dn, ['ou'])) !== null) return;
    await directory.ensure(dn, {
      objectClasses: OU_CLASSES,
      managed: ['ou', 'description'],
      desired: () => ({ ou: [customer.name], description: [customer.fullname] }),
    });
  }

  private ensureCustomer(directory: Directory, customer: DriverCustomer): Promise<void> {
    return this.ensureCustomerOU(directory, customer, true);
  }

  /**
   * Removes the customer's own users and groups. The OU itself goes too unless it still holds
   * OUs of sub-customers, which have their own lifecycle.
   */
  private async deprovisionCustomer(directory: Directory, customer: DriverCustomer, log: DriverLog): Promise<void> {
    const dn = this.layout.customerDN(customer);
    const subCustomers = await directory.children(dn, '(objectClass=organizationalUnit)');
    const own = (await directory.children(dn)).filter((child) => !subCustomers.includes(child));
    for (const child of own) await directory.removeSubtree(child);
    if (subCustomers.length === 0) {
      await directory.remove(dn);
    } else {
      log.info(`LDAP: kept ${dn}: it still holds sub-customer OUs (${subCustomers.length})`);
    }
  }

  private async deleteCustomer(directory: Directory, customer: DriverCustomer): Promise<void> {
    await directory.removeSubtree(this.layout.customerDN(customer));
  }

  private async ensureUser(directory: Directory, customer: DriverCustomer, user: DriverUser): Promise<void> {
    await this.ensureCustomerOU(directory, customer, false);
    const usersAttribute = this.layout.usersAttribute;
    await directory.ensure(this.layout.userDN(customer, user.name), {
      objectClasses: USER_CLASSES,
      managed: ['uid', 'cn', 'sn', 'givenName', 'displayName', 'mail', 'description', 'userPassword'],
      desired: (current) => userAttributes(user, usersAttribute, current),
    });
  }

  /** Takes the user out of the customer's groups and locks the account; the entry stays for a re-provision. */
  private async deprovisionUser(directory: Directory, customer: DriverCustomer, user: DriverUser): Promise<void> {
    await this.removeFromAllGroups(directory, customer, user);
    const dn = this.layout.userDN(customer, user.name);
    if ((await directory.read(dn, ['uid'])) === null) return;
    const disabled = { ...user, enabled: false, password: undefined };
    await this.ensureUser(directory, customer, disabled);
  }

  private async deleteUser(directory: Directory, customer: DriverCustomer, user: DriverUser): Promise<void> {
    await this.removeFromAllGroups(directory, customer, user);
    await directory.remove(this.layout.userDN(customer, user.name));
  }

  private async removeFromAllGroups(directory: Directory, customer: DriverCustomer, user: DriverUser): Promise<void> {
    const customerDN = this.layout.customerDN(customer);
    const userKey = normalizeDN(this.layout.userDN(customer, user.name));
    const groups = await directory.groupsWithMember(customerDN, 'groupOfNames', this.layout.userDN(customer, user.name));
    for (const group of groups) {
      await directory.updateMembers(group, customerDN, (members) => members.filter((dn) => normalizeDN(dn) !== userKey));
    }
  }

  /**
   * The service's group. `members` (user names), when given, is the complete membership;
   * without it, an existing group keeps its members.
   */
  private async ensureServiceGroup(
    directory: Directory,
    customer: DriverCustomer,
    service: DriverService,
    members: string[] | undefined,
  ): Promise<string> {
    await this.ensureCustomerOU(directory, customer, false);
    const dn = this.layout.groupDN(customer, service.code);
    const placeholder = this.layout.customerDN(customer);
    const memberDNs = members?.map((name) => this.layout.userDN(customer, name));
    await directory.ensure(dn, {
      objectClasses: GROUP_CLASSES,
      managed: ['cn', 'description'],
      desired: () => ({ cn: [service.code], description: [service.fullname] }),
      createOnly: { member: memberDNs?.length ? memberDNs : [placeholder] },
    });
    if (memberDNs) await directory.updateMembers(dn, placeholder, () => memberDNs);
    return dn;
  }

  private async addMember(directory: Directory, customer: DriverCustomer, service: DriverService, user: DriverUser) {
    const dn = await this.ensureServiceGroup(directory, customer, service, undefined);
    const userDN = this.layout.userDN(customer, user.name);
    await directory.updateMembers(dn, this.layout.customerDN(customer), (members) => [...members, userDN]);
  }

  private async removeMember(directory: Directory, customer: DriverCustomer, service: DriverService, user: DriverUser) {
    const userKey = normalizeDN(this.layout.userDN(customer, user.name));
    await directory.updateMembers(this.layout.groupDN(customer, service.code), this.layout.customerDN(customer), (members) =>
      members.filter((dn) => normalizeDN(dn) !== userKey),
    );
  }
}

export function createLdapDriver(raw: Record<string, unknown>): LdapDriver {
  return new LdapDriver(parseLdapConfig(raw));
}
