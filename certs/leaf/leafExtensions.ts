import { createHash } from 'node:crypto';
import {
  bitString,
  boolean,
  ia5Bytes,
  implicitPrimitive,
  octetString,
  oid,
  sequence,
} from '../der/derWriter.js';
import { OID } from '../x509/oids.js';

/**
 * The extensions of a device leaf, each as a complete Extension element
 * (SEQUENCE { extnID, critical TRUE when critical, extnValue OCTET STRING }). The constant ones
 * are built once per template, the SAN per leaf when it names the device (the SKI is written
 * inline in LeafTemplate.buildTbs).
 */

function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/** BasicConstraints, critical, cA FALSE: DER omits the DEFAULT, leaving an empty SEQUENCE. */
export function basicConstraintsEndEntity(): Buffer {
  return extension(OID.basicConstraints, true, sequence());
}

/** KeyUsage digitalSignature only, critical: BIT STRING with bit 0 set, 7 unused bits. */
export function keyUsageDigitalSignature(): Buffer {
  return extension(OID.keyUsage, true, bitString(Uint8Array.of(0x80), 7));
}

/** ExtendedKeyUsage id-kp-clientAuth, not critical (DPS and IoT Hub check it as TLS clients). */
export function extendedKeyUsageClientAuth(): Buffer {
  return extension(OID.extKeyUsage, false, sequence(oid(OID.clientAuth)));
}

/** AuthorityKeyIdentifier { keyIdentifier [0] } naming the issuing CA's key, not critical. */
export function authorityKeyIdentifier(keyId: Uint8Array): Buffer {
  return extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyId)));
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(subjectPublicKey: Uint8Array): Buffer {
  return createHash('sha1').update(subjectPublicKey).digest();
}

/** SubjectAltName with dNSName [2] entries then uniformResourceIdentifier [6] entries. */
export function subjectAltName(dns: readonly string[], uri: readonly string[]): Buffer {
  const names = [
    ...dns.map((d) => implicitPrimitive(2, ia5Bytes(d))),
    ...uri.map((u) => implicitPrimitive(6, ia5Bytes(u))),
  ];
  return extension(OID.subjectAltName, false, sequence(...names));
}
