/**
 * Whether the tests run in CI, where a missing tool (etcd, chromium) must fail rather than skip.
 * Read strictly: only `CI=true` or `CI=1` count, so `CI=false` or `CI=0` never turns a skip into
 * a failure, nor a stray value a failure into a skip. `.ci/run` sets `CI=true` itself.
 */
export function runningInCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}
