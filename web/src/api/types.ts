/** Shapes of the console JSON API, as docs/console-api.md and /api/openapi.json describe them. */

export const STATUSES = ['NotProvisioned', 'Requested', 'InProgress', 'Provisioned', 'Failed', 'Pending'] as const;
export type Status = (typeof STATUSES)[number];

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}
export interface Ref {
  id: number;
  name: string;
}
export interface Accepted {
  requestId: number | null;
}

export interface Session {
  user: { id: number; name: string; upn: string; displayName: string; totpEnabled: boolean };
  customer: { id: number; name: string; fullname: string; isReseller: boolean; isProvider: boolean };
  roles: string[];
  permissions: string[];
  csrfToken: string | null;
  idleMinutes: number;
  expiresAt: string;
}
export interface SignIn {
  userName: string;
  password: string;
  totpCode?: string;
  recoveryCode?: string;
}
export interface TotpState {
  enabled: boolean;
  recoveryCodesLeft: number;
}
export interface TotpEnrolment {
  secret: string;
  otpauthUrl: string;
  qrCodeDataUrl: string;
}

export interface TreeNode {
  id: number;
  name: string;
  fullname: string;
  status: Status;
  enabled: boolean;
  isReseller: boolean;
  childrenCount: number;
}
/** One level of the hierarchy: a customer and one page of the customers directly below it. */
export interface TreeLevel {
  parent: TreeNode;
  children: Page<TreeNode>;
}
export interface CustomerRow {
  id: number;
  name: string;
  fullname: string;
  parent: Ref | null;
  status: Status;
  enabled: boolean;
  isReseller: boolean;
  usersCount: number;
  billingId: string | null;
}
export interface PropertyDef {
  name: string;
  displayname: string;
  default?: string;
  required?: boolean;
}
export interface CustomerDetail extends CustomerRow {
  contactName: string;
  contactEmail: string;
  primaryDomain: string;
  accountCode: string | null;
  address1: string | null;
  address2: string | null;
  country: string | null;
  postcode: string | null;
  email: string | null;
  location: Ref | null;
  billToParent: boolean;
  properties: Record<string, string>;
  propertyDefinitions: PropertyDef[];
  psaMapping: PsaMapping;
  childrenCount: number;
  approvalPending: boolean;
  createdAt: string;
  modifiedAt: string;
}
/** The Autotask contract / ConnectWise agreement the PSA sync uses for the customer; null: the sync's rule chooses. */
export interface PsaMapping {
  autotaskContractId: number | null;
  connectwiseAgreementId: number | null;
}
export interface CustomerInput {
  fullname?: string;
  contactName?: string;
  contactEmail?: string;
  primaryDomain?: string;
  billingId?: string | null;
  accountCode?: string | null;
  address1?: string;
  address2?: string;
  country?: string;
  postcode?: string;
  email?: string;
  locationId?: number | null;
  isReseller?: boolean;
  billToParent?: boolean;
  properties?: Record<string, string>;
  psaMapping?: Partial<PsaMapping>;
  parentId?: number;
  name?: string;
}
export interface DeletePreview {
  canDelete: boolean;
  blockers: string[];
  children: number;
  users: number;
  customerServices: number;
  userServices: number;
  effects: string[];
}
export interface CustomerChange {
  customer: CustomerDetail;
  requestId: number | null;
}
export interface ServiceChange {
  id: number;
  occurredAt: string;
  action: string;
  user: Ref | null;
  serviceCode: string | null;
  planCode: string | null;
  instanceName: string | null;
  quantity: string;
  actionedBy: string;
}
export interface Location {
  id: number;
  name: string;
  description: string;
  customerProperties: PropertyDef[];
  additionalProperties: PropertyDef[];
}
export interface ApprovalSubscription {
  target: string;
  service?: string;
  event: string;
  access: string;
}
/** A subscription to set, or (delete) to remove. */
export type ApprovalSubscriptionChange = Omit<ApprovalSubscription, 'access'> & { access?: string; delete?: boolean };
/** What PUT approval-settings takes for one provider: only what is named changes. */
export interface ApprovalProviderChange {
  name: string;
  configuration?: Record<string, string>;
  subscriptions?: ApprovalSubscriptionChange[];
  groups?: {
    name: string;
    description?: string;
    members?: string[];
    configuration?: Record<string, string>;
    subscriptions?: ApprovalSubscriptionChange[];
    delete?: boolean;
  }[];
}
export interface ApprovalProvider {
  name: string;
  description: string;
  configuration: Record<string, string>;
  subscriptions: ApprovalSubscription[];
  /** Only the "Workflow Groups" provider has groups. */
  groups?: {
    name: string;
    description: string;
    configuration: Record<string, string>;
    members: { name: string; displayName: string }[];
    subscriptions: ApprovalSubscription[];
  }[];
}

