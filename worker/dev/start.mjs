// `npm start`: runs Waystation locally in workerd (wrangler dev) on http://localhost:8787 with
// state persisted under .wrangler/state. Creates .dev.vars with a random ADMIN_TOKEN,
// TOKEN_SIGNING_KEY and WEBHOOK_SECRET_KEY the first time (git-ignored), adds a missing one to an
// older file, and prints how to use them. Extra arguments go to wrangler dev.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const devVarsPath = join(root, ".dev.vars");
const port = process.env.PORT ?? "8787";

const vars = readDevVars();
let changed = false;
if (!vars.ADMIN_TOKEN) {
  vars.ADMIN_TOKEN = randomBytes(24).toString("base64url");
  changed = true;
}
if (!vars.TOKEN_SIGNING_KEY) {
  vars.TOKEN_SIGNING_KEY = randomBytes(32).toString("base64url"); // signs scoped tokens (docs/security.md)
  changed = true;
}
if (!vars.WEBHOOK_SECRET_KEY) {
  vars.WEBHOOK_SECRET_KEY = randomBytes(32).toString("base64url"); // seals webhook secrets at rest (docs/webhooks.md)
  changed = true;
}
if (vars.WEBHOOK_ALLOW_PRIVATE === undefined) {
  vars.WEBHOOK_ALLOW_PRIVATE = "1"; // local receivers on 127.0.0.1; never set this when deployed
  changed = true;
}
if (changed) {
  writeFileSync(devVarsPath, Object.entries(vars).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", { mode: 0o600 });
}

const url = `http://localhost:${port}`;
console.log(`
  Waystation is starting on ${url}
  Admin token (from .dev.vars): ${vars.ADMIN_TOKEN}

  Demo (offline todo list on the browser SDK): ${url}/#token=${vars.ADMIN_TOKEN}

  Try it:
    export WS_TOKEN=${vars.ADMIN_TOKEN}
    curl -X PUT ${url}/v1/stations/orders -H "authorization: Bearer $WS_TOKEN"
    curl -X POST ${url}/v1/stations/orders/messages -H "authorization: Bearer $WS_TOKEN" \\
      -H 'content-type: application/json' -d '{"producer":"demo","messages":[{"seq":1,"body":{"todo":"milk"}}]}'
    curl "${url}/v1/stations/orders/messages?from=1" -H "authorization: Bearer $WS_TOKEN"
`);

const wrangler = spawn(
  "wrangler",
  ["dev", "--port", port, "--persist-to", join(root, ".wrangler", "state"), ...process.argv.slice(2)],
  { cwd: root, stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

function readDevVars() {
  if (!existsSync(devVarsPath)) return {};
  const entries = readFileSync(devVarsPath, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#") && line.includes("="))
    .map((line) => {
      const at = line.indexOf("=");
      return [line.slice(0, at).trim(), line.slice(at + 1).trim().replace(/^"(.*)"$/, "$1")];
    });
  return Object.fromEntries(entries);
}
