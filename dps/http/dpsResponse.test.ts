import { describe, expect, it } from 'vitest';
import { dpsErrorFromResponse, withoutSecrets } from './dpsResponse.js';

const TOKEN = 'SharedAccessSignature sr=h&sig=abc%2Bdef%3D&se=1900000000&skn=owner';
const KEY = 'c2VjcmV0LWtleS1vZi10aGUtc3RhdGlvbg==';

describe('withoutSecrets', () => {
  it('cuts SAS tokens, signatures and literal keys (plain or URL-encoded)', () => {
    const text = `echo: ${TOKEN} | key ${KEY} | ${encodeURIComponent(KEY)} | sig=zzz&se=1`;
    const clean = withoutSecrets(text, [KEY]);
    expect(clean).not.toContain('abc%2Bdef');
    expect(clean).not.toContain('zzz');
    expect(clean).not.toContain(KEY);
    expect(clean).not.toContain(encodeURIComponent(KEY));
    expect(clean).toContain('echo:');
  });
});

describe('dpsErrorFromResponse', () => {
  it('takes errorCode from x-ms-error-code when the body is not JSON', () => {
    const err = dpsErrorFromResponse(
      'DPS_NOT_FOUND',
      'GET /x',
      { status: 404, headers: { 'x-ms-error-code': '404201' }, body: Buffer.from('<html>') },
      [],
    );
    expect(err).toMatchObject({ code: 'DPS_NOT_FOUND', status: 404, dpsErrorCode: 404201 });
    expect(err.detail).toBe('GET /x: HTTP 404');
  });

  it('prefers the body and truncates a long message', () => {
    const body = { errorCode: '429001', trackingId: 't', message: 'x'.repeat(1000) };
    const err = dpsErrorFromResponse(
      'DPS_THROTTLED',
      'POST /y',
      { status: 429, headers: { 'x-ms-error-code': '1' }, body: Buffer.from(JSON.stringify(body)) },
      [],
    );
    expect(err).toMatchObject({ dpsErrorCode: 429001, trackingId: 't', retryAfterMs: undefined });
    expect(err.detail?.length).toBeLessThan(400);
  });

  it('cuts a secret before truncating, so no part of it survives the cut', () => {
    // The key straddles the 300-character limit: all of it but its last character would fit.
    const message = `${'x'.repeat(301 - KEY.length)}${KEY}`;
    const err = dpsErrorFromResponse(
      'DPS_UNAUTHORIZED',
      'GET /z',
      { status: 401, headers: {}, body: Buffer.from(JSON.stringify({ message })) },
      [KEY],
    );
    expect(err.detail).not.toContain(KEY.slice(0, 16));
  });

  it('names where a redirect points, without the signature it may carry', () => {
    const location = 'https://portal.example/login?next=%2F&sig=abcdef1234';
    const err = dpsErrorFromResponse(
      'DPS_UNEXPECTED_STATUS',
      'POST /enrollments',
      { status: 302, headers: { location }, body: Buffer.from('<html>moved</html>') },
      [],
    );
    expect(err.detail).toBe(
      'POST /enrollments: HTTP 302, redirected to https://portal.example/login?next=%2F&sig=[redacted]',
    );
  });
});
