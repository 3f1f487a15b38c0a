/** Provisioning statuses, exactly the seed's words (002, "Provisioning Status"). */
export const PROVISIONING_STATUSES = ['NotProvisioned', 'Requested', 'InProgress', 'Provisioned', 'Failed', 'Pending'] as const;
export type ProvisioningStatus = (typeof PROVISIONING_STATUSES)[number];

/** Accepts the seed's spellings case-insensitively (e.g. "Notprovisioned" in the de-provision example). */
export function parseStatus(value: string): ProvisioningStatus | undefined {
  const wanted = value.trim().toLowerCase();
  return PROVISIONING_STATUSES.find((s) => s.toLowerCase() === wanted);
}

export const STATUS_CHECK = `check (status in (${PROVISIONING_STATUSES.map((s) => `'${s}'`).join(', ')}))`;
