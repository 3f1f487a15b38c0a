import type { DriverName, PropertyType } from './schema.js';

export interface CatalogPlan {
  name: string;
  fullname: string;
  sku?: string;
  properties?: Record<string, string>;
}

export interface CatalogProperty {
  scope: 'customer' | 'user' | 'instance';
  name: string;
  displayname: string;
  type?: PropertyType;
  default?: string;
  options?: string[];
  required?: boolean;
}

export interface CatalogService {
  code: string;
  fullname: string;
  description?: string;
  version?: string;
  multiInstance?: boolean;
  hasUserService?: boolean;
  userPlanTag?: 'userpackage' | 'userplan';
  driver?: DriverName;
  sku?: string;
  userSku?: string;
  plans?: CatalogPlan[];
  userPlans?: CatalogPlan[];
  properties?: CatalogProperty[];
}

/**
 * The services of the seed's Appendix B with the plans its examples name
 * (HE "Basic" / "Ex10 Basic", FSS FULL/READ/LIST, HostedAppsandDesktops DESKTOPS/OFFICEAPPS, …).
 * All use the simulated driver until an operator points them at a real target.
 */
export const DEFAULT_CATALOG: CatalogService[] = [
  { code: 'ADSync', fullname: 'AD Sync', hasUserService: false, sku: 'ADSYNC' },
  { code: 'BlackBerry5', fullname: 'BlackBerry 5', userSku: 'BB5-USER' },
  { code: 'Citrix', fullname: 'Citrix', userSku: 'CTX-USER' },
  {
    code: 'CRM2011',
    fullname: 'Customer Relationship Management 2011',
    // seed 002: CRM 2011 is multi-instance; each instance (e.g. "Site01") is one CRM organization.
    multiInstance: true,
    plans: [{ name: 'Standard', fullname: 'Standard', sku: 'CRM-STD' }],
    userPlans: [
      { name: 'FULL', fullname: 'Full', sku: 'CRM-FULL' },
      { name: 'READONLY', fullname: 'Read Only', sku: 'CRM-READ' },
    ],
    properties: [{ scope: 'instance', name: 'OrganizationName', displayname: 'Organization Name' }],
  },
  { code: 'DNS', fullname: 'DNS', hasUserService: false, sku: 'DNS-ZONE', multiInstance: true },
  {
    code: 'FSS',
    fullname: 'File Sharing',
    plans: [
      { name: 'Basic', fullname: 'Basic', sku: 'FSS-BASIC' },
      { name: 'FULL', fullname: 'FULL', sku: 'FSS-FULL' },
    ],
    userPlans: [
      { name: 'FULL', fullname: 'Full', sku: 'FSS-USER-FULL' },
      { name: 'READ', fullname: 'Read', sku: 'FSS-USER-READ' },
      { name: 'LIST', fullname: 'List', sku: 'FSS-USER-LIST' },
    ],
    properties: [
      // seed 002: "one required setting: FileShareServer", the name of an existing file server.
      { scope: 'customer', name: 'FileShareServer', displayname: 'File Share Server', required: true },
      { scope: 'customer', name: 'QuotaMB', displayname: 'Quota (MB)', type: 'limit', default: 'Unlimited' },
    ],
  },
  {
    code: 'HostedAppsandDesktops',
    fullname: 'Hosted Apps and Desktops',
    plans: [
      { name: 'SharedsiteWebInterfacemode', fullname: 'Shared Site Web Interface', sku: 'HAD-SHARED' },
      { name: 'Dedicated', fullname: 'Dedicated', sku: 'HAD-DEDICATED' },
    ],
    userPlans: [
      { name: 'DESKTOPS', fullname: 'Desktops', sku: 'HAD-DESKTOP' },
      { name: 'OFFICEAPPS', fullname: 'Office Apps', sku: 'HAD-OFFICE' },
    ],
  },
  {
    code: 'HE',
    fullname: 'Hosted Exchange',
    version: '2010',
    userPlanTag: 'userpackage',
    plans: [
      { name: 'Basic', fullname: 'Basic', sku: 'HE-ORG-BASIC' },
      { name: 'Standard', fullname: 'Standard', sku: 'HE-ORG-STD' },
    ],
    userPlans: [
      { name: 'Ex10Basic', fullname: 'Ex10 Basic', sku: 'HE-MBX-BASIC', properties: { MailboxQuotaMB: '2048' } },
      { name: 'Ex10Full', fullname: 'Ex10 Full', sku: 'HE-MBX-FULL', properties: { MailboxQuotaMB: '25600' } },
      { name: 'Ex10Premium', fullname: 'Ex10 Premium', sku: 'HE-MBX-PREM', properties: { MailboxQuotaMB: '51200' } },
    ],
    properties: [
      { scope: 'customer', name: 'AcceptedDomains', displayname: 'Accepted Domains' },
      { scope: 'customer', name: 'PublicFolders', displayname: 'Create Public Folders', type: 'boolean', default: 'False' },
      { scope: 'user', name: 'PrimarySmtpAddress', displayname: 'Primary SMTP Address' },
      { scope: 'user', name: 'MailboxQuotaMB', displayname: 'Mailbox Quota (MB)', type: 'limit' },
    ],
  },
  { code: 'LyncHosted', fullname: 'Lync 2010 for Hosters', userSku: 'LYNC-H-USER' },
  { code: 'LyncEnterprise', fullname: 'Lync Enterprise', userSku: 'LYNC-E-USER' },
  {
    code: 'MARCH',
    fullname: 'Mail Archiving',
    plans: [{ name: 'Standard', fullname: 'Standard', sku: 'MARCH-ORG' }],
    userPlans: [{ name: 'Archive', fullname: 'Archive', sku: 'MARCH-USER' }],
    properties: [{ scope: 'customer', name: 'RetentionYears', displayname: 'Retention (years)', type: 'integer', default: '7' }],
  },
  { code: 'SQL2005Hosting', fullname: 'Microsoft SQL Server Hosting', hasUserService: false, multiInstance: true, sku: 'SQL-DB' },
  {
    code: 'MySQL',
    fullname: 'MySQL',
    hasUserService: false,
    multiInstance: true,
    sku: 'MYSQL-DB',
    properties: [
      { scope: 'instance', name: 'DatabaseName', displayname: 'Database Name', required: true },
      { scope: 'instance', name: 'SizeMB', displayname: 'Size (MB)', type: 'limit', default: '1024' },
    ],
  },
  { code: 'OCS', fullname: 'Office Communication Server 2007', userSku: 'OCS-USER' },
  { code: 'Reseller', fullname: 'Reseller', hasUserService: false },
  {
    code: 'SharePoint2010',
    fullname: 'SharePoint 2010',
    // seed 002: "a multi-instance service, similar to the CRM 2011 service"; each instance is a site.
    multiInstance: true,
    plans: [{ name: 'Foundation', fullname: 'Foundation', sku: 'SP-SITE' }],
    userPlans: [{ name: 'Member', fullname: 'Member', sku: 'SP-USER' }],
    properties: [{ scope: 'instance', name: 'SiteUrl', displayname: 'Site URL' }],
  },
  {
    code: 'VirtualMachine',
    fullname: 'Virtual Machine',
    hasUserService: false,
    multiInstance: true,
    plans: [
      { name: 'Small', fullname: 'Small (1 vCPU, 2 GB)', sku: 'VM-S' },
      { name: 'Medium', fullname: 'Medium (2 vCPU, 4 GB)', sku: 'VM-M' },
      { name: 'Large', fullname: 'Large (4 vCPU, 16 GB)', sku: 'VM-L' },
    ],
    properties: [{ scope: 'instance', name: 'Hostname', displayname: 'Host Name', required: true }],
  },
  {
    code: 'WinWebHost',
    fullname: 'Windows Web-Hosting',
    hasUserService: false,
    multiInstance: true,
    sku: 'WEB-SITE',
    properties: [{ scope: 'instance', name: 'SiteName', displayname: 'Site Name', required: true }],
  },
];
