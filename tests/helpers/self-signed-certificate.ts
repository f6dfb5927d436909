/** Moved to providers/azure/emulator/certificate.ts (the `npm run emulate -- azure` product); this re-export keeps older imports working. */
export { selfSignedCertificate, type SelfSignedCertificate } from '../../providers/azure/emulator/certificate';
