/** Whether dist/ is current: its build stamp is newer than every source file. */
export function distIsCurrent(): boolean;
