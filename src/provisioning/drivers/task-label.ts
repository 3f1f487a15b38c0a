import type { DriverTask } from './driver.js';

/** A short human description of a task for log lines, e.g. "provision user User1_BAC of BAC". */
export function taskLabel(task: DriverTask): string {
  const customer = task.customer.name;
  switch (task.entity) {
    case 'customer':
      return `${task.action} customer ${customer}`;
    case 'user':
      return `${task.action} user ${task.user?.name ?? '?'} of ${customer}`;
    case 'customer_service':
    case 'service_instance':
      return `${task.action} ${task.entity.replace('_', ' ')} ${task.service?.code ?? '?'} of ${customer}`;
    case 'user_service':
      return `${task.action} service ${task.service?.code ?? '?'} for user ${task.user?.name ?? '?'} of ${customer}`;
  }
}
