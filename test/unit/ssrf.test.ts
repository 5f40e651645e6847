// The SSRF guard as a table: every way of writing an address that lands on loopback, a private
// network or a metadata service, in IPv6 and encoded IPv4 forms, judged as the host it reaches.
import assert from 'node:assert/strict';
import { embeddedIPv4, ipv6Bytes, isForbiddenAddress, parseEndpointUrl, resolveTarget, urlPolicy } from '../../activities/webhooks/url-guard.js';
import { testConfig } from '../harness.js';

/** [address, forbidden in live, forbidden in sandbox (private allowed, metadata never)] */
const ADDRESSES: Array<[string, boolean, boolean, string]> = [
  ['::1', true, false, 'IPv6 loopback'],
  ['::', true, false, 'unspecified'],
  ['::ffff:127.0.0.1', true, false, 'IPv4-mapped loopback, dotted'],
  ['::ffff:7f00:1', true, false, 'IPv4-mapped loopback, hex (as the URL parser writes it)'],
  ['::ffff:10.0.0.1', true, false, 'IPv4-mapped private'],
  ['::ffff:a9fe:a9fe', true, true, 'IPv4-mapped metadata, hex'],
  ['::127.0.0.1', true, false, 'IPv4-compatible loopback'],
  ['::7f00:1', true, false, 'IPv4-compatible loopback, hex'],
  ['::169.254.169.254', true, true, 'IPv4-compatible metadata'],
  ['::ffff:0:127.0.0.1', true, false, 'IPv4-translated loopback'],
  ['::ffff:0:a9fe:a9fe', true, true, 'IPv4-translated metadata'],
  ['64:ff9b::127.0.0.1', true, false, 'NAT64 of loopback'],
  ['64:ff9b::a9fe:a9fe', true, true, 'NAT64 of metadata'],
  ['64:ff9b:1::a00:1', true, false, 'local-use NAT64'],
  ['2002:7f00:1::', true, false, '6to4 of loopback'],
  ['2002:a9fe:a9fe::1', true, true, '6to4 of metadata'],
  ['2002:c0a8:101::1', true, false, '6to4 of 192.168.1.1'],
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', true, false, 'Teredo whose client is 127.0.0.1 (stored inverted)'],
  ['2001:0:a9fe:a9fe::1', true, true, 'Teredo whose server is metadata'],
  ['fe80::1', true, true, 'link-local'],
  ['fe80::1%eth0', true, true, 'link-local with a zone'],
  ['fec0::1', true, false, 'site-local (deprecated)'],
  ['fc00::1', true, false, 'unique local'],
  ['fd00::1', true, false, 'unique local'],
  ['fd00:ec2::254', true, true, 'AWS metadata over IPv6'],
  ['100::1', true, false, 'discard-only'],
  ['ff02::1', true, false, 'multicast'],
  ['0.0.0.0', true, false, 'this host'],
  ['127.0.0.1', true, false, 'loopback'],
  ['169.254.169.254', true, true, 'metadata'],
  ['100.100.100.200', true, true, 'Alibaba metadata'],
  ['2130706433', true, true, 'not an address at all (decimal form is normalized by the URL parser first)'],
  // Public: the same forms carrying a public IPv4 pass.
  ['8.8.8.8', false, false, 'public IPv4'],
  ['::ffff:8.8.8.8', false, false, 'IPv4-mapped public'],
  ['64:ff9b::808:808', false, false, 'NAT64 of public'],
  ['2002:808:808::1', false, false, '6to4 of public'],
  ['2606:4700:4700::1111', false, false, 'public IPv6'],
];

/** URLs with encoded hosts: what the URL parser turns them into, and that live refuses them. */
const URLS: Array<[string, string]> = [
  ['https://2130706433/hook', '127.0.0.1'],
  ['https://0x7f.1/hook', '127.0.0.1'],
  ['https://017700000001/hook', '127.0.0.1'],
  ['https://0177.0.0.1/hook', '127.0.0.1'],
  ['https://127.1/hook', '127.0.0.1'],
  ['https://0xa9fea9fe/hook', '169.254.169.254'],
  ['https://0.0.0.0/hook', '0.0.0.0'],
  ['https://[::1]/hook', '::1'],
  ['https://[::ffff:127.0.0.1]/hook', '::ffff:7f00:1'],
  ['https://[::ffff:7f00:1]/hook', '::ffff:7f00:1'],
  ['https://[fe80::1]/hook', 'fe80::1'],
  ['https://[fc00::1]/hook', 'fc00::1'],
  ['https://[64:ff9b::7f00:1]/hook', '64:ff9b::7f00:1'],
  ['https://[2002:7f00:1::]/hook', '2002:7f00:1::'],
  ['https://localhost/hook', 'a name resolving to loopback'],
];

describe('SSRF guard: encoded and IPv6 forms', () => {
  it('parses IPv6 with compression, a dotted tail and a zone into 16 bytes', () => {
    assert.deepEqual(ipv6Bytes('::ffff:127.0.0.1'), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    assert.deepEqual(ipv6Bytes('fe80::1%eth0'), [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(ipv6Bytes('1:2:3:4:5:6:7:8'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    assert.equal(ipv6Bytes('127.0.0.1'), null);
    assert.deepEqual(embeddedIPv4('2001:0:4136:e378:8000:63bf:3fff:fdd2'), ['65.54.227.120', '192.0.2.45']);
  });

  for (const [address, live, sandbox, what] of ADDRESSES) {
    it(`${address} (${what}): live ${live ? 'refuses' : 'allows'}, sandbox ${sandbox ? 'refuses' : 'allows'}`, () => {
      assert.equal(isForbiddenAddress(address), live);
      assert.equal(isForbiddenAddress(address, { allowPrivate: true }), sandbox);
    });
  }

  for (const [raw, host] of URLS) {
    it(`live refuses ${raw} (${host})`, async () => {
      const live = urlPolicy('live', testConfig());
      const url = parseEndpointUrl(raw, live);
      if (!host.includes(' ')) assert.equal(url.hostname.replace(/^\[|\]$/g, ''), host);
      await assert.rejects(resolveTarget(url, live), (err: Error & { code?: string }) => err.code === 'url_forbidden');
    });
  }

  it('sandbox still refuses the metadata service however it is written', async () => {
    const sandbox = urlPolicy('sandbox', testConfig());
    for (const raw of ['http://0xa9fea9fe/', 'http://2852039166/', 'http://[::ffff:169.254.169.254]/', 'http://[64:ff9b::a9fe:a9fe]/', 'http://[2002:a9fe:a9fe::]/', 'http://[fe80::1]/']) {
      await assert.rejects(resolveTarget(parseEndpointUrl(raw, sandbox), sandbox), (err: Error & { code?: string }) => err.code === 'url_forbidden', raw);
    }
  });
});
