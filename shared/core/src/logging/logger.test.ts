import { Writable } from 'node:stream';
import { runWithContext } from '../context/request-context';
import { buildLogger } from './logger';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const logger = buildLogger({ logLevel: 'info', logFormat: 'json', environment: 'test' }, stream);
  return { logger, lines };
}

describe('buildLogger', () => {
  it('stamps every line with the ids of the current context', () => {
    const { logger, lines } = capture();
    runWithContext({ correlationId: 'c-1', userId: 'u-1', workspaceId: 'w-1', jobId: 'j-1' }, () =>
      logger.info('inside'),
    );
    logger.info('outside');
    expect(lines[0]).toMatchObject({
      msg: 'inside',
      correlation_id: 'c-1',
      user_id: 'u-1',
      workspace_id: 'w-1',
      job_id: 'j-1',
    });
    expect(lines[1]).not.toHaveProperty('correlation_id');
  });

  it('redacts authorization headers, cookies, passwords, tokens and API keys', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=1' } },
        password: 'hunter2',
        body: { token: 't0k3n', apiKey: 'k3y', api_key: 'k3y2', password: 'p' },
        settings: { secretKey: 's3cr3t', anthropicApiKey: 'sk-ant-x' },
      },
      'secrets',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['abc.def.ghi', 'sid=1', 'hunter2', 't0k3n', 'k3y', 's3cr3t', 'sk-ant-x'])
      expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('scrubs credentials out of error messages and stacks', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('connect failed for postgres://app:pa55word@db:5432/x') }, 'boom');
    const err = lines[0]!.err as { message: string; stack: string };
    expect(err.message).toBe('connect failed for postgres://app:[redacted]@db:5432/x');
    expect(err.stack).not.toContain('pa55word');
  });
});
