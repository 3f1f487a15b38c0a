import type { Executor } from '../core/db/database.js';

export function activeUserServices(db: Executor, customerId: number) {
  return db
    .selectFrom('user_services')
    .innerJoin('users', 'users.id', 'user_services.user_id')
    .innerJoin('customer_services', 'customer_services.id', 'user_services.customer_service_id')
    .select(['user_services.id', 'user_services.user_id', 'user_services.customer_service_id', 'customer_services.service_id'])
    .where('users.customer_id', '=', customerId)
    .where('users.deleted_at', 'is', null)
    .where('user_services.status', '<>', 'NotProvisioned')
    .orderBy('user_services.id')
    .execute();
}

export function activeUsers(db: Executor, customerId: number) {
  return db
    .selectFrom('users')
    .select('id')
    .where('customer_id', '=', customerId)
    .where('deleted_at', 'is', null)
    .where('status', '<>', 'NotProvisioned')
    .orderBy('id')
    .execute();
}

export function usersOf(db: Executor, customerId: number) {
  return db.selectFrom('users').select('id').where('customer_id', '=', customerId).where('deleted_at', 'is', null).orderBy('id').execute();
}

export function activeCustomerServices(db: Executor, customerId: number) {
  return db
    .selectFrom('customer_services')
    .select('id')
    .where('customer_id', '=', customerId)
    .where('status', '<>', 'NotProvisioned')
    .orderBy('id')
    .execute();
}

export function activeServicesOfUser(db: Executor, userId: number) {
  return db
    .selectFrom('user_services')
    .innerJoin('customer_services', 'customer_services.id', 'user_services.customer_service_id')
    .select(['user_services.id', 'user_services.user_id', 'user_services.customer_service_id', 'customer_services.service_id'])
    .where('user_services.user_id', '=', userId)
    .where('user_services.status', '<>', 'NotProvisioned')
    .orderBy('user_services.id')
    .execute();
}
