import type { IpcError } from '../../preload/contract.js';
import { ServiceError, UserError } from '../../api/errors.js';

export function toIpcError(error: unknown): IpcError {
  if (error instanceof ServiceError) return { code: error.code, message: error.message };
  if (error instanceof UserError) return { code: error.code, message: error.message };
  return {
    code: 'internal_error',
    message: 'Something went wrong inside Timebox; try again, and restart it if this keeps happening.',
  };
}
