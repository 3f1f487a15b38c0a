import type { TaskDefinition, TaskId, TaskRegistry } from './task.js';

/** Builds the registry from task definitions; each task id appears once. */
export function taskRegistry(tasks: TaskDefinition[]): TaskRegistry {
  const map = new Map<TaskId, TaskDefinition>();
  for (const t of tasks) {
    if (map.has(t.id)) throw new Error(`task ${t.id} registered twice`);
    map.set(t.id, t);
  }
  return map;
}
