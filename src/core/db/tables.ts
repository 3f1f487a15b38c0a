import type { TenancyTables } from '../../tenancy/schema.js';
import type { CatalogTables } from '../../catalog/schema.js';
import type { ServicesTables } from '../../services/schema.js';
import type { ProvisioningTables } from '../../provisioning/schema.js';
import type { RequestFeedTables } from '../../provisioning/request-feed.schema.js';
import type { LedgerTables } from '../../billing/ledger/schema.js';
import type { BillingTables } from '../../billing/schema.js';
import type { ApiTokenTables } from '../../tenancy/api-tokens/schema.js';
import type { JobsTables } from '../../jobs/schema.js';
import type { ExchangeTables } from '../../services/exchange/schema.js';
import type { ApprovalTables } from '../../approvals/schema.js';
import type { ReportTables } from '../../reports/schema.js';
import type { SessionTables } from '../../tenancy/sessions/schema.js';
import type { InstallTables } from '../install/schema.js';
import type { SignInTables } from '../../tenancy/sign-in/schema.js';
import type { MailTables } from '../../mail/schema.js';

/** Every table, composed from the modules that own them. */
export type Tables = TenancyTables &
  CatalogTables &
  ServicesTables &
  ProvisioningTables &
  RequestFeedTables &
  LedgerTables &
  BillingTables &
  ApiTokenTables &
  JobsTables &
  ReportTables &
  ApprovalTables &
  ExchangeTables &
  InstallTables &
  MailTables &
  SessionTables &
  SignInTables;
