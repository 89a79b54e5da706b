import { checkEkCertificate } from '../../../certs/tpm/ekCertificate.js';
import { ekSha256, registrationIdFromEk } from '../../../certs/tpm/ekRegistrationId.js';
import { parseEkPublic, type EkPublic } from '../../../certs/tpm/tpmPublic.js';
import type { DeviceSession } from '../../../firmware-bridge/session/deviceSession.js';
import type { EndorsementEvidence } from '../lineTypes.js';
import { RunError } from '../runErrors.js';
import { endorsementKeyElsewhereText } from '../runRecorder.js';
import { registrationIdFromTemplate } from '../steps/validateDevice.js';
import type { AttestInput, Attestor } from './attestor.js';

interface EndorsementReading {
  ek: EkPublic;
  evidence: EndorsementEvidence;
}

/**
 * One GET_EK per run: read in the validate step (the registration ID may derive from the EK) and
 * taken by attest. Keyed by session, as the attestor is shared by every slot. A slot keeps its
 * session across runs, so a run that ends between the two leaves its reading here: the next
 * run's validate drops it before reading, and attest never falls back to an older one.
 */
const readings = new WeakMap<DeviceSession, EndorsementReading>();

/**
 * TPM: the device's TPM holds an endorsement key (EK) made at the TPM maker's factory. The station
 * reads its public part and certificate (GET_EK), checks that the key is an EK, that the
 * certificate names that key and chains to a TPM vendor CA the station trusts, and enrolls the
 * EK in DPS. Nothing secret crosses the link or reaches the store.
 *
 * There is no challenge in verify: an EK only decrypts, it never signs. Possession is proven to
 * DPS itself when the device registers: DPS encrypts its answer to the EK (TPM2
 * ActivateCredential), so a device that merely copied another TPM's EK cannot register.
 */
export const tpmAttestor: Attestor = {
  mode: 'tpm',
  x509: false,
  missingCapability: (info) => (info.features.tpm ? undefined : 'a TPM'),
  async registrationId(input) {
    const { session, profile, info } = input;
    readings.delete(session);
    const reading = await readEndorsement(input);
    readings.set(session, reading);
    // `{ek}` is the ID the Azure IoT SDKs derive from the EK (base32 of its SHA-256), so a device
    // whose firmware registers with the SDK's default ID matches its enrollment.
    return registrationIdFromTemplate(profile, info, false, {
      ek: registrationIdFromEk(reading.ek.bytes),
    });
  },
  async attest({ session }) {
    const reading = readings.get(session);
    readings.delete(session);
    // The run calls registrationId in validate, always: without its reading this is a bug.
    if (reading === undefined) throw new Error('tpm attest ran without the EK read in validate');
    return {
      attestation: {
        type: 'tpm',
        tpm: { endorsementKey: Buffer.from(reading.ek.bytes).toString('base64') },
      },
      evidence: { endorsement: reading.evidence },
      challenge: null,
      dispose: () => undefined,
    };
  },
};

/**
 * Reads the EK and checks it. Only an RSA EK is enrolled: DPS proves a TPM's possession of its EK
 * with TPM2 MakeCredential to an RSA EK (RSA-OAEP, the EK the device SDKs use at handle
 * 0x81010001), so a TPM enrolled by an ECC EK would pass here and never register. That EK is
 * template L-1's, and the SDKs hash its public area: any other RSA EK is refused too.
 */
async function readEndorsement(
  input: Pick<AttestInput, 'session' | 'profile' | 'info' | 'request' | 'services' | 'onEvidence'>,
): Promise<EndorsementReading> {
  const { session, profile, info, request, services } = input;
  const { ekPublic, ekCertificate } = await session.request('GET_EK', {}, request);
  const ek = parseEkPublic(ekPublic);
  // Kept from here on, filled in as the checks pass: a refused TPM is on record by its EK.
  const evidence: EndorsementEvidence = {
    ekSha256: ekSha256(ekPublic),
    ekType: ek.type,
    notes: [],
  };
  input.onEvidence({ endorsement: evidence });
  if (ek.type !== 'rsa') {
    throw new RunError(
      'RUN_EK_NOT_RSA',
      `GET_EK answered an ${ek.type.toUpperCase()} ${ek.curve ?? ''} endorsement key`,
    );
  }
  // The SDK enrolls by the L-1 EK only: any other RSA EK would pass here and never register.
  if (ek.templateL1Differences.length > 0) {
    throw new RunError(
      'RUN_EK_NOT_L1',
      `GET_EK answered an RSA endorsement key that is not template L-1: ${ek.templateL1Differences.join('; ')}`,
    );
  }
  const elsewhere = services.endorsementKeyElsewhere?.({
    ekSha256: evidence.ekSha256,
    serialNumber: info.serialNumber,
    model: info.model,
  });
  if (elsewhere !== undefined) {
    throw new RunError(
      'RUN_EK_ON_ANOTHER_DEVICE',
      endorsementKeyElsewhereText(evidence.ekSha256, elsewhere),
    );
  }
  if (ekCertificate === undefined) {
    if (profile.attestation.ekCertificate !== 'if-present') {
      throw new RunError('RUN_EK_CERTIFICATE_MISSING', 'GET_EK answered without a certificate');
    }
    evidence.notes.push('the TPM holds no EK certificate; the profile accepts that');
    return { ek, evidence };
  }
  if (services.ekTrust === undefined || services.ekTrust.size === 0) {
    throw new RunError(
      'RUN_EK_TRUST_UNAVAILABLE',
      services.ekTrust === undefined
        ? 'the line was started without a TPM vendor trust store'
        : 'the TPM vendor trust store holds no certificates',
    );
  }
  const { notes, ...certificate } = await checkEkCertificate({
    ek,
    certificateDer: ekCertificate,
    trust: services.ekTrust,
  });
  evidence.certificate = certificate;
  evidence.notes.push(...notes);
  return { ek, evidence };
}
