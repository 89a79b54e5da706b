/**
 * Test material only: the forms a careless writer could leave a secret in, and the search for
 * them in files and text. Shared by the CA folder check (certs/ca/noClearKeyMaterial.test.ts) and
 * the whole-station check (test/reliability/noSecretsAtRest.test.ts).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CA_FILES } from '../ca/caFiles.js';
import { CA_KEY_CONTEXT } from '../ca/caStore.js';
import { openSecret, parseSealedSecret, type KeyWrapper } from '../custody/secretBox.js';

/** One form of one secret: what it is, and the bytes that must not be found. */
export interface Needle {
  what: string;
  bytes: Buffer;
}

/**
 * Every encoding of `secret` to look for: raw bytes, hex (either case), and base64 and base64url
 * from each of 3 byte offsets, so the secret is found inside a longer blob at any alignment.
 */
export function secretEncodings(what: string, secret: Buffer): Needle[] {
  const needles: Needle[] = [
    { what: `${what} (binary)`, bytes: secret },
    { what: `${what} (hex)`, bytes: Buffer.from(secret.toString('hex')) },
    { what: `${what} (HEX)`, bytes: Buffer.from(secret.toString('hex').toUpperCase()) },
  ];
  for (let offset = 0; offset < 3; offset++) {
    const tail = secret.subarray(offset);
    // Dropping the last 4 characters removes the part that depends on what follows the secret.
    for (const kind of ['base64', 'base64url'] as const) {
      const text = tail.toString(kind).replace(/=+$/, '').slice(0, -4);
      needles.push({ what: `${what} (${kind}, offset ${offset})`, bytes: Buffer.from(text) });
    }
  }
  return needles;
}

/**
 * The needles for an EC private key: its PKCS#8 DER and its private scalar (`d`), each in every
 * encoding. A PEM body is the base64 of the DER, so the offset-0 base64 needle finds it.
 */
export function keyNeedles(what: string, key: KeyObject): Needle[] {
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const d = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
  // A short scalar would make needles that random bytes could match.
  if (d.length < 32) throw new RangeError(`${what}: a private scalar of ${d.length} bytes`);
  return [...secretEncodings(`${what} PKCS#8`, pkcs8), ...secretEncodings(`${what} scalar`, d)];
}

/** A CA private key as sealed in `caDir`, opened with `wrapper`: the key the checks look for. */
export async function unsealedCaKey(
  caDir: string,
  which: 'issuingKey' | 'rootKey',
  wrapper: KeyWrapper,
): Promise<KeyObject> {
  const sealed = parseSealedSecret(readFileSync(join(caDir, CA_FILES[which]), 'utf8'));
  const pkcs8 = await openSecret(sealed, wrapper, CA_KEY_CONTEXT[which]);
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

/** Every file under `dir`, however deep. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** What of `needles` (and any PRIVATE KEY PEM header) `content` holds, each as `<where>: <what>`. */
export function findNeedles(where: string, content: Buffer, needles: readonly Needle[]): string[] {
  const found: string[] = [];
  if (content.includes('PRIVATE KEY')) found.push(`${where}: a PRIVATE KEY PEM header`);
  for (const needle of needles) {
    if (content.includes(needle.bytes)) found.push(`${where}: ${needle.what}`);
  }
  return found;
}

/** What was found in which file under `dir`; empty means clean. */
export function findKeyMaterial(dir: string, needles: readonly Needle[]): string[] {
  return filesUnder(dir).flatMap((file) => findNeedles(file, readFileSync(file), needles));
}

/** Something that was written somewhere and must hold no secret. */
export interface Haystack {
  where: string;
  content: Buffer;
}

/** Every file under `dir`, read now. */
export function filesNow(dir: string, label: string): Haystack[] {
  return filesUnder(dir).map((file) => ({
    where: `${label} ${file}`,
    content: readFileSync(file),
  }));
}

/** Text as it would be with line breaks and JSON/CSV escapes of them taken out (a PEM body). */
function unwrapped(content: Buffer): Buffer {
  return Buffer.from(content.toString('latin1').replace(/\r|\n|\\r|\\n/g, ''), 'latin1');
}

/** Every needle found in every haystack, as `<where>: <what>`. */
export function search(haystacks: readonly Haystack[], needles: readonly Needle[]): string[] {
  return haystacks.flatMap(({ where, content }) => {
    const found = findNeedles(where, content, needles);
    if (found.length > 0) return found;
    return findNeedles(`${where} (line breaks removed)`, unwrapped(content), needles);
  });
}

/** A base64 key (as DPS and the CLI take it): its bytes and its text, in every encoding. */
export function base64KeyNeedles(what: string, base64: string): Needle[] {
  return [
    ...secretEncodings(what, Buffer.from(base64, 'base64')),
    ...secretEncodings(`${what} text`, Buffer.from(base64)),
  ];
}
