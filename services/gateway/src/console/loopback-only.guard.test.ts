import { isLoopbackAddress, isLoopbackHost, loopbackRefusal } from './loopback-only.guard';

const request = (remoteAddress: string | undefined, headers: Record<string, string> = {}) => ({
  socket: { remoteAddress },
  headers: { host: '127.0.0.1:8000', ...headers },
});

describe('the development session answers only this machine', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:127.0.0.1', true],
    ['10.0.0.1', false],
    ['192.168.1.20', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    ['128.0.0.1', false],
    ['1127.0.0.1', false],
    ['', false],
    [undefined, false],
  ])('peer %s → loopback %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });

  it.each([
    ['localhost:8000', true],
    ['LOCALHOST', true],
    ['console.localhost:5173', true],
    ['127.0.0.1', true],
    ['[::1]:8000', true],
    ['raptorflow.example.com', false],
    ['localhost.evil.com', false],
    ['127.0.0.1.nip.io', false],
    ['', false],
    [undefined, false],
  ])('Host %s → loopback %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it('accepts a direct local request, from a local page or none', () => {
    expect(loopbackRefusal(request('127.0.0.1'))).toBeUndefined();
    expect(loopbackRefusal(request('::1', { origin: 'http://localhost:5173' }))).toBeUndefined();
  });

  it('decides by the TCP peer, never by what a header claims', () => {
    expect(loopbackRefusal(request('203.0.113.7', { 'x-forwarded-for': '127.0.0.1' }))).toMatch(
      /not on this machine/,
    );
  });

  it('refuses a local peer that forwards for someone else (a proxy on this machine)', () => {
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip'])
      expect(loopbackRefusal(request('127.0.0.1', { [header]: '127.0.0.1' }))).toMatch(/proxy/);
  });

  it('refuses a page of another site that rebound its name to 127.0.0.1', () => {
    expect(loopbackRefusal(request('127.0.0.1', { host: 'evil.example:8000' }))).toMatch(/Host/);
    expect(loopbackRefusal(request('127.0.0.1', { origin: 'https://evil.example' }))).toMatch(/page/);
    expect(loopbackRefusal(request('127.0.0.1', { origin: 'null' }))).toMatch(/page/);
  });
});
