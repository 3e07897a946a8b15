// The minting lives in @raptorflow/core/auth/dev-token, where the gateway's POST /v1/dev/session uses it too;
// this path stays for the test factories and benchmarks that import it from here.
export { mintDevToken } from '@raptorflow/core/auth/dev-token';
export type { DevTokenOptions } from '@raptorflow/core/auth/dev-token';
