/** Every console endpoint the pages use, one typed function each (docs/console-api.md). */
import { http, type Query } from './client';
import type {
  Accepted,
  Approval,
  CatalogService,
  CustomerChange,
  CustomerDetail,
  CustomerInput,
  CustomerRow,
  CustomerService,
  CustomerServiceInput,
  DeletePreview,
  Location,
  ApprovalProvider,
  ApprovalProviderChange,
  NewUser,
  Page,
  RequestDetail,
  RequestRow,
  Role,
  ServiceChange,
  Session,
  SignIn,
  TotpEnrolment,
  TotpState,
  TreeLevel,
  UserChange,
  UserDetail,
  UserInput,
  UserRow,
  UserService,
  UserServiceInput,
} from './types';

export const sessionApi = {
  get: () => http.get<Session>('/session'),
  signIn: (body: SignIn) => http.post<Session>('/session', body),
  signOut: () => http.delete<void>('/session'),
};

export const accountApi = {
  totp: () => http.get<TotpState>('/account/totp'),
  enrolTotp: () => http.post<TotpEnrolment>('/account/totp/enrol', {}),
  verifyTotp: (code: string) => http.post<{ enabled: true; recoveryCodes: string[] }>('/account/totp/verify', { code }),
  newRecoveryCodes: (code: string) => http.post<{ recoveryCodes: string[] }>('/account/totp/recovery-codes', { code }),
  disableTotp: (code: string) => http.delete<void>('/account/totp', { code }),
};

export const customersApi = {
  treeLevel: (q: { parentId?: number; page?: number; pageSize?: number }) => http.get<TreeLevel>('/customers/tree', q),
  list: (q: Query) => http.get<Page<CustomerRow>>('/customers', q),
  get: (id: number) => http.get<CustomerDetail>(`/customers/${id}`),
  create: (body: CustomerInput) => http.post<CustomerChange>('/customers', body),
  update: (id: number, body: CustomerInput) => http.patch<CustomerChange>(`/customers/${id}`, body),
  action: (id: number, action: 'disable' | 'enable' | 'deprovision' | 'reprovision') =>
    http.post<CustomerChange>(`/customers/${id}/${action}`),
  deletePreview: (id: number) => http.get<DeletePreview>(`/customers/${id}/delete-preview`),
  delete: (id: number) => http.delete<Accepted>(`/customers/${id}`),
  users: (id: number, q: Query) => http.get<Page<UserRow>>(`/customers/${id}/users`, q),
  locations: (id: number) => http.get<{ current: { id: number; name: string } | null; items: Location[] }>(`/customers/${id}/locations`),
  approvalSettings: (id: number) => http.get<{ providers: ApprovalProvider[] }>(`/customers/${id}/approval-settings`),
  setApprovalSettings: (id: number, providers: ApprovalProviderChange[]) =>
    http.put<{ providers: ApprovalProvider[] }>(`/customers/${id}/approval-settings`, { providers }),
  serviceChanges: (id: number, limit = 50) => http.get<{ items: ServiceChange[] }>(`/customers/${id}/service-changes`, { limit }),
};

export const usersApi = {
  list: (q: Query) => http.get<Page<UserRow>>('/users', q),
  get: (id: number) => http.get<UserDetail>(`/users/${id}`),
  create: (customerId: number, body: NewUser) => http.post<UserChange>(`/customers/${customerId}/users`, body),
  update: (id: number, body: UserInput) => http.patch<UserChange>(`/users/${id}`, body),
  roles: () => http.get<{ items: Role[] }>('/roles'),
  setRoles: (id: number, roles: string[]) =>
    http.put<{ roles: string[]; permissions: string[]; requestId: number | null }>(`/users/${id}/roles`, { roles }),
  resetPassword: (id: number, body: { password?: string; changeAtNextLogon?: boolean }) =>
    http.post<{ password?: string; requestId: number | null }>(`/users/${id}/reset-password`, body),
  action: (id: number, action: 'disable' | 'enable' | 'deprovision' | 'reprovision') => http.post<UserChange>(`/users/${id}/${action}`),
  delete: (id: number) => http.delete<Accepted>(`/users/${id}`),
  disableTotp: (id: number) => http.delete<void>(`/users/${id}/totp`),
};

export const servicesApi = {
  ofCustomer: (customerId: number) => http.get<{ items: CustomerService[] }>(`/customers/${customerId}/services`),
  catalog: (customerId: number) => http.get<{ items: CatalogService[] }>(`/customers/${customerId}/services/catalog`),
  assign: (customerId: number, body: CustomerServiceInput & { serviceId: number }) =>
    http.post<{ customerService: CustomerService; requestId: number | null }>(`/customers/${customerId}/services`, body),
  change: (customerId: number, serviceId: number, body: CustomerServiceInput) =>
    http.patch<{ customerService: CustomerService; requestId: number | null }>(`/customers/${customerId}/services/${serviceId}`, body),
  remove: (customerId: number, serviceId: number) => http.delete<Accepted>(`/customers/${customerId}/services/${serviceId}`),
  addInstance: (customerId: number, serviceId: number, body: { name: string; properties?: Record<string, string> }) =>
    http.post<Accepted>(`/customers/${customerId}/services/${serviceId}/instances`, body),
  removeInstance: (customerId: number, serviceId: number, name: string) =>
    http.delete<Accepted>(`/customers/${customerId}/services/${serviceId}/instances/${encodeURIComponent(name)}`),
  ofUser: (userId: number) => http.get<{ items: UserService[] }>(`/users/${userId}/services`),
  assignToUser: (userId: number, body: UserServiceInput & { serviceId: number }) =>
    http.post<{ items: UserService[]; requestId: number | null }>(`/users/${userId}/services`, body),
  changeForUser: (userId: number, serviceId: number, body: UserServiceInput) =>
    http.patch<{ items: UserService[]; requestId: number | null }>(`/users/${userId}/services/${serviceId}`, body),
  removeFromUser: (userId: number, serviceId: number) => http.delete<Accepted>(`/users/${userId}/services/${serviceId}`),
};

export const requestsApi = {
  list: (q: Query) => http.get<Page<RequestRow>>('/requests', q),
  get: (id: number) => http.get<RequestDetail>(`/requests/${id}`),
  retry: (id: number) => http.post<{ retried: number[] }>(`/requests/${id}/retry`),
  eventsUrl: '/api/console/requests/events',
};

export const approvalsApi = {
  list: (q: Query = {}) => http.get<{ items: Approval[] }>('/approvals', q),
  decide: (subscriptionId: string, decision: 'approve' | 'reject', comment?: string) =>
    http.post<Accepted>(`/approvals/${encodeURIComponent(subscriptionId)}/${decision}`, comment ? { comment } : {}),
};
