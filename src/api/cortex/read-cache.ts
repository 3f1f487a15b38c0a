import type { Caller } from '../../tenancy/caller.js';
import type { CortexRequest } from './xml.js';

/**
 * Answers of FIND/GET on the embedded database, kept until the next committed write.
 *
 * Integrations (AD sync tools, monitoring) poll the same documents again and again, and PGlite
 * serves one query at a time. On the embedded engine every write goes through this process,
 * so the database's write clock says exactly when an answer may have changed. An entry is
 * tagged with the clock read *before* it was computed: a write that lands while it is being
 * computed makes it stale at once. Reports are never cached (their SQL may depend on the time).
 */
export class CortexReadCache {
  private readonly entries = new Map<string, { at: number; xml: string; size: number }>();
  private size = 0;

  /** Bounded by entries and by total size (request plus answer, in UTF-16 code units), oldest out first. */
  constructor(
    private readonly clock: () => number,
    private readonly maxEntries = 2000,
    private readonly maxChars = 16 * 1024 * 1024,
  ) {}

  lookup(caller: Caller, body: string): string | undefined {
    const hit = this.entries.get(keyOf(caller, body));
    return hit && hit.at === this.clock() ? hit.xml : undefined;
  }

  /** The clock to tag an answer with: read it before computing the answer. */
  now(): number {
    return this.clock();
  }

  store(caller: Caller, body: string, request: CortexRequest, at: number, xml: string): void {
    if (!cacheable(request)) return;
    const key = keyOf(caller, body);
    const size = key.length + xml.length;
    if (size > this.maxChars / 8) return;
    this.evict(key);
    while (this.entries.size >= this.maxEntries || this.size + size > this.maxChars) this.evict(this.entries.keys().next().value!);
    this.entries.set(key, { at, xml, size });
    this.size += size;
  }

  private evict(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.size -= old.size;
  }
}

function cacheable(request: CortexRequest): boolean {
  return (request.action === 'FIND' || request.action === 'GET') && !request.entities.some((e) => e.tag === 'report');
}

/** Who asks matters as much as what: the same document answers differently per subtree and rights. */
function keyOf(caller: Caller, body: string): string {
  return `${caller.userId ?? ''}\u0000${caller.customerPath}\u0000${caller.subtree}\u0000${[...caller.permissions].sort().join(',')}\u0000${body}`;
}
