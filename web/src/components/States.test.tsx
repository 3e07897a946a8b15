import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ApiError, errorFromResponse } from '../api/errors';
import { RunsPage } from '../pages/Runs';
import { apiError, fakeGateway, json, renderWithApp, workspace, WS_ID } from '../test/harness';
import { ErrorState } from './States';

describe('error state', () => {
  it("shows the API's error.message and the correlation_id from the body", async () => {
    const err = await errorFromResponse(
      apiError(503, 'service_unavailable', 'The database is not answering; try again shortly', 'corr-503'),
    );
    render(<ErrorState error={err} />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('The database is not answering; try again shortly');
    expect(screen.getByTestId('correlation-id').textContent).toBe('corr-503');
    expect(alert.textContent).toContain('service_unavailable');
  });

  it('falls back to the X-Correlation-Id header when the body is not the API’s (a proxy’s 502 page)', async () => {
    const err = await errorFromResponse(
      new Response('<html>Bad gateway</html>', { status: 502, headers: { 'x-correlation-id': 'edge-1' } }),
    );
    expect(err).toBeInstanceOf(ApiError);
    render(<ErrorState error={err} />);
    expect(screen.getByRole('alert').textContent).toContain('The server answered 502');
    expect(screen.getByTestId('correlation-id').textContent).toBe('edge-1');
  });

  it('a screen whose data fails to load says why, with the correlation id, and offers to try again', async () => {
    const gw = fakeGateway({
      'GET /v1/agents': () => json({ data: [] }),
      'GET /v1/agent-runs': () => apiError(500, 'internal_error', 'Something failed on our side', 'corr-500'),
    });
    renderWithApp(<RunsPage />, { gateway: gw, workspace: workspace('member'), path: `/w/${WS_ID}/runs` });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Something failed on our side');
    expect(alert.textContent).toContain('corr-500');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });

  it('an empty list says so', async () => {
    const gw = fakeGateway({
      'GET /v1/agents': () => json({ data: [] }),
      'GET /v1/agent-runs': () => json({ data: [], next_cursor: null }),
    });
    renderWithApp(<RunsPage />, { gateway: gw, workspace: workspace('member'), path: `/w/${WS_ID}/runs` });
    expect(await screen.findByText(/No run yet/)).toBeTruthy();
  });
});
