import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

// Testing Library cleans up by itself only with vitest's globals on; this suite imports what it uses.
afterEach(() => {
  cleanup();
  // Node-environment files (the SSE client's) have no storage.
  if (typeof sessionStorage !== 'undefined') sessionStorage.clear();
  if (typeof localStorage !== 'undefined') localStorage.clear();
});
