/** Permissions a role can grant. "API Access" and "Service Provider Developer" are the seed's names. */
export const PERMISSIONS = [
  'API Access',
  'Service Provider Developer',
  'Console Access',
  'Manage Subtree',
  'Manage Customers',
  'Manage Users',
  'Manage Services',
  'Manage Catalog',
  'Manage Billing',
  'Manage Jobs',
  'View Reports',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE = {
  providerAdmin: 'Provider Administrator',
  resellerAdmin: 'Reseller Administrator',
  customerAdmin: 'Customer Administrator',
  developer: 'Service Provider Developer',
  user: 'User',
} as const;

/** Built-in roles. "Manage Subtree" widens an admin's reach from its own customer to its descendants. */
export const BUILTIN_ROLES: Record<string, { description: string; permissions: Permission[] }> = {
  [ROLE.providerAdmin]: { description: 'Full control of the whole platform', permissions: [...PERMISSIONS] },
  [ROLE.resellerAdmin]: {
    description: 'Manages the reseller and every customer below it',
    permissions: ['API Access', 'Console Access', 'Manage Subtree', 'Manage Customers', 'Manage Users', 'Manage Services', 'View Reports'],
  },
  [ROLE.customerAdmin]: {
    description: 'Manages its own customer: users and services',
    permissions: ['API Access', 'Console Access', 'Manage Users', 'Manage Services', 'View Reports'],
  },
  [ROLE.developer]: { description: 'May create External API tokens', permissions: ['Service Provider Developer'] },
  [ROLE.user]: { description: 'An end user with no administrative rights', permissions: [] },
};
