// What every test file shares: the server (started by run.mjs, or by the file itself when run
// alone), SDK clients, fixtures and small assertions about JWTs and fetched files.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import PocketBase from "pocketbase";

import { SUPERUSER, startServer } from "./server.mjs";

export { SUPERUSER };
export const SUPERUSERS_ID = "pbc_3142635823";
export const JPEG = readFileSync(new URL("../../fixtures/photo.jpg", import.meta.url)); // 640x427

/** The server for this test file: run.mjs's (SDK_BASE_URL) or a fresh one of our own. */
export async function useServer() {
    if (process.env.SDK_BASE_URL) return { url: process.env.SDK_BASE_URL, stop: async () => {} };
    return startServer();
}

/** A new SDK client, logged in as the superuser. */
export async function superuserClient(url) {
    const pb = new PocketBase(url);
    await pb.collection("_superusers").authWithPassword(SUPERUSER.email, SUPERUSER.password);
    return pb;
}

/** A name nobody else in this run uses, e.g. "docs_1a2b3c4d". */
export function unique(prefix) {
    return `${prefix}_${randomBytes(4).toString("hex")}`;
}

/** The claims of a JWT, without verifying it. */
export function jwtClaims(token) {
    const [, payload] = token.split(".");
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}

/** Fetch a URL and keep status, headers and the whole body. */
export async function get(url, init) {
    const res = await fetch(url, init);
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()), url };
}

/** Assert the status of a `get` result; the message shows the request and the start of the answer. */
export function assertStatus(res, status, note = "") {
    const answer = res.body.subarray(0, 200).toString("utf8").replace(/[^\x20-\x7e]/g, ".");
    assert.equal(res.status, status, `${note ? `${note}: ` : ""}GET ${res.url} -> ${res.status} ${answer}`);
}

/** Run an SDK call that must fail; resolves to the ClientResponseError. */
export async function rejects(promise) {
    try {
        await promise;
    } catch (err) {
        return err;
    }
    assert.fail("expected the SDK call to be rejected");
}

/** The failure message for a ClientResponseError, with the request and the answer. */
export function explain(err) {
    return `${err?.status} ${err?.url} ${JSON.stringify(err?.response)}`;
}

/** A base collection with the file fields the suites need; rules as given (default: public). */
export function docsCollection(name, rules = {}) {
    return {
        name,
        type: "base",
        listRule: "",
        viewRule: "",
        createRule: "",
        updateRule: "",
        deleteRule: "",
        ...rules,
        fields: [
            { name: "title", type: "text", required: true },
            { name: "rank", type: "number" },
            { name: "meta", type: "json" },
            { name: "cover", type: "file", maxSelect: 1, mimeTypes: ["image/png", "image/jpeg"] },
            { name: "images", type: "file", maxSelect: 5, thumbs: ["50x50", "0x80", "120x0", "300x300f"] },
            { name: "secret", type: "file", maxSelect: 1, protected: true },
        ],
    };
}