export interface UserRow {
  id: number;
  name: string;
  upn: string;
  displayName: string;
  customer: Ref;
  status: Status;
  enabled: boolean;
  email: string | null;
  createdAt: string;
}
export interface UserDetail extends UserRow {
  firstName: string;
  lastName: string;
  externalEmail: string | null;
  department: string | null;
  location: string | null;
  changeAtNextLogon: boolean;
  passwordNeverExpires: boolean;
  passwordExpires: string | null;
  accountExpires: string | null;
  properties: Record<string, string>;
  additionalProperties: Record<string, string>;
  roles: string[];
  permissions: string[];
  totpEnabled: boolean;
  lockedUntil: string | null;
  lastLoginAt: string | null;
  modifiedAt: string;
}
export interface UserInput {
  upn?: string;
  firstName?: string | null;
  lastName?: string | null;
  displayName?: string | null;
  externalEmail?: string | null;
  department?: string;
  location?: string;
  accountExpires?: string | null;
  changeAtNextLogon?: boolean;
  passwordNeverExpires?: boolean;
  properties?: Record<string, string>;
  additionalProperties?: Record<string, string>;
  roles?: string[];
}
export interface NewUser extends UserInput {
  name: string;
  password?: string;
}
export interface UserChange {
  user: UserDetail;
  requestId: number | null;
  generatedPassword?: string;
}
export interface Role {
  name: string;
  description: string;
  permissions: string[];
}

export interface Plan {
  id: number;
  name: string;
  fullname: string;
  sku: string | null;
}
export interface CatalogService {
  id: number;
  code: string;
  name: string;
  multiInstance: boolean;
  hasUserService: boolean;
  assigned: boolean;
  packages: Plan[];
  userPlans: Plan[];
}
export interface ServiceRef {
  id: number;
  code: string;
  name: string;
}
export interface CustomerService {
  id: number;
  service: ServiceRef;
  package: Plan | null;
  status: Status;
  enabled: boolean;
  isBilled: boolean;
  approvalPending: boolean;
  userLimit: number | null;
  usersWithService: number;
  userPlans: { plan: Plan; enabled: boolean; userLimit: number | null; used: number }[];
  properties: Record<string, string>;
  instances: { id: number; name: string; status: Status; properties: Record<string, string> }[];
}
export interface CustomerServiceInput {
  serviceId?: number;
  packageId?: number;
  enabled?: boolean;
  userLimit?: number | null;
  isBilled?: boolean;
  properties?: Record<string, string>;
  userPlans?: { planId: number; enabled: boolean; userLimit?: number | null }[];
}
export interface UserService {
  id: number;
  service: ServiceRef;
  userPlan: Plan | null;
  enabled: boolean;
  status: Status;
  properties: Record<string, string>;
  instances: { id: number; name: string }[];
}
export interface UserServiceInput {
  serviceId?: number;
  userPlanIds?: number[];
  properties?: Record<string, string>;
  enabled?: boolean;
  instances?: string[];
}

export const REQUEST_ENTITIES = ['customer', 'user', 'customer_service', 'user_service', 'service_instance'] as const;
export type RequestEntity = (typeof REQUEST_ENTITIES)[number];
export interface RequestRow {
  id: number;
  parentId: number | null;
  rootId: number;
  entity: RequestEntity;
  entityId: number;
  entityName: string | null;
  customer: Ref;
  action: 'provision' | 'update' | 'deprovision' | 'delete';
  status: Status;
  attempts: number;
  requestedBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}
export interface RequestDetail extends RequestRow {
  log: { at: string; level: 'info' | 'warning' | 'verbose' | 'error'; message: string }[];
  steps: { step: string; startedAt: string; durationMs: number }[];
  children: RequestRow[];
}
/** One `event: request` of GET /api/console/requests/events. */
export interface RequestEvent {
  /** The stream's event id (the browser resumes after it when it reconnects). */
  eventId: number;
  id: number;
  rootId: number;
  parentId: number | null;
  customerId: number;
  entity: RequestEntity;
  entityId: number;
  action: RequestRow['action'];
  status: Status;
  at: string;
}

export interface Approval {
  description: string;
  status: 'Pending' | 'Accepted' | 'Rejected';
  requestDate: string;
  resolvedDate: string | null;
  customer: { name: string; fullname: string };
  requestedBy: { name: string; fullname: string; email: string } | null;
  provisioningRequestId: number;
  subscriptions: {
    id: string;
    status: string;
    requestDate: string;
    resolvedDate: string | null;
    reason: string | null;
    user: { name: string; fullname: string; email: string };
  }[];
}
