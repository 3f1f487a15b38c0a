/**
 * Idempotent LDAP operations over one bound ldapts Client: "make this entry look like that",
 * "delete if present", "change group members". Each tolerates the state a crashed or concurrent
 * earlier attempt may have left (entry already there, already gone, member already added).
 * Log lines name entries and attribute names only, never values: userPassword is managed here.
 */
import {
  AlreadyExistsError,
  AndFilter,
  Attribute,
  Change,
  EqualityFilter,
  NoSuchAttributeError,
  NoSuchObjectError,
  TypeOrValueExistsError,
  type Client,
  type Entry,
} from 'ldapts';
import type { DriverLog } from './driver.js';

/** Attribute name → values. An empty array means "must not be present". */
export type Attributes = Record<string, string[]>;

export type EnsureResult = 'created' | 'updated' | 'unchanged';

export interface EnsureSpec {
  objectClasses: string[];
  /** Attributes this driver owns on the entry; others are left alone. */
  managed: string[];
  /** The wanted values of the managed attributes, given their current values (empty when new). */
  desired(current: Attributes): Attributes;
  /** Unmanaged attributes set only when the entry is created (e.g. a group's first member). */
  createOnly?: Attributes;
}

/** Concurrent writers can make a value-level change collide; re-reading and retrying settles it. */
const MEMBER_UPDATE_ATTEMPTS = 5;

function values(entry: Entry, name: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const raw = key === undefined ? [] : entry[key];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value)));
}

function sameValues(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}

/** DNs compare case-insensitively here: every RDN attribute this driver writes (ou, uid, cn) ignores case. */
export function normalizeDN(dn: string): string {
  return dn
    .replace(/\s*,\s*/g, ',')
    .replace(/\s*=\s*/g, '=')
    .toLowerCase();
}

export class Directory {
  constructor(
    private readonly client: Client,
    private readonly log: DriverLog,
  ) {}

