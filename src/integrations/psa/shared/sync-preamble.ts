import { groupByCustomer, parseCustomersFilter, type SyncScope } from './sync-model.js';
import { InvalidBillingPeriod, type SyncLineOptions, type SyncPeriod, type SyncQuantitySource } from './sync-source.js';

/**
 * The job's secrets with every required one present, or undefined after reporting why not
 * (seeds 003/004: an unreadable secret store and a missing secret each have a code of their own).
 */
export function requiredSecrets(
  open: () => Record<string, string>,
  names: readonly string[],
  report: { unreadable(e: unknown): void; missing(name: string): void },
): Record<string, string> | undefined {
  let secrets: Record<string, string>;
  try {
    secrets = open();
  } catch (e) {
    report.unreadable(e);
    return undefined;
  }
  const missing = names.find((name) => typeof secrets[name] !== 'string' || secrets[name].trim() === '');
  if (missing !== undefined) {
    report.missing(missing);
    return undefined;
  }
  return secrets;
}

/** The bill period the BillingPeriod parameter names, or undefined after reporting why not. */
export async function syncPeriod(
  source: SyncQuantitySource,
  billingPeriod: string,
  now: Date,
  report: { invalid(): void; failed(e: unknown): void },
): Promise<SyncPeriod | undefined> {
  try {
    return await source.resolvePeriod(billingPeriod, now);
  } catch (e) {
    if (e instanceof InvalidBillingPeriod) report.invalid();
    else report.failed(e);
    return undefined;
  }
}

/**
 * The period's customers the CustomersFilter parameter selects and the SKUs Tenantry manages, or
 * undefined after reporting a failed read (AT03 / CW03).
 */
export async function syncCustomers(
  source: SyncQuantitySource,
  period: SyncPeriod,
  customersFilter: unknown,
  options: SyncLineOptions,
  report: { failed(e: unknown): void },
): Promise<SyncScope | undefined> {
  try {
    const customers = groupByCustomer(await source.lines(period, parseCustomersFilter(customersFilter), options));
    const managedSkus = new Set((await source.managedSkus(period)).map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
    return { customers, managedSkus };
  } catch (e) {
    report.failed(e);
    return undefined;
  }
}
