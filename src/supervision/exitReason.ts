// How a child's failed exit reads to its supervisor: `shutdown` (a child supervisor that gave up) or a crash.
import { isSluiceError } from '../core/errors.ts';

/**
 * Whether a rejected `done` means the OTP exit reason `shutdown` rather than a crash: a child
 * supervisor that exceeded its restart intensity rejects with `MAX_RESTARTS_EXCEEDED`. A
 * `transient` child that exits this way is not restarted (OTP restarts transient children only
 * after an abnormal exit, and `shutdown` is not abnormal); a `permanent` one still is. Works
 * across two copies of the package (the guard checks the brand, not the class).
 */
export function isShutdownExit(error: unknown): boolean {
  return isSluiceError(error) && error.code === 'MAX_RESTARTS_EXCEEDED';
}
