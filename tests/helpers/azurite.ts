/** Moved to providers/azure/emulator/azurite.ts (the `npm run emulate -- azure` product); this re-export keeps older imports working. */
export { AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY, azuriteCredential, startAzurite, type RunningAzurite } from '../../providers/azure/emulator/azurite';
