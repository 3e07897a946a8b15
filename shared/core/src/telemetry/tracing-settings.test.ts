import { ConfigError, parseSettings } from '../config/settings';
import { startTracing } from './tracing';

function problemsOf(env: Record<string, string>): string {
  try {
    parseSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('tracing settings', () => {
  it('are off by default: no endpoint, every new trace kept when on, a 5 s export batch', () => {
    expect(parseSettings({}).tracing).toEqual({
      endpoint: undefined,
      headers: {},
      serviceName: undefined,
      sampleRatio: 1,
      exportDelayMs: 5_000,
    });
  });

  it('read the OTLP endpoint (trailing slashes dropped), percent-decoded headers, a name and a ratio', () => {
    const t = parseSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com:4318//',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D, x-tenant = acme',
      OTEL_SERVICE_NAME: 'gw-eu',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '250',
    }).tracing;
    expect(t).toEqual({
      endpoint: 'https://otel.example.com:4318',
      headers: { 'x-api-key': 'abc==', 'x-tenant': 'acme' },
      serviceName: 'gw-eu',
      sampleRatio: 0.25,
      exportDelayMs: 250,
    });
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'not a url'],
    ['OTEL_EXPORTER_OTLP_HEADERS', 'no-equals-sign'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ['OTEL_BSP_SCHEDULE_DELAY', '0'],
  ])('refuse %s=%s, naming the variable', (name, value) => {
    expect(problemsOf({ [name]: value })).toContain(name);
  });

  it('never put a header value in the configuration error', () => {
    const message = problemsOf({
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret-value-123,broken',
    });
    expect(message).toContain('OTEL_EXPORTER_OTLP_HEADERS');
    expect(message).not.toContain('secret-value-123');
  });
});

describe('startTracing', () => {
  it('starts nothing without an endpoint, and its shutdown is harmless', async () => {
    const handle = startTracing('gateway', parseSettings({}).tracing);
    expect(handle.enabled).toBe(false);
    await expect(handle.shutdown()).resolves.toBeUndefined();
  });
});
