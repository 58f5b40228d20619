// `npm test`: start one fresh server (SDK_TARGET=satchel by default, or pocketbase), run every
// test/*.test.mjs against it with node's test runner, stop the server, exit with the tests' status.

import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { startServer } from "./lib/server.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const files = process.argv.slice(2).length
    ? process.argv.slice(2)
    : readdirSync(`${here}test`).filter((f) => f.endsWith(".test.mjs")).sort().map((f) => `test/${f}`);

const server = await startServer();
console.log(`# SDK suite against ${server.name} at ${server.url}`);
let code = 1;
try {
    const runner = spawn(process.execPath, ["--test", "--test-reporter=spec", "--test-timeout=60000", ...files], {
        cwd: here,
        stdio: "inherit",
        env: { ...process.env, SDK_BASE_URL: server.url },
    });
    code = await new Promise((resolve) => runner.once("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))));
} finally {
    await server.stop();
}
process.exit(code);
