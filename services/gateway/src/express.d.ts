import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import type { VerifiedUser } from './auth/jwt-verifier';

declare global {
  namespace Express {
    interface Request {
      auth?: VerifiedUser;
      workspace?: { id: string; role: WorkspaceRole };
    }
  }
}

export {};
