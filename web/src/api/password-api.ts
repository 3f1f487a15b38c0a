/** The Password page's endpoints: the own password and External API tokens (docs/console-api.md). */
import { http } from './client';

export interface ApiToken {
  id: number;
  userId: number;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export const passwordApi = {
  change: (currentPassword: string, newPassword: string) =>
    http.post<{ requestId: number | null }>('/account/password', { currentPassword, newPassword }),
  tokens: () => http.get<{ tokens: ApiToken[] }>('/tokens'),
  generateToken: (label: string, expiresAt: string | null) =>
    http.post<ApiToken & { token: string }>('/tokens', { label, ...(expiresAt ? { expiresAt } : {}) }),
  deleteToken: (id: number) => http.delete<void>(`/tokens/${id}`),
};
