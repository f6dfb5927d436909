/** Moved to providers/aws/emulator/control-plane.ts (the `npm run emulate -- aws` product); this re-export keeps older imports working. */
export { startControlPlane, type CapturedRequest, type ControlPlane, type ControlPlaneOptions } from '../../../../providers/aws/emulator/control-plane';
