import { addressKey } from './admin-login-throttle.service';

describe('addressKey', () => {
  it('keeps IPv4 as it is, IPv4-mapped IPv6 included', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey(undefined)).toBe('unknown');
  });

  it('counts IPv6 clients by their /64, however the address is written', () => {
    const key = '2001:db8:1:2::';
    for (const ip of [
      '2001:db8:1:2::1',
      '2001:0DB8:0001:0002:ffff:ffff:ffff:ffff',
      '2001:db8:1:2:0:0:192.0.2.1',
      '2001:db8:1:2::1%eth0',
    ])
      expect(addressKey(ip)).toBe(key);
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::');
    expect(addressKey('::1')).toBe('0:0:0:0::');
  });
});
