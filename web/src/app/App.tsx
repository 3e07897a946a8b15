import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { createApiClient, unwrap } from '../api/client';
import { isApiError } from '../api/errors';
import type { ConsoleConfig } from '../api/types';
import { ErrorState, Loading } from '../components/States';
import { routes } from './routes';
import { CONFIG_KEY, SessionProvider } from './session';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache(),
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        refetchOnWindowFocus: false,
        // A 4xx will not change by asking again; a network error or a 5xx might.
        retry: (count, err) => count < 2 && !(isApiError(err) && err.status >= 400 && err.status < 500),
      },
    },
  });
}

/** GET /v1/console/config (no sign-in needed): how to sign in and whether models are real. */
function ConfigGate({ children }: { children: (config: ConsoleConfig) => React.ReactNode }) {
  const api = useMemo(() => createApiClient({ getToken: () => null }), []);
  const config = useQuery({
    queryKey: CONFIG_KEY,
    queryFn: () => unwrap(api.GET('/v1/console/config')),
    staleTime: Infinity,
  });
  if (config.isPending)
    return (
      <main id="main" className="app-main boot">
        <Loading label="Starting the console…" />
      </main>
    );
  if (config.error || !config.data)
    return (
      <main id="main" className="app-main boot">
        <h1>RaptorFlow</h1>
        <ErrorState
          title="The console could not reach the API"
          error={config.error}
          onRetry={() => void config.refetch()}
        />
      </main>
    );
  return <>{children(config.data)}</>;
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  const [router] = useState(() => createBrowserRouter(routes));
  return (
    <QueryClientProvider client={queryClient}>
      <ConfigGate>
        {(config) => (
          <SessionProvider config={config}>
            <RouterProvider router={router} />
          </SessionProvider>
        )}
      </ConfigGate>
    </QueryClientProvider>
  );
}
