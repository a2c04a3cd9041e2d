// The bindings `env` from cloudflare:workers has in these tests: the Worker's own.
type WorkerEnv = import("../../worker/env").Env;
declare namespace Cloudflare {
  interface Env extends WorkerEnv {}
}
