import { MantineProvider, Modal, Notification, createTheme, type CSSVariablesResolver } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { retryDelay, worthRetrying } from '../api/client';
import { routes } from './routes';

const theme = createTheme({
  primaryColor: 'indigo',
  // Darker shades than the defaults keep text on light backgrounds above WCAG AA contrast.
  primaryShade: 8,
  components: {
    // Mantine's close buttons are icons only: give them words for screen readers.
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Dismiss this message' } } }),
  },
});

/** Mantine's "dimmed" grey (3.3:1 on white) and error red (3.3:1) are too light for WCAG AA's 4.5:1: darker shades. */
const contrast: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-placeholder': 'var(--mantine-color-gray-6)',
    '--mantine-color-error': 'var(--mantine-color-red-9)',
  },
  dark: {},
});

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A 4xx answer (not found, not allowed, bad filter) will not change by asking again; "busy" will.
      retry: worthRetrying,
      retryDelay,
      refetchOnWindowFocus: false,
    },
  },
});

const router = createBrowserRouter(routes);

export function App() {
  return (
    <MantineProvider theme={theme} defaultColorScheme="light" cssVariablesResolver={contrast}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </MantineProvider>
  );
}