  /** The entry's attributes (names as requested), or null when it does not exist. */
  async read(dn: string, attributes: string[]): Promise<Attributes | null> {
    try {
      const { searchEntries } = await this.client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes });
      const entry = searchEntries[0];
      if (!entry) return null;
      return Object.fromEntries(attributes.map((name) => [name, values(entry, name)]));
    } catch (error) {
      if (error instanceof NoSuchObjectError) return null;
      throw error;
    }
  }

  /** Creates the entry, or modifies its managed attributes to match; no write when nothing differs. */
  async ensure(dn: string, spec: EnsureSpec): Promise<EnsureResult> {
    const current = await this.read(dn, ['objectClass', ...spec.managed]);
    if (current === null) {
      const created = await this.add(dn, spec);
      if (created) return 'created';
    }
    return this.update(dn, spec, current ?? (await this.read(dn, ['objectClass', ...spec.managed])));
  }

  /** False when a concurrent or earlier attempt created the entry first. */
  private async add(dn: string, spec: EnsureSpec): Promise<boolean> {
    const emptyCurrent = Object.fromEntries(spec.managed.map((name) => [name, [] as string[]]));
    const attributes = Object.entries({ ...spec.desired(emptyCurrent), ...spec.createOnly }).filter(([, list]) => list.length > 0);
    try {
      await this.client.add(dn, { objectClass: spec.objectClasses, ...Object.fromEntries(attributes) });
    } catch (error) {
      if (error instanceof AlreadyExistsError) return false;
      throw error;
    }
    this.log.info(`LDAP: added ${dn}`);
    return true;
  }

  private async update(dn: string, spec: EnsureSpec, current: Attributes | null): Promise<EnsureResult> {
    if (current === null) throw new Error(`LDAP: ${dn} vanished while it was being provisioned`);
    const changes: Change[] = [];
    const missingClasses = spec.objectClasses.filter((oc) => !current.objectClass.some((have) => have.toLowerCase() === oc.toLowerCase()));
    if (missingClasses.length > 0) changes.push(addValues('objectClass', missingClasses));
    const desired = spec.desired(current);
    const changed = spec.managed.filter((name) => !sameValues(desired[name] ?? [], current[name] ?? []));
    for (const name of changed) {
      const wanted = desired[name] ?? [];
      changes.push(
        wanted.length > 0
          ? new Change({ operation: 'replace', modification: new Attribute({ type: name, values: wanted }) })
          : new Change({ operation: 'delete', modification: new Attribute({ type: name }) }),
      );
    }
    if (changes.length === 0) {
      this.log.verbose(`LDAP: ${dn} already up to date`);
      return 'unchanged';
    }
    await this.client.modify(dn, changes);
    const names = [...(missingClasses.length > 0 ? ['objectClass'] : []), ...changed];
    this.log.info(`LDAP: updated ${dn} (${names.join(', ')})`);
    return 'updated';
  }

  /** Deletes one entry; already gone is success. */
  async remove(dn: string): Promise<boolean> {
    try {
      await this.client.del(dn);
    } catch (error) {
      if (error instanceof NoSuchObjectError) return false;
      throw error;
    }
    this.log.info(`LDAP: deleted ${dn}`);
    return true;
  }

  /** DNs one level below `dn` whose entries match `filter` (none when `dn` does not exist). */
  async children(dn: string, filter: string | AndFilter | EqualityFilter = '(objectClass=*)'): Promise<string[]> {
    return this.search(dn, 'one', filter);
  }

  /** Deletes `dn` and everything below it, leaves first; already gone is success. */
  async removeSubtree(dn: string): Promise<number> {
    const dns = await this.search(dn, 'sub', '(objectClass=*)');
    const deepestFirst = dns.sort((a, b) => depth(b) - depth(a));
    let deleted = 0;
    for (const entry of deepestFirst) {
      if (await this.remove(entry)) deleted += 1;
    }
    return deleted;
  }

  /** Groups of class `objectClass` directly under `parentDN` that list `memberDN`. */
  async groupsWithMember(parentDN: string, objectClass: string, memberDN: string): Promise<string[]> {
    return this.children(
      parentDN,
      new AndFilter({
        filters: [
          new EqualityFilter({ attribute: 'objectClass', value: objectClass }),
          new EqualityFilter({ attribute: 'member', value: memberDN }),
        ],
      }),
    );
  }

  /**
   * Sets a groupOfNames' members to `target(current real members)`. groupOfNames requires at
   * least one member, so an empty group holds `placeholder` instead, and the placeholder goes
   * as soon as a real member arrives. Uses value-level add/delete in one atomic modify rather
   * than a replace, so concurrent tasks adding different users to one group do not undo each
   * other; a collision (value already added or removed meanwhile) is re-read and retried.
   * Returns false when the group does not exist.
   */
  async updateMembers(groupDN: string, placeholder: string, target: (current: string[]) => string[]): Promise<boolean> {
    const placeholderKey = normalizeDN(placeholder);
    for (let attempt = 1; ; attempt++) {
      const group = await this.read(groupDN, ['member']);
      if (group === null) return false;
      const current = group.member;
      const real = current.filter((dn) => normalizeDN(dn) !== placeholderKey);
      const wanted = dedupe(target(real));
      const final = wanted.length > 0 ? wanted : [placeholder];
      const currentKeys = new Set(current.map(normalizeDN));
      const finalKeys = new Set(final.map(normalizeDN));
      const toAdd = final.filter((dn) => !currentKeys.has(normalizeDN(dn)));
      const toRemove = current.filter((dn) => !finalKeys.has(normalizeDN(dn)));
      if (toAdd.length === 0 && toRemove.length === 0) {
        this.log.verbose(`LDAP: members of ${groupDN} already up to date`);
        return true;
      }
      const changes = [
        ...(toAdd.length > 0 ? [addValues('member', toAdd)] : []),
        ...(toRemove.length > 0 ? [deleteValues('member', toRemove)] : []),
      ];
      try {
        await this.client.modify(groupDN, changes);
      } catch (error) {
        const collided = error instanceof TypeOrValueExistsError || error instanceof NoSuchAttributeError;
        if (collided && attempt < MEMBER_UPDATE_ATTEMPTS) continue;
        throw error;
      }
      this.log.info(`LDAP: members of ${groupDN}: ${describeMemberChange(toAdd, toRemove)}`);
      return true;
    }
  }

  private async search(dn: string, scope: 'one' | 'sub', filter: string | AndFilter | EqualityFilter) {
    try {
      const { searchEntries } = await this.client.search(dn, { scope, filter, attributes: ['1.1'] });
      return searchEntries.map((entry) => entry.dn);
    } catch (error) {
      if (error instanceof NoSuchObjectError) return [];
      throw error;
    }
  }
}

function addValues(type: string, list: string[]): Change {
  return new Change({ operation: 'add', modification: new Attribute({ type, values: list }) });
}

function deleteValues(type: string, list: string[]): Change {
  return new Change({ operation: 'delete', modification: new Attribute({ type, values: list }) });
}

function dedupe(dns: string[]): string[] {
  const seen = new Set<string>();
  return dns.filter((dn) => {
    const key = normalizeDN(dn);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Number of RDNs, counting only unescaped commas. */
function depth(dn: string): number {
  return dn.split(/(?<!\\),/).length;
}

function rdnOf(dn: string): string {
  return dn.split(/(?<!\\),/)[0] ?? dn;
}

function describeMemberChange(added: string[], removed: string[]): string {
  const parts = [
    ...(added.length > 0 ? [`added ${added.map(rdnOf).join(', ')}`] : []),
    ...(removed.length > 0 ? [`removed ${removed.map(rdnOf).join(', ')}`] : []),
  ];
  return parts.join('; ');
}
