import type { RouteObject } from 'react-router';
import { RequireSession } from '../session/RequireSession';
import { SignInPage } from '../session/SignInPage';
import { NotFoundPage } from '../ui/NotFoundPage';
import { AppLayout } from './AppLayout';
import { RouteError } from './RouteError';
import { Navigate } from 'react-router';

/** A page module loaded when first visited, so the first screen downloads only the frame. */
const page = <K extends string>(load: () => Promise<Record<K, React.ComponentType>>, name: K): Pick<RouteObject, 'lazy'> => ({
  lazy: async () => ({ Component: (await load())[name] }),
});

export const routes: RouteObject[] = [
  { path: '/sign-in', element: <SignInPage />, errorElement: <RouteError /> },
  {
    path: '/',
    element: (
      <RequireSession>
        <AppLayout />
      </RequireSession>
    ),
    errorElement: <RouteError />,
    children: [
      {
        // Errors inside a page keep the navigation around them.
        errorElement: <RouteError />,
        children: [
          { index: true, element: <Navigate to="/customers" replace /> },
          { path: 'customers', ...page(() => import('../customers/CustomersPage'), 'CustomersPage') },
          { path: 'customers/:id', ...page(() => import('../customers/CustomerDetailPage'), 'CustomerDetailPage') },
          { path: 'customers/:id/edit', ...page(() => import('../customers/CustomerEditPage'), 'CustomerEditPage') },
          { path: 'users', ...page(() => import('../users/UsersPage'), 'UsersPage') },
          { path: 'users/:id', ...page(() => import('../users/UserDetailPage'), 'UserDetailPage') },
          { path: 'requests', ...page(() => import('../requests/RequestsPage'), 'RequestsPage') },
          { path: 'requests/:id', ...page(() => import('../requests/RequestDetailPage'), 'RequestDetailPage') },
          { path: 'approvals', ...page(() => import('../approvals/ApprovalsPage'), 'ApprovalsPage') },
          { path: 'account', ...page(() => import('../account/AccountPage'), 'AccountPage') },
          { path: 'account/password', ...page(() => import('../account/PasswordPage'), 'PasswordPage') },
          { path: 'account/two-factor', ...page(() => import('../account/TwoFactorPage'), 'TwoFactorPage') },
          { path: 'jobs/*', ...page(() => import('../jobs/JobsPage'), 'JobsPage') },
          { path: 'billing/*', ...page(() => import('../billing/BillingPage'), 'BillingPage') },
          { path: '*', element: <NotFoundPage /> },
        ],
      },
    ],
  },
];
