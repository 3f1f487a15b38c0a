import { useQuery } from '@tanstack/react-query';
import { usersApi } from '../api/console-api';

export const userKeys = {
  detail: (id: number) => ['user', id] as const,
  services: (id: number) => ['user', id, 'services'] as const,
};

export function useUser(id: number) {
  return useQuery({ queryKey: userKeys.detail(id), queryFn: () => usersApi.get(id), enabled: Number.isInteger(id) && id > 0 });
}
