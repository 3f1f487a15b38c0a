import type { Config } from './config.js';
import type { Database, DB } from './db/database.js';
import type { SecretBox } from './crypto.js';
import type { Logger } from './logger.js';
import type { Customer } from '../tenancy/customer.service.js';

/** What every part of a running Tenantry process shares. */
export interface AppContext {
  config: Config;
  database: Database;
  db: DB;
  secrets: SecretBox;
  logger: Logger;
  provider: Customer;
}
